import ArgumentParser
import Foundation
import RiskEngine
import RiskExport
import RiskModels

extension RiskLoop {
    struct Score: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Score the rows of a file with a model: one probability of fraud per row, in order.",
            discussion: """
                The file (CSV with a header, or JSON lines of flat objects) must have every column \
                the model was trained on; other columns are ignored. The model's SHA-256 is checked \
                first: a changed model file is refused. Output goes to standard output (or --out) \
                as CSV with a 'probability' header, or as JSON lines {"probability": p}. With \
                --columns, each row also carries its expanded columns (as the model sees them, \
                named as in the model), before the probability: the rows other tools score to \
                check an exported model.
                """)

        enum Format: String, ExpressibleByArgument, CaseIterable {
            case csv, jsonl
        }

        @Option(help: ArgumentHelp("The model artifact.", valueName: "model.json"))
        var model: String

        @Argument(help: ArgumentHelp("Rows to score.", valueName: "file"))
        var file: String

        @Option(help: "csv or jsonl.")
        var format: Format = .csv

        @Option(help: ArgumentHelp("Write here instead of standard output.", valueName: "path"))
        var out: String?

        @Option(help: ArgumentHelp("For a model with fraud-rate features: label versions known so far.", valueName: "file"))
        var labels: String?

        @Flag(help: "For a model trained with a spec: read any JSON objects instead of validated events.")
        var records = false

        @OptionGroup var trust: TrustOptions

        @Flag(help: "Also write each row's expanded columns (full precision) before its probability.")
        var columns = false

        func run() async throws {
            let artifact = try CLIError.mapping { try ModelFile.read(model, allowUnsigned: trust.allowUnsigned) }
            let table = try CLIError.mapping { try ModelInput.read(file, for: artifact, labels: nil, history: labels, records: records) }
            let probabilities = artifact.probabilities(table.features)
            let names = columns ? artifact.columns : []
            var text = format == .csv ? (names.map(ModelExport.csvField) + ["probability"]).joined(separator: ",") + "\n" : ""
            text.reserveCapacity(probabilities.count * 24 * (names.count + 1))
            let encodedNames = try names.map { name in String(decoding: try JSONEncoder().encode(name), as: UTF8.self) }
            let width = table.features.columns
            for (row, probability) in probabilities.enumerated() {
                let values = columns ? table.features.values[(row * width)..<((row + 1) * width)].map { "\($0)" } : []
                if format == .csv {
                    text += (values + ["\(probability)"]).joined(separator: ",") + "\n"
                } else {
                    text += "{" + zip(encodedNames, values).map { "\($0):\($1)" }.joined(separator: ",")
                    text += (columns ? "," : "") + "\"probability\":\(probability)}\n"
                }
            }
            if let out {
                do {
                    try Data(text.utf8).write(to: URL(filePath: out))
                } catch {
                    throw CLIError.fail("cannot write \(out): \(error)", status: CLIError.cannotWrite)
                }
            } else {
                FileHandle.standardOutput.write(Data(text.utf8))
            }
        }
    }

    struct Evaluate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Evaluate a model on a labelled file: ROC AUC, average precision, log loss, Brier, KS, calibration, precision and recall.",
            discussion: """
                Metrics follow scikit-learn's definitions and honour --weight. ROC AUC, average \
                precision and KS are undefined when the file holds only one class; they are then \
                reported as n/a with a note.
                """)

        @Option(help: ArgumentHelp("The model artifact.", valueName: "model.json"))
        var model: String

        @Argument(help: ArgumentHelp("Labelled rows.", valueName: "file"))
        var file: String

        @Option(help: ArgumentHelp("The label column (or, with a spec model, field).", valueName: "column"))
        var label: String?

        @Option(help: ArgumentHelp("A column of sample weights.", valueName: "column"))
        var weight: String?

        @Option(help: ArgumentHelp("Report precision and recall at this probability (repeatable).", valueName: "p"))
        var threshold: [Double] = [0.5]

        @Option(help: ArgumentHelp("Report precision among the k highest scores (repeatable).", valueName: "k"))
        var topK: [Int] = [100]

        @OptionGroup var output: OutputOptions
        @OptionGroup var trust: TrustOptions

        @Option(
            help: ArgumentHelp("For a model trained with a spec: label versions (each event's latest is its label).", valueName: "file"))
        var labels: String?

        @Flag(help: "For a model trained with a spec: read any JSON objects instead of validated events.")
        var records = false

        func validate() throws {
            guard (label == nil) != (labels == nil) else { throw ValidationError("give either --label COLUMN or --labels FILE") }
        }

        func run() async throws {
            let artifact = try CLIError.mapping { try ModelFile.read(model, allowUnsigned: trust.allowUnsigned) }
            let table = try CLIError.mapping {
                try ModelInput.read(
                    file, for: artifact, labels: label.map { .field($0) } ?? labels.map { .file($0) }, weight: weight, records: records)
            }
            let metrics = Metrics.evaluate(
                labels: table.labels!, probabilities: artifact.probabilities(table.features), weights: table.weights,
                thresholds: threshold, topK: topK)
            if output.json {
                try output.printJSON(metrics)
            } else {
                print("\(artifact.id) on \(file):")
                print(metrics.rendered(indent: "  "))
            }
        }
    }
}

/// The rows a model reads from a file: its columns from a table, or its spec applied to events.
enum ModelInput {
    static func read(
        _ path: String, for artifact: ModelArtifact, labels: SpecTable.LabelSource?, history: String? = nil, weight: String? = nil,
        records: Bool
    ) throws(EngineError) -> LabelledTable {
        if let spec = SpecTable.spec(of: artifact) {
            let mode: RecordFile.Mode = records || path.lowercased().hasSuffix(".csv") ? .records : .events
            let table = try SpecTable.read(path, spec: spec, mode: mode, labels: labels, history: history).table
            guard table.columns == artifact.columns else {
                throw .invalidOptions(option: "--model", reason: "the model's spec expands to other columns than the model has")
            }
            return table
        }
        var label: String? = nil
        switch labels {
        case .field(let name)?: label = name
        case .file?: throw .invalidOptions(option: "--labels", reason: "this model reads a table; name its label column with --label")
        case nil: break
        }
        return try LabelledTable.read(path, roles: .init(label: label, weight: weight, features: artifact.columns))
    }
}
