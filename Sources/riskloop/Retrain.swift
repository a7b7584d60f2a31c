import ArgumentParser
import Foundation
import RiskContract
import RiskEngine
import RiskFeatures
import RiskModels
import RiskStore

extension RiskLoop {
    struct Retrain: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run one retraining cycle: trigger, challenger, gate against the champion, atomic promotion.",
            discussion: """
                The cycle runs if the retraining policy's trigger holds at --as-of (new label \
                versions since the last cycle, time since it, or the champion's score PSI over \
                recent traffic), or always with --force. It trains a challenger of each configured \
                algorithm on the events of the policy's window before --as-of, with each event's \
                label as known at --as-of (later labels are never read), warm-started from the \
                champion when it can. The challenger and the champion are scored on the same \
                out-of-time holdout (the last holdout_days); the challenger is promoted unless its \
                average precision or ROC AUC is worse by more than the margins, else kept as \
                rejected with the reason. When no cycle is due and the champion is naive Bayes, the \
                events labelled since its label cutoff are absorbed by a partial fit instead \
                (naive_bayes_online).

                The cycle writes in one transaction at its end (the model, its status, the cycle \
                record and the audit entries): an interrupted cycle leaves nothing behind, and \
                if two run at once only one can promote. Labels stored after a cycle's snapshot \
                count for the next one.

                --policy is a JSON file (format riskloop.retrain/1; every member optional): \
                algorithms, min_new_labels, interval_hours, psi_threshold, drift_days, \
                window_days, holdout_days, history_days, ap_margin, auc_margin, warm_start, \
                naive_bayes_online, c, \
                standardize, tol, class_weight, max_iter, alpha, var_smoothing. Without it the \
                defaults of docs/DESIGN.md apply.
                """)

        @OptionGroup var store: StoreOptions

        @Option(help: ArgumentHelp("The retraining policy (JSON, riskloop.retrain/1).", valueName: "policy.json"))
        var policy: String?

        @Option(help: ArgumentHelp("The feature spec of the challenger (default: the champion's).", valueName: "spec.json"))
        var spec: String?

        @Option(help: ArgumentHelp("The cutoff: train with what was known then (RFC 3339 or YYYY-MM-DD; default now).", valueName: "date"))
        var asOf: String?

        @Flag(help: "Run the cycle even if no trigger holds.")
        var force = false

        @OptionGroup var output: OutputOptions

        func validate() throws {
            if let asOf, Train.parseInstant(asOf) == nil { throw ValidationError("--as-of: '\(asOf)' is not RFC 3339 or YYYY-MM-DD") }
        }

        func run() async throws {
            let retrainPolicy = try policy.map { path in try CLIError.mapping { try RetrainPolicy.read(path) } } ?? RetrainPolicy()
            let featureSpec = try spec.map { path in try CLIError.mapping { try SpecFile.read(path).spec } }
            let database = try await store.open()
            let loop = FeedbackLoop(
                store: database, policy: retrainPolicy, spec: featureSpec, actor: RiskLoop.Keys.actor)
            let cutoff = asOf.flatMap(Train.parseInstant) ?? Timestamp(millisecondsSinceEpoch: Int64(Date().timeIntervalSince1970 * 1000))
            let line = ProgressLine()
            let pauseAt = ProcessInfo.processInfo.environment["RISKLOOP_PAUSE_AT_STAGE"]
            let result = try await CLIError.mapping {
                try await loop.runCycle(asOf: cutoff, force: force) { stage in
                    line.update("retrain: \(stage.rawValue)…")
                    if stage.rawValue == pauseAt { Self.pause(at: stage) }
                }
            }
            line.finish()
            switch result {
            case .skipped(let reason):
                if output.json { try output.printJSON(["outcome": "skipped", "reason": reason]) } else { print("No cycle: \(reason).") }
            case .ran(let cycle):
                if output.json { try output.printJSON(CycleSummary(cycle)) } else { print(Self.render(cycle)) }
            }
        }

        /// Fault injection for the crash tests: announce the stage on standard error and wait to be killed.
        static func pause(at stage: FeedbackLoop.Stage) {
            FileHandle.standardError.write(Data("riskloop: paused at stage \(stage.rawValue) (RISKLOOP_PAUSE_AT_STAGE)\n".utf8))
            Thread.sleep(forTimeInterval: 600)
        }

        static func render(_ cycle: FeedbackLoop.Cycle) -> String {
            let detail = cycle.detail, record = cycle.record
            func metrics(_ evaluated: FeedbackLoop.CycleDetail.Evaluated?) -> String {
                guard let evaluated else { return "-" }
                let ap = evaluated.holdout?.averagePrecision.map { String(format: "%.4f", $0) } ?? "n/a"
                let auc = evaluated.holdout?.rocAUC.map { String(format: "%.4f", $0) } ?? "n/a"
                return "\(evaluated.id) (\(evaluated.algorithm)): AP \(ap), ROC AUC \(auc)"
            }
            var lines = [
                "Cycle \(record.id ?? 0) at \(record.asOf.rfc3339): \(record.outcome.rawValue)",
                "  trigger:    \(record.trigger)",
                "  window:     \(detail.windowStart.rfc3339) to \(detail.asOf.rfc3339); holdout from \(detail.holdoutStart.rfc3339)",
                "  rows:       \(detail.trainRows.grouped) training, \(detail.holdoutRows.grouped) holdout (\(detail.holdoutFraud) fraud)",
                "  challenger: \(metrics(detail.challenger))",
            ]
            for other in detail.alternatives { lines.append("  also tried: \(metrics(other))") }
            lines.append("  champion:   \(detail.champion.map { metrics($0) } ?? "none")")
            lines.append("  reason:     \(record.reason)")
            let stages = FeedbackLoop.Stage.allCases.compactMap { stage in
                detail.stageSeconds[stage.rawValue].map { String(format: "%@ %.2f s", stage.rawValue, $0) }
            }
            lines.append("  stages:     \(stages.joined(separator: ", "))")
            return lines.joined(separator: "\n")
        }
    }
}

/// What `retrain --json` prints for a cycle that ran.
struct CycleSummary: Encodable {
    var outcome: String
    var cycle: RetrainCycleRecord
    var detail: FeedbackLoop.CycleDetail

    init(_ cycle: FeedbackLoop.Cycle) {
        outcome = cycle.record.outcome.rawValue
        self.cycle = cycle.record
        detail = cycle.detail
    }
}
