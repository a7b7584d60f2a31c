import Dispatch
import Foundation
import RiskContract
import RiskFeatures
import RiskStore
import Synchronization

/// Reads events or generic records from a file in batches, parsing each batch on all cores.
public enum RecordFile {
    public enum Mode: Sendable {
        /// Every line must be an event (ARCHITECTURE.md §5.1); errors name the line and field.
        /// The JSON trees are dropped after validation: fields outside the contract read as missing.
        case typedEvents
        /// Every line must be an event (ARCHITECTURE.md §5.1); errors name the line and field.
        case events
        /// Any JSON objects, or CSV rows (cells become numbers, true/false or strings; empty cells
        /// are missing). Times come from an `occurred_at` field.
        case records
    }

    /// Small enough that parsing the next batch overlaps well with work on this one.
    public static let defaultBatchSize = 8_192

    /// The mode that reads events for `extractor`: keeping each JSON tree only if it needs one.
    public static func eventMode(for extractor: FeatureExtractor) -> Mode {
        extractor.needsJSON ? .events : .typedEvents
    }

    /// Calls `body` with each batch of parsed records, in file order.
    public static func forEachBatch(
        _ path: String, mode: Mode, batchSize: Int = defaultBatchSize, _ body: ([ParsedEvent]) throws(EngineError) -> Void
    ) throws(EngineError) {
        if path.lowercased().hasSuffix(".csv") {
            let records = try csvRecords(path)
            for start in stride(from: 0, to: records.count, by: batchSize) {
                try body(Array(records[start..<min(start + batchSize, records.count)]))
            }
            return
        }
        var reader: LineReader
        do {
            reader = try LineReader(path: path)
        } catch {
            throw .cannotRead(path: path, reason: "\(error)")
        }
        defer { reader.close() }
        // Pipelined: batch k+1 is parsed on the other cores while `body` works on batch k.
        var pending: PendingParse? = nil
        while true {
            var batch: [LineReader.Line] = []
            do {
                while batch.count < batchSize, let line = try reader.next() {
                    if line.bytes.contains(where: { $0 != 0x20 && $0 != 0x09 }) { batch.append(line) }
                }
            } catch {
                throw .cannotRead(path: path, reason: "\(error)")
            }
            let next = batch.isEmpty ? nil : PendingParse(batch, mode: mode, path: path)
            if let pending { try body(try pending.wait()) }
            guard let next else { return }
            pending = next
        }
    }

    /// A batch being parsed in the background.
    private final class PendingParse: Sendable {
        private let done = DispatchSemaphore(value: 0)
        private let result = Mutex<Result<[ParsedEvent], EngineError>?>(nil)

        init(_ batch: [LineReader.Line], mode: Mode, path: String) {
            DispatchQueue.global().async { [self] in
                let outcome = Result { () throws(EngineError) in try RecordFile.parse(batch, mode: mode, path: path) }
                result.withLock { $0 = outcome }
                done.signal()
            }
        }

        func wait() throws(EngineError) -> [ParsedEvent] {
            done.wait()
            return try result.withLock { $0 }!.get()
        }
    }

    /// Reads every label version of a label file (CSV or JSON lines), in file order.
    public static func labels(_ path: String) throws(EngineError) -> [Label] {
        do {
            var records = try LabelRecords(path: path)
            var labels: [Label] = []
            while let record = try records.next(accepted: IngestReport(file: path)) { labels.append(record.label) }
            return labels
        } catch {
            switch error {
            case .badLine(let file, let line, let field, let message, _):
                throw .badInput(file: file, line: line, column: field, reason: message)
            case .cannotRead(let path, let reason): throw .cannotRead(path: path, reason: reason)
            default: throw .cannotRead(path: path, reason: error.description)
            }
        }
    }

    fileprivate static func parse(_ batch: [LineReader.Line], mode: Mode, path: String) throws(EngineError) -> [ParsedEvent] {
        let sliceCount = min(batch.count, ProcessInfo.processInfo.activeProcessorCount * 4)
        let results = Mutex<[Int: Result<[ParsedEvent], EngineError>]>([:])
        DispatchQueue.concurrentPerform(iterations: sliceCount) { slice in
            let range = (batch.count * slice / sliceCount)..<(batch.count * (slice + 1) / sliceCount)
            var parsed: [ParsedEvent] = []
            parsed.reserveCapacity(range.count)
            var failure: EngineError? = nil
            for line in batch[range] {
                do throws(ContractError) {
                    switch mode {
                    case .events: parsed.append(try ParsedEvent(jsonLine: line.bytes))
                    case .typedEvents: parsed.append(try ParsedEvent(jsonLine: line.bytes, keepingJSON: false))
                    case .records:
                        let json = try JSONValue.parse(line.bytes)
                        guard case .object = json else { throw .malformedJSON(reason: "expected a JSON object") }
                        parsed.append(ParsedEvent(record: json))
                    }
                } catch {
                    failure = .badInput(file: path, line: line.number, column: error.field, reason: error.reason)
                    break
                }
            }
            let result: Result<[ParsedEvent], EngineError> = failure.map { .failure($0) } ?? .success(parsed)
            results.withLock { $0[slice] = result }
        }
        var all: [ParsedEvent] = []
        all.reserveCapacity(batch.count)
        let slices = results.withLock { $0 }
        for slice in 0..<sliceCount { all += try slices[slice]!.get() }
        return all
    }

    private static func csvRecords(_ path: String) throws(EngineError) -> [ParsedEvent] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .cannotRead(path: path, reason: FileManager.default.fileExists(atPath: path) ? "permission denied" : "no such file")
        }
        var reader = CSVReader(bytes: Array(data))
        var records: [ParsedEvent] = []
        do {
            guard let header = try reader.next() else { return [] }
            let names = header.fields.map { $0.trimmingCharacters(in: .whitespaces) }
            while let record = try reader.next() {
                guard record.fields.count == names.count else {
                    throw EngineError.badInput(
                        file: path, line: record.line, column: nil,
                        reason: "\(record.fields.count) fields where the header has \(names.count)")
                }
                var members: [JSONObject.Member] = []
                for (name, cell) in zip(names, record.fields) {
                    let text = cell.trimmingCharacters(in: .whitespaces)
                    guard !text.isEmpty else { continue }
                    let value: JSONValue =
                        if let number = Double(text), number.isFinite { .number(number) } else if text == "true" || text == "false" {
                            .bool(text == "true")
                        } else { .string(text) }
                    members.append(JSONObject.Member(key: name, value: value))
                }
                records.append(ParsedEvent(record: .object(JSONObject(members))))
            }
        } catch let error as EngineError {
            throw error
        } catch let error as ContractError {
            let line: Int? = if case .malformedCSV(let line, _) = error { line } else { nil }
            throw .badInput(file: path, line: line, column: nil, reason: error.description)
        } catch {
            throw .cannotRead(path: path, reason: "\(error)")
        }
        return records
    }
}
