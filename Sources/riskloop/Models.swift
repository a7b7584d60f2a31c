import ArgumentParser
import Foundation
import RiskContract
import RiskEngine
import RiskFeatures
import RiskModels
import RiskStore

extension RiskLoop {
    struct Models: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Inspect and change the model registry.",
            discussion: """
                Promotion and rollback are atomic (there is never more than one champion) and each is written \
                to the audit log with who ($USER) and why (--reason). A server running on the same database \
                picks up the new champion when it is promoted through its own API (POST /v1/models/{id}/promote).
                """,
            subcommands: [List.self, Show.self, Promote.self, Rollback.self, Shadow.self])
    }
}

extension RiskLoop.Models {
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List registered models, newest first, with status and lineage.",
            discussion: "Statuses: candidate, champion (at most one), shadow, rejected, retired.")

        @OptionGroup var store: StoreOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let models = try await CLIError.mapping { try await store.open().models() }
            if output.json {
                try output.printJSON(models)
                return
            }
            guard !models.isEmpty else {
                print("No models registered in \(store.shown).")
                return
            }
            print("id                                    algorithm            status     created               parent")
            for model in models {
                print(
                    [
                        model.id.padding(toLength: 37, withPad: " ", startingAt: 0),
                        model.algorithm.padding(toLength: 20, withPad: " ", startingAt: 0),
                        model.status.padding(toLength: 10, withPad: " ", startingAt: 0),
                        model.createdAt.padding(toLength: 21, withPad: " ", startingAt: 0), model.parentId ?? "-",
                    ].joined(separator: " "))
            }
        }
    }
}

