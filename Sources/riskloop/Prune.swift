import ArgumentParser
import Foundation
import RiskContract
import RiskEngine
import RiskStore

extension RiskLoop {
    struct Prune: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove events older than the retention period, with their decisions and label versions.",
            discussion: """
                Removes the events that occurred more than --keep-days before --as-of (default: \
                400 days before now), with their decisions and label versions, oldest first, \
                10,000 events per transaction; the run is written to the audit log (store.prune). \
                On PostgreSQL, a whole month before the cutoff is removed by dropping its \
                partitions (events and decisions are partitioned by the event's month). \
                --dry-run only counts.

                Never removed: the model registry, the audit log, API keys, policies and retraining \
                cycles; and the events of the training window that a registered model's lineage \
                names, unless that model is retired. A period shorter than the live champion's or \
                shadow's longest feature window plus its label delay is refused (exit 64), naming \
                the feature. `riskloop serve --retention-days N` does the same every hour.
                """)

        @Option(help: ArgumentHelp("Days of events to keep (default 400).", valueName: "N"))
        var keepDays: Double = Retention.defaultKeepDays

        @Option(help: ArgumentHelp("Count back from this instant (RFC 3339 or YYYY-MM-DD; default now).", valueName: "date"))
        var asOf: String?

        @Flag(help: "Count what would be removed; remove nothing.")
        var dryRun = false

        @OptionGroup var store: StoreOptions
        @OptionGroup var output: OutputOptions

        func validate() throws {
            if let asOf, Train.parseInstant(asOf) == nil { throw ValidationError("--as-of: '\(asOf)' is not RFC 3339 or YYYY-MM-DD") }
            guard keepDays > 0, keepDays <= Retention.maximumKeepDays else {
                throw ValidationError("--keep-days must be a number of days above 0 and at most \(Int(Retention.maximumKeepDays))")
            }
        }

        func run() async throws {
            let database = try await store.open()
            let asOf = asOf.flatMap(Train.parseInstant) ?? Timestamp(millisecondsSinceEpoch: Int64(Date().timeIntervalSince1970 * 1000))
            let report = try await CLIError.mapping {
                try await Retention(store: database, keepDays: keepDays).run(asOf: asOf, dryRun: dryRun, actor: RiskLoop.Keys.actor)
            }
            if output.json {
                try output.printJSON(report)
                return
            }
            let verb = dryRun ? "would remove" : "removed"
            print(
                "\(store.shown): \(verb) \(report.events.grouped) events, \(report.decisions.grouped) decisions and "
                    + "\(report.labelVersions.grouped) label versions that occurred before \(report.cutoff.rfc3339)"
                    + (dryRun ? "" : " in \(report.batches) transactions")
                    + (report.partitionsDropped > 0 ? " (\(report.partitionsDropped) months by dropping their partitions)" : ""))
            for window in report.kept {
                print("  kept \(window.from.rfc3339) to \(window.to.rfc3339): \(window.reason)")
            }
        }
    }
}
