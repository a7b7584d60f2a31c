import Foundation
import RiskContract

/// Label records from a CSV or JSON-lines file, validated, with their line numbers.
package struct LabelRecords {
    private var lines: LineReader?
    private var csv: CSVReader?
    private var columns: [String: Int] = [:]
    private var columnCount = 0
    private let path: String
    package private(set) var bytesRead = 0

    package init(path: String) throws(StoreError) {
        self.path = path
        if path.lowercased().hasSuffix(".csv") {
            guard let data = FileManager.default.contents(atPath: path) else {
                let reason = FileManager.default.fileExists(atPath: path) ? "permission denied" : "no such file"
                throw .cannotRead(path: path, reason: reason)
            }
            var reader = CSVReader(bytes: Array(data))
            bytesRead = data.count
            do {
                guard let header = try reader.next() else {
                    throw StoreError.badLine(
                        file: path, line: 1, field: nil, message: "empty file: expected a header row", accepted: IngestReport(file: path))
                }
                columnCount = header.fields.count
                for (position, name) in header.fields.enumerated() {
                    columns[name.trimmingCharacters(in: .whitespaces)] = position
                }
                for required in Label.fieldNames where columns[required] == nil {
                    throw StoreError.badLine(
                        file: path, line: header.line, field: required,
                        message: "the header has no column '\(required)' (it needs \(Label.fieldNames.joined(separator: ", ")))",
                        accepted: IngestReport(file: path))
                }
            } catch let error as StoreError {
                throw error
            } catch {
                throw .badLine(file: path, line: 1, field: nil, message: "\(error)", accepted: IngestReport(file: path))
            }
            csv = reader
        } else {
            lines = try LineReader(path: path)
        }
    }

    package mutating func next(accepted: IngestReport) throws(StoreError) -> (line: Int, label: Label)? {
        if var reader = csv {
            defer { csv = reader }
            let record: CSVReader.Record?
            do {
                record = try reader.next()
            } catch {
                let line = if case .malformedCSV(let line, _) = error { line } else { accepted.lastCommittedLine + 1 }
                throw .badLine(file: path, line: line, field: nil, message: error.description, accepted: accepted)
            }
            guard let record else { return nil }
            guard record.fields.count == columnCount else {
                throw .badLine(
                    file: path, line: record.line, field: nil,
                    message: "\(record.fields.count) fields where the header has \(columnCount)", accepted: accepted)
            }
            let columns = self.columns
            do {
                let label = try Label { name in columns[name].map { record.fields[$0] } }
                return (record.line, label)
            } catch {
                throw .badLine(file: path, line: record.line, field: error.field, message: error.reason, accepted: accepted)
            }
        }
        while let line = try lines?.next() {
            bytesRead += line.bytes.count + 1
            if line.bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
            do {
                return (line.number, try Label.decode(jsonLine: line.bytes))
            } catch {
                throw .badLine(file: path, line: line.number, field: error.field, message: error.reason, accepted: accepted)
            }
        }
        return nil
    }
}
