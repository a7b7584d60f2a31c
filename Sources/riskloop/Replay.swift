import ArgumentParser
import Foundation
import RiskContract
import RiskEngine
import RiskFeatures
import RiskScoring

extension RiskLoop {
    struct Replay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Re-score logged decisions with the exact model and policy versions recorded with them; report any that differ.",
            discussion: """
                Every decision made in [--from, --to) is replayed: its model (refused unless its \
                artifact matches the SHA-256 the registry recorded when it was registered) and its \
                decision policy (as recorded when it was first used) score the stored events again \
                in time order, with the history a serving scorer had (--history-days of earlier \
                events, and every label from its report time on). A decision differs when the \
                replayed decision is another, or the score moves by more than 1e-12.

                Exit status: 0 when every decision reproduces, 1 when any differs, 65 when a model \
                artifact was changed (nothing is replayed then).
                """)

        @Option(help: ArgumentHelp("Replay decisions made from this time (RFC 3339 or YYYY-MM-DD).", valueName: "date"))
        var from: String

        @Option(help: ArgumentHelp("…up to this time (exclusive).", valueName: "date"))
        var to: String

        @Option(help: ArgumentHelp("Days of events before the first replayed event that feed history.", valueName: "N"))
        var historyDays = RetrainPolicy().historyDays

        @Option(
            help: ArgumentHelp(
                "A decision policy for decisions whose policy version the store did not record (repeatable).", valueName: "policy.json"))
        var policy: [String] = []

        @Option(help: ArgumentHelp("List at most this many differing decisions.", valueName: "N"))
        var show = 20

        @OptionGroup var store: StoreOptions
        @OptionGroup var output: OutputOptions

        func validate() throws {
            for (name, value) in [("--from", from), ("--to", to)] where RiskLoop.Train.parseInstant(value) == nil {
                throw ValidationError("\(name): '\(value)' is not RFC 3339 or YYYY-MM-DD")
            }
            guard historyDays >= 0 else { throw ValidationError("--history-days must be zero or more") }
        }

        func run() async throws {
            let start = RiskLoop.Train.parseInstant(from)!, end = RiskLoop.Train.parseInstant(to)!
            guard start < end else { throw ValidationError("--from must be before --to") }
            let policies = try policy.map { path in try CLIError.mapping { try PolicyFile.read(path) } }
            let database = try await store.open()
            let report = try await CLIError.mapping {
                try await DecisionReplay(store: database, historyDays: historyDays).run(from: start, to: end, policies: policies)
            }
            if output.json {
                try output.printJSON(report)
            } else {
                print("replayed   \(report.decisions) decisions made from \(report.from) to \(report.to)")
                for versions in report.versions {
                    print("           \(versions.decisions) by model \(versions.modelId) with policy \(versions.policyVersion)")
                }
                print("reproduced \(report.reproduced); largest score difference \(report.maxScoreDifference)")
                print("differ     \(report.differences.count)")
                if let prunedBefore = report.prunedBefore {
                    print(
                        "pruned     retention removed the events before \(prunedBefore) that this period's history reads: "
                            + "\(report.prunedHistory) decisions could not be rebuilt, which is not a difference")
                }
                for difference in report.differences.prefix(show) {
                    let replayed =
                        difference.replayedScore.map { "\($0) \(difference.replayedDecision ?? "")" } ?? "not replayed"
                    print(
                        "  decision \(difference.decisionId) (event \(difference.eventId)): logged \(difference.loggedScore) "
                            + "\(difference.loggedDecision), replayed \(replayed): \(difference.reason)")
                }
            }
            if !report.differences.isEmpty { throw ExitCode(1) }
        }
    }
}
