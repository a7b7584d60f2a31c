import ArgumentParser
import Foundation
import RiskContract
import RiskEngine
import RiskExport
import RiskFeatures
import RiskScoring

extension RiskLoop {
    struct Spec: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a feature spec, or propose one from data.",
            subcommands: [Check.self, Fit.self, Infer.self])
    }
}

extension RiskLoop.Spec {
    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate a feature spec and explain its expanded columns in words.",
            discussion: """
                Prints every feature with where its value comes from and how it becomes columns, \
                then each of its columns, in order, with what the column says in the words of the \
                spec's descriptions (the words reasons and model cards use), and the spec's SHA-256 \
                (the identity models record). A bad spec stops with an error naming the member at \
                fault, e.g. features[4].buckets_hours.
                """)

        @Argument(help: ArgumentHelp("The spec (JSON).", valueName: "spec.json"))
        var spec: String

        @OptionGroup var output: OutputOptions

        func run() async throws {
            let extractor = try CLIError.mapping { try SpecFile.read(spec, fitted: false) }
            if output.json {
                try output.printJSON(SpecSummary(extractor))
                return
            }
            print(
                "\(spec): \(extractor.spec.name) v\(extractor.spec.version), \(extractor.spec.features.count) features, \(extractor.columns.count) columns"
            )
            print("sha256 \(extractor.spec.sha256)")
            let unlearnt = extractor.spec.features.filter(\.needsFitting).map(\.name)
            if !unlearnt.isEmpty {
                print(
                    "not fitted: \(unlearnt.joined(separator: ", ")) learn their statistics or bin edges from training rows (riskloop spec fit, or train); their columns below are placeholders"
                )
            }
            let meanings = extractor.columnMeanings
            var previous: Int?
            for (column, name) in extractor.columns.enumerated() {
                let index = extractor.featureOfColumn[column]
                let feature = extractor.spec.features[index]
                if index != previous {
                    // How the feature becomes columns, without the one column's indicator.
                    let encoding = ModelExport.encoding(of: feature, column: feature.name)
                    let source = ModelExport.source(of: feature)
                    print(
                        "\n\(feature.name) (\(feature.kind.rawValue)\(source.isEmpty ? "" : ", \(source)")): \(encoding.trimmingSuffix(": "))"
                    )
                    previous = index
                }
                print(
                    String(format: "%5d  ", column) + name.padding(toLength: max(40, name.count), withPad: " ", startingAt: 0) + "  "
                        + meanings[column])
            }
        }
    }

    struct Fit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Learn a spec's learnt parts (standardize statistics, quantile bins) from data.",
            discussion: """
                Reads events (JSON lines, in time order; --records for other objects or CSV rows) \
                and learns, from the records that occurred in [--from, --to) (all of them without \
                either), the statistics of every standardize feature and the edges of every \
                quantile bin that the spec does not already carry: bin edges are numpy's linear \
                quantiles (equal edges merged). Aggregates and ratios are computed point in time \
                over the whole file (every record feeds history); fraud rates read --labels as \
                they were reported. The fitted spec is written to --out; features, train and score \
                use it as it is.
                """)

        @Argument(help: ArgumentHelp("The spec (JSON).", valueName: "spec.json"))
        var spec: String

        @Argument(help: ArgumentHelp("Events (.jsonl) or records (.jsonl, .csv).", valueName: "data"))
        var data: String

        @Option(help: ArgumentHelp("Label versions (.csv or .jsonl) for fraud-rate features.", valueName: "file"))
        var labels: String?

        @Option(help: ArgumentHelp("Learn from the records from this time (RFC 3339 or YYYY-MM-DD).", valueName: "date"))
        var from: String?

        @Option(help: ArgumentHelp("…up to this time, exclusive.", valueName: "date"))
        var to: String?

        @Flag(help: "Read any JSON objects or CSV rows instead of validated events.")
        var records = false

        @Option(help: ArgumentHelp("Write the fitted spec here.", valueName: "fitted.json"))
        var out: String

        func validate() throws {
            for (name, value) in [("--from", from), ("--to", to)] {
                if let value, RiskLoop.Train.parseInstant(value) == nil { throw ValidationError("\(name) must be RFC 3339 or YYYY-MM-DD") }
            }
            if let from = from.flatMap(RiskLoop.Train.parseInstant), let to = to.flatMap(RiskLoop.Train.parseInstant), from >= to {
                throw ValidationError("--from must be before --to")
            }
        }

        func run() async throws {
            let extractor = try CLIError.mapping { try SpecFile.read(spec, fitted: false) }
            let knownLabels = try labels.map { path in try CLIError.mapping { try RecordFile.labels(path) } } ?? []
            let mode = records || data.lowercased().hasSuffix(".csv") ? .records : RecordFile.eventMode(for: extractor)
            var events: [ParsedEvent] = []
            try CLIError.mapping { try RecordFile.forEachBatch(data, mode: mode) { batch in events += batch } }
            guard !events.isEmpty else { throw CLIError.emptyInput(data) }
            let start = from.flatMap(RiskLoop.Train.parseInstant), end = to.flatMap(RiskLoop.Train.parseInstant)
            let rows = events.indices.filter { index in
                guard start != nil || end != nil else { return true }
                guard let time = events[index].time else { return false }
                return (start.map { time >= $0 } ?? true) && (end.map { time < $0 } ?? true)
            }
            guard !rows.isEmpty else {
                throw CLIError.fail("\(data): no record occurred in [\(from ?? "start"), \(to ?? "end"))", status: CLIError.badInput)
            }
            let fitted: FeatureSpec
            do {
                fitted = try extractor.spec.fitted(events: events, labels: knownLabels, rows: rows)
            } catch {
                throw CLIError.fail("\(spec): \(error.description)", status: CLIError.badInput)
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            do {
                try (try encoder.encode(fitted) + Data("\n".utf8)).write(to: URL(filePath: out), options: .atomic)
            } catch {
                throw CLIError.fail("cannot write \(out): \(error)", status: CLIError.cannotWrite)
            }
            let learnt = extractor.spec.features.filter(\.needsFitting).map(\.name)
            print(
                "\(out): \(learnt.isEmpty ? "nothing to learn" : "learnt " + learnt.joined(separator: ", ")) from \(rows.count.grouped) of \(events.count.grouped) records"
            )
        }
    }

    struct Infer: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Propose a feature spec from a CSV or JSON-lines file.",
            discussion: """
                Walks every field (nested objects as dotted paths) and proposes: boolean for \
                true/false or 0/1, numeric for numbers (log1p when non-negative and past 100), \
                categorical for up to 20 distinct strings, hashed for more, time_since for RFC 3339 \
                times (hour_of_day and night for occurred_at), and one contains feature per value of \
                a list. Identifiers and always-null fields are skipped (listed on standard error). \
                Crosses and aggregates are for you to add. The spec goes to standard output or --out.
                """)

        @Argument(help: ArgumentHelp("Sample data.", valueName: "data.csv|data.jsonl"))
        var data: String

        @Option(help: "How many records to look at.")
        var sample = 10_000

        @Option(help: "The spec's name.")
        var name = "inferred"

        @Option(help: ArgumentHelp("Write the spec here.", valueName: "spec.json"))
        var out: String?

        func run() async throws {
            var records: [JSONValue] = []
            try CLIError.mapping {
                try RecordFile.forEachBatch(data, mode: .records, batchSize: min(sample, RecordFile.defaultBatchSize)) { batch in
                    records += batch.prefix(sample - records.count).compactMap(\.json)
                }
            }
            let (spec, skipped) = FeatureSpec.infer(from: records, name: name)
            for field in skipped { FileHandle.standardError.write(Data("skipped \(field.path): \(field.reason)\n".utf8)) }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            let json = try encoder.encode(spec) + Data("\n".utf8)
            if let out {
                do {
                    try json.write(to: URL(filePath: out))
                } catch {
                    throw CLIError.fail("cannot write \(out): \(error)", status: CLIError.cannotWrite)
                }
            } else {
                FileHandle.standardOutput.write(json)
            }
        }
    }
}

