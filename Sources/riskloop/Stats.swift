import ArgumentParser
import RiskStore

extension RiskLoop {
    struct Stats: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Summarise the database: events, labels known week by week, models, decisions.",
            discussion: """
                'labels known' counts events by their label as it stood at each week's end: what a \
                retraining job that night could have learnt from. Superseded versions count once, \
                as their latest outcome.
                """)

        @OptionGroup var store: StoreOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let statistics = try await CLIError.mapping { try await store.open().statistics() }
            if output.json {
                try output.printJSON(statistics)
            } else {
                print(Self.render(statistics, path: store.shown))
            }
        }

        static func render(_ s: StoreStatistics, path: String) -> String {
            var lines = ["\(path)"]
            lines.append(
                "  events      \(s.events.grouped) from \(s.customers.grouped) customers, \(s.firstEventAt ?? "-") to \(s.lastEventAt ?? "-")"
            )
            lines.append(
                "              " + s.eventsByKind.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value.grouped)" }.joined(separator: ", ")
            )
            lines.append(
                "  labels      \(s.labelVersions.grouped) versions on \(s.labelledEvents.grouped) events; latest says "
                    + "fraud \((s.latestLabelsByOutcome["fraud"] ?? 0).grouped), genuine \((s.latestLabelsByOutcome["genuine"] ?? 0).grouped)"
            )
            lines.append("  models      \(s.models.grouped)   decisions \(s.decisions.grouped)   audit entries \(s.auditEntries.grouped)")
            if !s.labelsKnownByDate.isEmpty {
                lines.append("")
                lines.append("  labels known at            fraud    genuine")
                for known in s.labelsKnownByDate {
                    lines.append(
                        "  " + known.asOf.padding(toLength: 22, withPad: " ", startingAt: 0)
                            + String(format: "%10d %10d", known.fraud, known.genuine))
                }
            }
            return lines.joined(separator: "\n")
        }
    }
}