extension RiskLoop.Models {
    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show one model: status, lineage (training window, rows, positives, data SHA-256), holdout metrics and drift.",
            discussion: """
                Drift is the population stability index (PSI) of the model's score and of each input column \
                between its training events and the stored events of the last --drift-days before --as-of \
                (default: the most recent stored event). Below 0.1 reads as stable, 0.1–0.25 as a moderate \
                shift, above 0.25 as a major one. Models trained before drift references existed show none.
                """)

        @Argument(help: "The model id (see `riskloop models list`).") var id: String
        @Option(help: ArgumentHelp("Days of recent traffic drift is measured on.", valueName: "N")) var driftDays = 7.0
        @Option(help: ArgumentHelp("The end of the recent traffic (RFC 3339 or YYYY-MM-DD).", valueName: "date")) var asOf: String?

        func validate() throws {
            if let asOf, RiskLoop.Train.parseInstant(asOf) == nil {
                throw ValidationError("--as-of: '\(asOf)' is not RFC 3339 or YYYY-MM-DD")
            }
            guard driftDays > 0 else { throw ValidationError("--drift-days must be positive") }
        }
        @OptionGroup var store: StoreOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let database = try await CLIError.mapping { try await store.open() }
            let entry = try await CLIError.mapping { try await database.models() }.first { $0.id == id }
            guard let entry else {
                throw CLIError.fail("no model \(id) in \(store.shown) (see `riskloop models list`)", status: CLIError.badInput)
            }
            let artifact = try await CLIError.mapping { try await ModelArtifact.decode(from: try database.artifactJSON(of: id)) }
            var policy = RetrainPolicy()
            policy.driftDays = driftDays
            var end = asOf.flatMap(RiskLoop.Train.parseInstant)
            if end == nil { end = try await CLIError.mapping { try await database.latestEventTime() } }
            var drift: DriftReport? = nil
            if let end {
                drift = try await CLIError.mapping {
                    try await FeedbackLoop(store: database, policy: policy, actor: RiskLoop.Keys.actor).drift(of: artifact, asOf: end)
                }
            }
            if output.json {
                try output.printJSON(Shown(registry: entry, training: artifact.training, holdout: artifact.metrics.holdout, drift: drift))
                return
            }
            let training = artifact.training
            print("model      \(entry.id)")
            print("algorithm  \(entry.algorithm)")
            print("status     \(entry.status)" + (entry.statusReason.map { " (\($0))" } ?? ""))
            print("created    \(entry.createdAt)")
            print("parent     \(entry.parentId ?? "-")")
            print("spec       \(entry.featureSpecSHA256)")
            print("artifact   sha256 \(entry.artifactSHA256)")
            print("training   \(training.source)")
            if let start = training.windowStart, let end = training.windowEnd { print("window     \(start.rfc3339) to \(end.rfc3339)") }
            print("rows       \(training.rows), positives \(Self.format(training.positives)), data sha256 \(training.dataSHA256)")
            if let holdout = artifact.metrics.holdout {
                let auc = holdout.rocAUC.map(Self.format) ?? "n/a", ap = holdout.averagePrecision.map(Self.format) ?? "n/a"
                print("holdout    ROC AUC \(auc), average precision \(ap), log loss \(Self.format(holdout.logLoss))")
            } else {
                print("holdout    none")
            }
            if let drift, let end {
                print(
                    "drift      score PSI \(String(format: "%.4f", drift.score)) over \(drift.rows) events of the \(Self.format(driftDays)) days before \(end.rfc3339)"
                )
                for column in drift.columns.prefix(5) {
                    print("           \(String(format: "%.4f", column.psi))  \(column.name)")
                }
            } else {
                print("drift      n/a (no drift reference in the model, or no recent events)")
            }
        }

        struct Shown: Encodable {
            var registry: RegisteredModel
            var training: ModelArtifact.TrainingLineage
            var holdout: BinaryMetrics?
            var drift: DriftReport?
        }

        static func format(_ value: Double) -> String { String(format: "%.6g", value) }
    }

    struct Promote: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a model the champion; the current champion is retired in the same transaction.",
            discussion: """
                The stored artifact is checked first, as POST /v1/models/{id}/promote checks it: it must pass \
                its own checksum, equal the artifact the registry recorded when it was registered, and be able \
                to score events; otherwise nothing changes. A running server follows within about a second.
                """)

        @Argument(help: "The model id to promote.") var id: String
        @Option(help: "Why, for the audit log.") var reason: String?
        @OptionGroup var store: StoreOptions

        func run() async throws {
            // The same checks as POST /v1/models/{id}/promote: the stored artifact must be the one
            // registered, and able to serve.
            try await CLIError.mapping { try await Registry(store: store.open()).promote(id, actor: RiskLoop.Keys.actor, reason: reason) }
            print("\(id) is the champion.")
        }
    }

    struct Rollback: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Put the previous champion back and retire the current one.",
            discussion: """
                The previous champion is the model most recently replaced by a promotion; its artifact is unchanged, \
                and it is checked as a promotion checks a model before it is restored. A running server follows \
                within about a second.
                """)

        @Option(help: "Why, for the audit log.") var reason: String?
        @OptionGroup var store: StoreOptions

        func run() async throws {
            let restored = try await CLIError.mapping {
                try await Registry(store: store.open()).rollback(actor: RiskLoop.Keys.actor, reason: reason)
            }
            print("\(restored.artifact.id) is the champion again.")
        }
    }
}

extension RiskLoop.Models {
    struct Shadow: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Let a challenger score in shadow beside the champion, or stop shadow scoring.",
            discussion: """
                A shadow model scores every event the server scores; its scores are logged with the \
                decisions (decisions.shadow_model_id, shadow_score) and never decide anything. One model \
                at a time; the previous one goes back to candidate. The model is checked as a promotion checks \
                it. A running server follows within about a second.
                """)

        @Argument(help: "The model id to score in shadow.") var id: String?
        @Flag(help: "End shadow scoring.") var stop = false
        @Option(help: "Why, for the audit log.") var reason: String?
        @OptionGroup var store: StoreOptions

        func validate() throws {
            if (id == nil) == !stop { throw ValidationError("give a model id, or --stop") }
        }

        func run() async throws {
            try await CLIError.mapping {
                try await Registry(store: store.open()).setShadow(stop ? nil : id, actor: RiskLoop.Keys.actor, reason: reason)
            }
            print(stop ? "Shadow scoring stopped." : "\(id!) scores in shadow.")
        }
    }
}
