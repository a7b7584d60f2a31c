import ArgumentParser
import Foundation
import RiskContract
import RiskEngine
import RiskStore

extension RiskLoop {
    struct Cases: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Work the analysts' review queue from a terminal.",
            discussion: """
                Every `review` decision the service logs opens a case, and so does a step-up the \
                service reports as failed or abandoned (POST /v1/events/{id}/outcome). Resolving a \
                case as fraud or genuine stores a label version (source analyst, you as the actor, \
                written to the audit log) that the feedback loop learns from; a case is resolved \
                once. The same queue is served at /v1/cases to keys of the analyst role.
                """,
            subcommands: [List.self, Show.self, Resolve.self])
    }
}

extension RiskLoop.Cases {
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List cases, oldest opened first.")

        @Option(help: "open, resolved or all.")
        var status: StatusChoice = .open

        @Option(help: "Only this customer's cases.")
        var customer: String?

        @Option(help: "At most this many cases.")
        var limit = 100

        @OptionGroup var store: StoreOptions
        @OptionGroup var output: OutputOptions

        func validate() throws {
            guard limit > 0 else { throw ValidationError("--limit must be positive (got \(limit))") }
        }

        func run() async throws {
            let filter = CaseFilter(status: status.status, customerId: customer, limit: limit)
            let cases = try await CLIError.mapping { try await ReviewQueue(store: try await store.open()).cases(filter) }
            if output.json { return try output.printJSON(cases) }
            if cases.isEmpty { return print("no \(status == .all ? "" : "\(status.rawValue) ")cases") }
            for reviewCase in cases { print(reviewCase.line) }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a case: the event, its score and reasons, the rules and signals, and the customer's usual behaviour.")

        @Argument(help: "The case's id (from `cases list`).")
        var id: Int64

        @OptionGroup var store: StoreOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let file = try await CLIError.mapping { try await ReviewQueue(store: try await store.open()).caseFile(id) }
            if output.json { return try output.printJSON(file) }
            print(file.text)
        }
    }

    struct Resolve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Resolve an open case as fraud or genuine: a label version the feedback loop learns from.")

        @Argument(help: "The case's id.")
        var id: Int64

        @Option(help: "fraud or genuine.")
        var outcome: Outcome

        @Option(help: "Why: what the analyst found (written to the case and the audit log).")
        var note: String

        @OptionGroup var store: StoreOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let resolved = try await CLIError.mapping {
                try await ReviewQueue(store: try await store.open()).resolve(
                    id, outcome: outcome, note: note, actor: RiskLoop.Keys.actor, at: RiskLoop.now)
            }
            if output.json { return try output.printJSON(resolved) }
            print("case \(resolved.id) resolved: event \(resolved.eventId) is \(outcome.rawValue) (label version stored, source analyst)")
        }
    }

    enum StatusChoice: String, ExpressibleByArgument, CaseIterable {
        case open, resolved, all

        var status: CaseStatus? {
            switch self {
            case .open: .open
            case .resolved: .resolved
            case .all: nil
            }
        }
    }
}

extension Outcome: ExpressibleByArgument {}

extension RiskLoop {
    /// The machine's clock, to the millisecond.
    static var now: Timestamp { Timestamp(millisecondsSinceEpoch: Int64(Date().timeIntervalSince1970 * 1000)) }
}

extension ReviewCase {
    /// One line of `cases list`.
    var line: String {
        let resolved = resolution.map { "\($0.outcome.rawValue) by \($0.resolvedBy)" } ?? "open"
        return [
            "\(id)", openedAt.rfc3339, trigger.rawValue, eventId, customerId, decision, String(format: "%.4f", score), resolved,
        ].joined(separator: "\t")
    }
}

extension CaseTrigger {
    var words: String {
        switch self {
        case .review: "a review decision"
        case .stepUpFailed: "a failed step-up"
        case .stepUpAbandoned: "an abandoned step-up"
        }
    }
}

extension CaseFile {
    /// What `cases show` prints.
    var text: String {
        let reviewCase = self.reviewCase
        var lines = [
            "case \(reviewCase.id) (\(reviewCase.status.rawValue)), opened \(reviewCase.openedAt.rfc3339) on \(reviewCase.trigger.words)",
            "event \(reviewCase.eventId) of customer \(reviewCase.customerId), occurred \(reviewCase.occurredAt.rfc3339)",
            "decision \(reviewCase.decision), score \(String(format: "%.4f", reviewCase.score)) "
                + "(model \(reviewCase.modelId), policy \(reviewCase.policyVersion))",
        ]
        if case .array(let reasons) = reviewCase.reasons, !reasons.isEmpty {
            lines.append("reasons:")
            for reason in reasons {
                if case .object(let object) = reason, case .string(let text)? = object["text"] {
                    lines.append("  - \(text)")
                } else {
                    lines.append("  - \(jsonText(reason))")
                }
            }
        }
        lines.append("rules applied: " + (rules.isEmpty ? "none" : rules.joined(separator: ", ")))
        lines.append("signals:")
        for signal in signals {
            lines.append(
                "  \(signal.name): "
                    + (signal.value.map { "\(jsonText($0)) (from the \(signal.source))" } ?? "unknown (\(signal.reason ?? ""))"))
        }
        let amount = usual.amount
        func money(_ value: Double?) -> String { value.map { String(format: "%.2f", $0) } ?? "-" }
        lines.append("the customer's last \(Int(usual.days)) days: \(usual.events) events")
        lines.append(
            "  amount: this \(money(amount.this)); usual median \(money(amount.median)), p90 \(money(amount.p90)), max \(money(amount.max))"
                + (amount.shareBelow.map { String(format: "; %.0f%% of their amounts are below this one", $0 * 100) } ?? ""))
        func seen(_ name: String, _ counts: [UsualBehaviour.Count], _ known: Bool?) -> String {
            let usual = counts.prefix(3).map { "\($0.value) ×\($0.count)" }.joined(separator: ", ")
            let this = known.map { $0 ? "seen before" : "NEW" } ?? "none on this event"
            return "  \(name): \(this); usual \(usual.isEmpty ? "none" : usual)"
        }
        lines.append(seen("channel", usual.channels, usual.seenBefore.channel))
        lines.append(seen("device", usual.devices, usual.seenBefore.device))
        lines.append(seen("payee", usual.payees, usual.seenBefore.payee))
        lines.append(
            "labels: "
                + (labels.isEmpty
                    ? "none yet" : labels.map { "\($0.outcome.rawValue) (\($0.source), \($0.reportedAt.rfc3339))" }.joined(separator: "; "))
        )
        if let resolution = reviewCase.resolution {
            lines.append(
                "resolved \(resolution.outcome.rawValue) by \(resolution.resolvedBy) at \(resolution.resolvedAt.rfc3339): \(resolution.note)"
            )
        }
        return lines.joined(separator: "\n")
    }
}

/// A JSON value as one line, keys sorted.
private func jsonText(_ value: JSONValue) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "?"
}
