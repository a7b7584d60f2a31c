import ArgumentParser
import Foundation
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
            subcommands: [List.self, Show.self, Promote.self, Rollback.self])
    }
}

extension RiskLoop.Models {
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List registered models, newest first, with status and lineage.",
            discussion: "Statuses: candidate, champion (at most one), shadow, rejected, retired.")

        @OptionGroup var store: StoreOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            let models = try CLIError.mapping { try store.open().models() }
            if output.json {
                try output.printJSON(models)
                return
            }
            guard !models.isEmpty else {
                print("No models registered in \(store.path).")
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
    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show one model: status, lineage (training window, rows, positives, data SHA-256) and holdout metrics.")

        @Argument(help: "The model id (see `riskloop models list`).") var id: String
        @OptionGroup var store: StoreOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            let database = try CLIError.mapping { try store.open() }
            let entry = try CLIError.mapping { try database.models() }.first { $0.id == id }
            guard let entry else {
                throw CLIError.fail("no model \(id) in \(store.path) (see `riskloop models list`)", status: CLIError.badInput)
            }
            let artifact = try CLIError.mapping { try ModelArtifact.decode(from: try database.artifactJSON(of: id)) }
            if output.json {
                try output.printJSON(Shown(registry: entry, training: artifact.training, holdout: artifact.metrics.holdout))
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
        }

        struct Shown: Encodable {
            var registry: RegisteredModel
            var training: ModelArtifact.TrainingLineage
            var holdout: BinaryMetrics?
        }

        static func format(_ value: Double) -> String { String(format: "%.6g", value) }
    }

    struct Promote: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a model the champion; the current champion is retired in the same transaction.")

        @Argument(help: "The model id to promote.") var id: String
        @Option(help: "Why, for the audit log.") var reason: String?
        @OptionGroup var store: StoreOptions

        func run() throws {
            try CLIError.mapping { try store.open().promote(id, actor: RiskLoop.Keys.actor, reason: reason) }
            print("\(id) is the champion.")
        }
    }

    struct Rollback: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Put the previous champion back and retire the current one.",
            discussion: "The previous champion is the model most recently replaced by a promotion; its artifact is unchanged.")

        @Option(help: "Why, for the audit log.") var reason: String?
        @OptionGroup var store: StoreOptions

        func run() throws {
            let restored = try CLIError.mapping { try store.open().rollback(actor: RiskLoop.Keys.actor, reason: reason) }
            print("\(restored) is the champion again.")
        }
    }
}