extension RiskLoop {
    struct Features: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Turn events into feature vectors, written as CSV with a header.",
            discussion: """
                Reads events (JSON lines, in time order) and writes one row per event with the \
                spec's columns, as the model would see it: aggregates use only earlier events, and \
                fraud rates only the --labels versions reported by each event's time minus the \
                feature's delay. With --records, lines are any JSON objects (and a .csv file is read \
                as records): fields are found by the spec's dotted paths.
                """)

        @Option(help: ArgumentHelp("The feature spec.", valueName: "spec.json"))
        var spec: String

        @Argument(help: ArgumentHelp("Events (.jsonl) or records (.jsonl, .csv).", valueName: "file"))
        var file: String

        @Option(help: ArgumentHelp("Label versions (.csv or .jsonl) for fraud-rate features.", valueName: "file"))
        var labels: String?

        @Flag(help: "Read any JSON objects or CSV rows instead of validated events.")
        var records = false

        @Option(help: ArgumentHelp("Write here instead of standard output.", valueName: "path"))
        var out: String?

        func run() async throws {
            let extractor = try CLIError.mapping { try SpecFile.read(spec) }
            let knownLabels = try labels.map { path in try CLIError.mapping { try RecordFile.labels(path) } } ?? []
            var profiles = extractor.makeProfiles()
            for label in knownLabels { profiles.observe(label) }
            // Written to a temporary file first: on bad input the output gets nothing, not a
            // header and half the rows. Moved into place (or copied to standard output) at the end.
            let directory = out.map { URL(filePath: $0).deletingLastPathComponent() } ?? FileManager.default.temporaryDirectory
            let partialPath = directory.appending(path: ".riskloop-features-\(UUID().uuidString).partial").path
            guard FileManager.default.createFile(atPath: partialPath, contents: nil), let sink = FileHandle(forWritingAtPath: partialPath)
            else {
                throw CLIError.fail("cannot write \(out ?? partialPath)", status: CLIError.cannotWrite)
            }
            defer { try? FileManager.default.removeItem(atPath: partialPath) }
            sink.write(Data((extractor.columns.map(CSVReader.escape).joined(separator: ",") + "\n").utf8))
            let mode = records || file.lowercased().hasSuffix(".csv") ? .records : RecordFile.eventMode(for: extractor)
            var rows = 0
            try CLIError.mapping {
                try RecordFile.forEachBatch(file, mode: mode) { batch in
                    let matrix = extractor.matrix(batch, profiles: &profiles)
                    rows += matrix.rows
                    sink.write(Data(FeatureCSV.rows(matrix).utf8))
                }
            }
            try sink.close()
            guard rows > 0 else { throw CLIError.emptyInput(file) }
            if let out {
                do {
                    if FileManager.default.fileExists(atPath: out) { try FileManager.default.removeItem(atPath: out) }
                    try FileManager.default.moveItem(atPath: partialPath, toPath: out)
                } catch {
                    throw CLIError.fail("cannot write \(out): \(error)", status: CLIError.cannotWrite)
                }
            } else {
                FileHandle.standardOutput.write(try Data(contentsOf: URL(filePath: partialPath)))
            }
        }
    }
}

