import Foundation
import RiskContract
import RiskFeatures
import RiskModels

/// Rows of a CSV or flat JSON-lines file as a numeric matrix, with the label, weight and time
/// columns taken out: what `riskloop train`, `score` and `evaluate` read.
///
/// Every feature cell must be a finite number; a label is `1`/`0`, `true`/`false` or
/// `fraud`/`genuine`; a time is RFC 3339. Errors name the file, line and column.
public struct LabelledTable: Sendable {
    public var file: String
    public var columns: [String]
    public var features: Matrix
    public var labels: [Double]?
    public var weights: [Double]?
    public var times: [Timestamp]?
    /// SHA-256 of the file's bytes; `nil` when the rows came from the store.
    public var fileSHA256: String?
    /// The feature spec that produced the columns, when the rows came from events.
    public var featureSpec: JSONValue? = nil
    /// Evenly spaced rows of every event before the holdout, labelled or not, when the rows came
    /// from events: the population a model serves, which its drift reference describes (the
    /// labelled rows alone over-represent fraud). `nil`: the training rows are the population.
    public var population: Matrix? = nil
    /// The label cutoff, when the rows came from the store (recorded in the model's lineage).
    public var labelsKnownAt: Timestamp? = nil

    /// Which columns play which part.
    public struct Roles: Sendable {
        public var label: String?
        public var weight: String?
        public var time: String?
        /// Columns to leave out (ids, free text).
        public var ignored: Set<String> = []
        /// Exactly these feature columns in this order (a model's columns); `nil` takes every other column.
        public var features: [String]?

        public init(label: String? = nil, weight: String? = nil, time: String? = nil, ignored: Set<String> = [], features: [String]? = nil)
        {
            self.label = label
            self.weight = weight
            self.time = time
            self.ignored = ignored
            self.features = features
        }
    }

    /// Reads `path`: `.csv` with a header row, else JSON lines of flat objects.
    public static func read(_ path: String, roles: Roles) throws(EngineError) -> LabelledTable {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .cannotRead(path: path, reason: FileManager.default.fileExists(atPath: path) ? "permission denied" : "no such file")
        }
        let records = path.lowercased().hasSuffix(".csv") ? try csvRecords(data, path: path) : try jsonRecords(data, path: path)
        guard let header = records.header else { throw .badInput(file: path, line: nil, column: nil, reason: "the file is empty") }
        guard !records.rows.isEmpty else {
            throw .badInput(file: path, line: nil, column: nil, reason: "the file has a header but no rows")
        }
        var position: [String: Int] = [:]
        for (index, name) in header.enumerated() { position[name] = index }
        for (option, name) in [("--label", roles.label), ("--weight", roles.weight), ("--time-column", roles.time)] {
            if let name, position[name] == nil {
                throw .invalidOptions(option: option, reason: "\(path) has no column '\(name)' (it has \(header.joined(separator: ", ")))")
            }
        }
        let special = Set([roles.label, roles.weight, roles.time].compactMap { $0 }).union(roles.ignored)
        let featureNames = roles.features ?? header.filter { !special.contains($0) }
        for name in featureNames where position[name] == nil {
            throw .badInput(file: path, line: nil, column: name, reason: "the model needs this column and the file does not have it")
        }
        guard !featureNames.isEmpty else { throw .badInput(file: path, line: nil, column: nil, reason: "no feature columns left") }

