import ArgumentParser
import Foundation
import RiskContract
import RiskEngine
import RiskExport
import RiskModels
import RiskScoring
import RiskStore

extension RiskLoop {
    struct BacktestCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "backtest",
            abstract: "Re-decide a period's logged decisions with a candidate model and/or policy and compare with what was decided.",
            discussion: """
                Every decision logged in [--from, --to) is decided again with the candidate (--model \
                and/or --policy; the other as logged), in time order with the history a serving \
                scorer had (as replay does), and both sides are compared against the labels known \
                now: fraud caught (labelled fraud not allowed) and missed, with their amounts; false \
                alarms (not labelled fraud, reviewed or blocked); step-ups (friction); reviews a day \
                (the analysts' load); each rule of the candidate's policy with its hits (events \
                whose condition held) and precision; and the events whose decision would change. \
                Unlabelled events count as genuine.

                --json prints {"logged": S, "candidate": S, "rules": [...], "changed": [...], \
                "weeks": [...]} with S = {fraud_caught, fraud_caught_amount, fraud_missed, \
                fraud_missed_amount, false_alarms, step_ups, reviews_per_day}. --report writes the \
                same as HTML with a chart per week.
                """)

        @Option(help: ArgumentHelp("Decisions made from this time (RFC 3339 or YYYY-MM-DD).", valueName: "date"))
        var from: String

        @Option(help: ArgumentHelp("…up to this time (exclusive).", valueName: "date"))
        var to: String

        @Option(help: ArgumentHelp("The candidate model: a registered id, or a model file.", valueName: "id|model.json"))
        var model: String?

        @Option(help: ArgumentHelp("The candidate decision policy.", valueName: "policy.json"))
        var policy: String?

        @Option(help: ArgumentHelp("Write the HTML report here.", valueName: "report.html"))
        var report: String?

        @Option(help: ArgumentHelp("List at most this many changed decisions (text output).", valueName: "N"))
        var show = 20

        @Option(help: ArgumentHelp("Days of events before the first decision that feed history.", valueName: "N"))
        var historyDays = RetrainPolicy().historyDays

        @OptionGroup var store: StoreOptions
        @OptionGroup var trust: TrustOptions
        @OptionGroup var output: OutputOptions

        func validate() throws {
            for (name, value) in [("--from", from), ("--to", to)] where RiskLoop.Train.parseInstant(value) == nil {
                throw ValidationError("\(name): '\(value)' is not RFC 3339 or YYYY-MM-DD")
            }
            guard model != nil || policy != nil else { throw ValidationError("give --model, --policy or both: the candidate") }
            guard historyDays >= 0 else { throw ValidationError("--history-days must be zero or more") }
        }

        func run() async throws {
            let start = RiskLoop.Train.parseInstant(from)!, end = RiskLoop.Train.parseInstant(to)!
            guard start < end else { throw ValidationError("--from must be before --to") }
            let candidatePolicy = try policy.map { path in try CLIError.mapping { try PolicyFile.read(path) } }
            let database = try await store.open()
            var candidateModel: ServingModel?
            if let model {
                if model.hasSuffix(".json") || FileManager.default.fileExists(atPath: model) {
                    let artifact = try CLIError.mapping { try ModelFile.read(model, allowUnsigned: trust.allowUnsigned) }
                    candidateModel = try CLIError.mapping { try ServingModel(artifact) }
                } else {
                    candidateModel = try await CLIError.mapping { try await database.verifiedModel(model) }
                }
            }
            let result = try await CLIError.mapping {
                try await Backtest(store: database, historyDays: historyDays).run(
                    from: start, to: end, candidate: Backtest.Candidate(model: candidateModel, policy: candidatePolicy))
            }
            if let report {
                try CLIError.mapping { try ModelFile.write(Data(BacktestPage(result).html().utf8), to: report) }
            }
            if output.json { return try output.printJSON(result) }
            print(Self.text(result, show: show))
        }

        static func text(_ report: Backtest.Report, show: Int) -> String {
            func line(_ name: String, _ logged: String, _ candidate: String) -> String {
                name.padding(toLength: 22, withPad: " ", startingAt: 0) + logged.leftPadded(14) + candidate.leftPadded(14)
            }
            let (l, c) = (report.logged, report.candidate)
            var lines = [
                "backtest of \(report.decisions) decisions from \(report.from.rfc3339) to \(report.to.rfc3339) "
                    + "(model \(report.model ?? "as logged"), policy \(report.policy ?? "as logged"); labels known at \(report.labelsKnownAt.rfc3339); \(report.note))",
                line("", "logged", "candidate"),
                line("fraud caught", "\(l.fraudCaught)", "\(c.fraudCaught)"),
                line("  amount", String(format: "%.2f", l.fraudCaughtAmount), String(format: "%.2f", c.fraudCaughtAmount)),
                line("fraud missed", "\(l.fraudMissed)", "\(c.fraudMissed)"),
                line("  amount", String(format: "%.2f", l.fraudMissedAmount), String(format: "%.2f", c.fraudMissedAmount)),
                line("false alarms", "\(l.falseAlarms)", "\(c.falseAlarms)"),
                line("step-ups", "\(l.stepUps)", "\(c.stepUps)"),
                line("reviews a day", String(format: "%.2f", l.reviewsPerDay), String(format: "%.2f", c.reviewsPerDay)),
            ]
            if report.eventsMissing > 0 { lines.append("\(report.eventsMissing) decisions left out: their events were pruned") }
            for rule in report.rules {
                lines.append(
                    "rule \(rule.name): \(rule.hits) hits, \(rule.fraud) fraud, precision \(rule.precision.map { String(format: "%.3f", $0) } ?? "n/a")"
                )
            }
            lines.append("\(report.changed.count) decisions would change")
            for change in report.changed.prefix(show) {
                lines.append(
                    "  \(change.eventId) \(change.occurredAt.rfc3339): \(change.loggedDecision) → \(change.candidateDecision) "
                        + "(label \(change.label ?? "none"), amount \(change.amount.map { String(format: "%.2f", $0) } ?? "-"))")
            }
            return lines.joined(separator: "\n")
        }
    }
}

extension String {
    fileprivate func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