/// Reading a spec file and compiling it.
enum SpecFile {
    /// The spec at `path`, compiled; with `fitted` false its learnt parts may be missing (for
    /// checking, fitting and training, never for rows as a model sees them).
    static func read(_ path: String, fitted: Bool = true) throws(EngineError) -> FeatureExtractor {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .cannotRead(path: path, reason: FileManager.default.fileExists(atPath: path) ? "permission denied" : "no such file")
        }
        do {
            let spec = try FeatureSpec.decode(from: data)
            return fitted ? try FeatureExtractor(spec: spec) : try FeatureExtractor(unfittedSpec: spec)
        } catch {
            throw .badInput(file: path, line: nil, column: error.field, reason: error.reason)
        }
    }
}

/// What `spec check --json` prints.
struct SpecSummary: Encodable {
    var name: String
    var version: Int
    var sha256: String
    var columns: [String]
    /// What each column says, in the spec's words (`columns` order).
    var meanings: [String]

    init(_ extractor: FeatureExtractor) {
        name = extractor.spec.name
        version = extractor.spec.version
        sha256 = extractor.spec.sha256
        columns = extractor.columns
        meanings = extractor.columnMeanings
    }
}

/// Matrix rows as CSV text: 0 and 1 written short, other numbers at full precision.
enum FeatureCSV {
    static func rows(_ matrix: Matrix) -> String {
        var text = ""
        text.reserveCapacity(matrix.values.count * 2)
        for row in 0..<matrix.rows {
            for column in 0..<matrix.columns {
                if column > 0 { text += "," }
                let value = matrix[row, column]
                text += value == 0 ? "0" : value == 1 ? "1" : "\(value)"
            }
            text += "\n"
        }
        return text
    }
}

extension String {
    /// The string without `suffix` at its end, when it ends so.
    fileprivate func trimmingSuffix(_ suffix: String) -> String {
        hasSuffix(suffix) ? String(dropLast(suffix.count)) : self
    }
}