        var values: [Double] = []
        values.reserveCapacity(records.rows.count * featureNames.count)
        var labels: [Double] = [], weights: [Double] = [], times: [Timestamp] = []
        let featurePositions = featureNames.map { position[$0]! }
        for (line, cells) in records.rows {
            guard cells.count == header.count else {
                throw .badInput(file: path, line: line, column: nil, reason: "\(cells.count) fields where the header has \(header.count)")
            }
            for (name, index) in zip(featureNames, featurePositions) {
                let text = cells[index].trimmingCharacters(in: .whitespaces)
                guard !text.isEmpty else {
                    throw .badInput(file: path, line: line, column: name, reason: "empty cell: training data must have no missing values")
                }
                guard let value = Double(text), value.isFinite else {
                    throw .badInput(
                        file: path, line: line, column: name,
                        reason: "'\(text)' is not a finite number (leave a non-numeric column out with --ignore)")
                }
                values.append(value)
            }
            if let label = roles.label {
                let text = cells[position[label]!].trimmingCharacters(in: .whitespaces).lowercased()
                switch text {
                case "1", "1.0", "true", "fraud": labels.append(1)
                case "0", "0.0", "false", "genuine": labels.append(0)
                default:
                    throw .badInput(
                        file: path, line: line, column: label, reason: "label '\(text)' is not 1/0, true/false or fraud/genuine")
                }
            }
            if let weight = roles.weight {
                let text = cells[position[weight]!].trimmingCharacters(in: .whitespaces)
                guard let value = Double(text), value.isFinite, value >= 0 else {
                    throw .badInput(file: path, line: line, column: weight, reason: "weight '\(text)' is not a finite, non-negative number")
                }
                weights.append(value)
            }
            if let time = roles.time {
                let text = cells[position[time]!].trimmingCharacters(in: .whitespaces)
                guard let value = Timestamp(rfc3339: text) else {
                    throw .badInput(file: path, line: line, column: time, reason: "'\(text)' is not an RFC 3339 date-time")
                }
                times.append(value)
            }
        }
        return LabelledTable(
            file: path, columns: featureNames,
            features: Matrix(rows: records.rows.count, columns: featureNames.count, values: values),
            labels: roles.label == nil ? nil : labels, weights: roles.weight == nil ? nil : weights,
            times: roles.time == nil ? nil : times, fileSHA256: ModelArtifact.sha256Hex(data))
    }

    private static func csvRecords(_ data: Data, path: String) throws(EngineError) -> (header: [String]?, rows: [(Int, [String])]) {
        var reader = CSVReader(bytes: Array(data))
        do {
            guard let header = try reader.next() else { return (nil, []) }
            var rows: [(Int, [String])] = []
            while let record = try reader.next() { rows.append((record.line, record.fields)) }
            return (header.fields.map { $0.trimmingCharacters(in: .whitespaces) }, rows)
        } catch {
            let line: Int? = if case .malformedCSV(let line, _) = error { line } else { nil }
            throw .badInput(file: path, line: line, column: nil, reason: error.description)
        }
    }

    /// Flat JSON objects, one a line: the first object's members are the columns.
    private static func jsonRecords(_ data: Data, path: String) throws(EngineError) -> (header: [String]?, rows: [(Int, [String])]) {
        var header: [String]? = nil
        var rows: [(Int, [String])] = []
        for (offset, line) in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated() {
            guard line.contains(where: { $0 != 0x20 && $0 != 0x0D && $0 != 0x09 }) else { continue }
            let number = offset + 1
            let object: JSONObject
            do {
                guard case .object(let parsed) = try JSONValue.parse(line) else {
                    throw EngineError.badInput(file: path, line: number, column: nil, reason: "expected a JSON object")
                }
                object = parsed
            } catch let error as EngineError {
                throw error
            } catch {
                throw .badInput(file: path, line: number, column: nil, reason: "\(error)")
            }
            if header == nil { header = object.members.map(\.key) }
            var cells: [String] = []
            for name in header! {
                switch object[name] {
                case .number(let value)?: cells.append(String(value))
                case .bool(let flag)?: cells.append(flag ? "1" : "0")
                case .string(let text)?: cells.append(text)
                case nil, .null?: cells.append("")
                case .array?, .object?:
                    throw .badInput(
                        file: path, line: number, column: name,
                        reason: "a nested value is not a column: give flat rows of numbers (one member per column)")
                }
            }
            rows.append((number, cells))
        }
        return (header, rows)
    }
}
