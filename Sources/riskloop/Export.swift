import ArgumentParser
import Foundation
import RiskEngine
import RiskExport
import RiskModels
import RiskScoring

extension ExportFormat: ExpressibleByArgument {}

extension RiskLoop {
    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Export a model: its artifact (json), a column table (csv), PMML, ONNX, or a model card (HTML).",
            discussion: """
                MODEL is a model id in the store, or the path of a model file (its SHA-256 is \
                checked first: a changed file is refused).

                  json   the artifact as stored, with its SHA-256
                  csv    one row per column: the feature it came from, how it is encoded, what it \
                means, and its weight (logistic) or per-class parameters (naive Bayes)
                  pmml   PMML 4.4 over the expanded columns: RegressionModel (logit) or \
                NaiveBayesModel; the output field probability_fraud is P(fraud)
                  onnx   ONNX-ML LinearClassifier (logistic regression only; float32 input \
                'features' with the columns in the artifact's order; output 'probabilities')
                  card   a model card: purpose, lineage, label sources, holdout metrics with ROC, \
                precision-recall, calibration and score plots, top weights, the policy's \
                thresholds with a confusion matrix each, drift since training, known limits

                PMML and ONNX fold standardisation and Platt calibration into the linear terms; a \
                model with isotonic calibration, or a calibrated naive Bayes, has no such form and \
                is refused. With a store, the card shows the model's status, its training labels \
                by source and the drift of the last --drift-days of stored events.
                """)

        @Argument(help: ArgumentHelp("A model id in the store, or a model file.", valueName: "model"))
        var model: String

        @Option(help: "json, csv, pmml, onnx or card.")
        var format: ExportFormat

        @Option(help: ArgumentHelp("Write here (default: standard output; required for onnx).", valueName: "path"))
        var out: String?

        @Option(help: ArgumentHelp("Card: the decision policy whose thresholds get a confusion matrix.", valueName: "policy.json"))
        var policy: String?

        @Option(help: ArgumentHelp("Card: days of recent stored events drift is measured on.", valueName: "N"))
        var driftDays = 7.0

        @OptionGroup var store: StoreOptions
        @OptionGroup var trust: TrustOptions

        func validate() throws {
            if format == .onnx, out == nil { throw ValidationError("--format onnx is binary: give --out") }
            guard driftDays > 0 else { throw ValidationError("--drift-days must be positive") }
        }

        func run() async throws {
            let isFile = model.hasSuffix(".json") || FileManager.default.fileExists(atPath: model)
            let policy = try self.policy.map { path in try CLIError.mapping { try PolicyFile.read(path) } }
            let artifact: ModelArtifact
            var stored: Data?
            var context = ModelCard.Context(policy: policy)
            if isFile {
                artifact = try CLIError.mapping { try ModelFile.read(model, allowUnsigned: trust.allowUnsigned) }
            } else {
                let database = try await store.open()
                guard try await CLIError.mapping({ try await database.models() }).contains(where: { $0.id == model }) else {
                    throw CLIError.fail("no model \(model) in \(store.shown) (see `riskloop models list`)", status: CLIError.badInput)
                }
                let json = try await CLIError.mapping { try await database.artifactJSON(of: model) }
                artifact = try await CLIError.mapping { try await database.verifiedArtifact(model) }
                stored = json
                if format == .card {
                    context = try await CLIError.mapping {
                        try await ModelCard.Context.fromStore(database, artifact: artifact, policy: policy, driftDays: driftDays)
                    }
                }
            }
            let data = try CLIError.mapping { try ModelExport(artifact, storedJSON: stored).data(format, card: context) }
            if let out {
                try CLIError.mapping { try ModelFile.write(data, to: out) }
            } else {
                FileHandle.standardOutput.write(data)
            }
        }
    }
}
