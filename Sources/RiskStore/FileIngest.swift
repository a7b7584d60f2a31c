import Dispatch
import Foundation
import Logging
import RiskContract
import Synchronization

/// What every backend's file ingest shares: reading the file, validating its lines on all cores
/// while the previous batch is written, the report, the progress calls and the log line. A
/// backend gives only how one batch is written, in one transaction.
///
/// The file is read and batches are waited for on ``BlockingWork/ingestQueue``, never on a
/// cooperative thread; the backend's `insert` runs wherever it likes.
package enum FileIngest {
    /// Ingests the events of a JSON-lines file, batch after batch; batch k+1 is validated on the
    /// other cores while batch k is written, and batches commit strictly in order.
    ///
    /// - Parameter insert: writes one batch in one transaction and returns the report updated
    ///   with it (``IngestReport/inserted`` and the duplicates); the first bad line's error is
    ///   thrown before its batch reaches `insert`.
    package static func events(
        fromFile path: String, batchSize: Int, progress: (@Sendable (IngestProgress) -> Void)?, logger: Logger,
        insert: (EventBatch, IngestReport) async throws(StoreError) -> IngestReport
    ) async throws(StoreError) -> IngestReport {
        precondition(batchSize > 0, "batch size must be positive")
        let batches = try await BlockingWork.run(on: BlockingWork.ingestQueue) { () throws(StoreError) in
            try EventFileBatches(path: path, batchSize: batchSize)
        }
        defer { batches.close() }
        var report = IngestReport(file: path)
        while true {
            let accepted = report
            guard
                let batch = try await BlockingWork.run(
                    on: BlockingWork.ingestQueue, { () throws(StoreError) in try batches.next(accepted: accepted) })
            else { break }
            report = try await insert(batch, report)
            report.batches += 1
            report.lastCommittedLine = batch.lastLine
            progress?(
                IngestProgress(
                    linesDone: report.lastCommittedLine, inserted: report.inserted, duplicates: report.duplicates,
                    bytesDone: batch.bytesDone))
        }
        logger.info(
            "ingested events", metadata: ["file": "\(path)", "inserted": "\(report.inserted)", "duplicates": "\(report.duplicates)"])
        return report
    }

    /// Ingests the labels of a CSV or JSON-lines file (``LabelRecords``), batch after batch.
    ///
    /// - Parameter insert: writes one batch in one transaction (every label naming a stored
    ///   event, or ``labelWithoutEvent(file:line:eventId:accepted:)``) and returns the report
    ///   updated with it.
    package static func labels(
        fromFile path: String, batchSize: Int, progress: (@Sendable (IngestProgress) -> Void)?, logger: Logger,
        insert: ([(line: Int, label: Label)], IngestReport) async throws(StoreError) -> IngestReport
    ) async throws(StoreError) -> IngestReport {
        precondition(batchSize > 0, "batch size must be positive")
        let records = try await BlockingWork.run(on: BlockingWork.ingestQueue) { () throws(StoreError) in
            LabelFileBatches(try LabelRecords(path: path))
        }
        var report = IngestReport(file: path)
        while true {
            let accepted = report
            let (batch, bytesDone) = try await BlockingWork.run(on: BlockingWork.ingestQueue) { () throws(StoreError) in
                try records.next(batchSize: batchSize, accepted: accepted)
            }
            guard !batch.isEmpty else { break }
            report = try await insert(batch, report)
            report.batches += 1
            report.lastCommittedLine = batch[batch.count - 1].line
            progress?(
                IngestProgress(
                    linesDone: report.lastCommittedLine, inserted: report.inserted, duplicates: report.duplicates, bytesDone: bytesDone))
        }
        logger.info(
            "ingested labels", metadata: ["file": "\(path)", "inserted": "\(report.inserted)", "duplicates": "\(report.duplicates)"])
        return report
    }

    /// Stores label versions received in memory (an API call) as one batch, numbered from 1 in
    /// the order given: ``RiskStore/Store/ingest(labels:source:)`` on every backend.
    package static func labels(
        _ labels: [Label], source: String, insert: ([(line: Int, label: Label)], IngestReport) async throws(StoreError) -> IngestReport
    ) async throws(StoreError) -> IngestReport {
        guard !labels.isEmpty else { return IngestReport(file: source) }
        var report = try await insert(labels.enumerated().map { ($0.offset + 1, $0.element) }, IngestReport(file: source))
        report.batches = 1
        report.lastCommittedLine = labels.count
        return report
    }

    /// The error of a label naming an event the store does not hold: the events come first.
    package static func labelWithoutEvent(file: String, line: Int, eventId: String, accepted: IngestReport) -> StoreError {
        .badLine(
            file: file, line: line, field: "event_id", message: "no event '\(eventId)' in the store (ingest events before their labels)",
            accepted: accepted)
    }

    /// The error of an event line whose id is stored with another payload.
    package static func eventIdTaken(file: String, line: Int, eventId: String, accepted: IngestReport) -> StoreError {
        .badLine(file: file, line: line, field: "id", message: StoreError.duplicateEventMessage(eventId), accepted: accepted)
    }
}

/// One validated batch of an events file.
package struct EventBatch: Sendable {
    /// A validated line: the typed event and the verbatim text to store.
    package struct Line: Sendable {
        package var number: Int
        package var event: Event
        package var payload: String
    }

    /// The batch's non-blank lines, in file order.
    package var lines: [Line]
    /// The first and last line numbers the batch covers (blank lines included).
    package var firstLine: Int
    package var lastLine: Int
    /// Bytes of the file read up to the end of this batch.
    package var bytesDone: Int
}

/// The label records of a file, a batch at a time: used by one task at a time, on the ingest queue.
private final class LabelFileBatches: @unchecked Sendable {
    private var records: LabelRecords

    init(_ records: LabelRecords) { self.records = records }

    func next(batchSize: Int, accepted: IngestReport) throws(StoreError) -> (batch: [(line: Int, label: Label)], bytesDone: Int) {
        var batch: [(line: Int, label: Label)] = []
        while batch.count < batchSize, let record = try records.next(accepted: accepted) { batch.append(record) }
        return (batch, records.bytesRead)
    }
}

/// The lines of an events file in validated batches, the next one validated on all cores while
/// the caller writes the current one. Used by one task at a time, on the ingest queue (it blocks).
private final class EventFileBatches: @unchecked Sendable {
    private var reader: LineReader
    private let path: String
    private let batchSize: Int
    private var bytesRead = 0
    private var pending: (lines: [LineReader.Line], bytesDone: Int, decode: PendingDecode)?
    private var started = false

    init(path: String, batchSize: Int) throws(StoreError) {
        reader = try LineReader(path: path)
        self.path = path
        self.batchSize = batchSize
    }

    func close() { reader.close() }

    /// The next batch, validated; `nil` at the end of the file. Starts validating the one after.
    func next(accepted: IngestReport) throws(StoreError) -> EventBatch? {
        if !started {
            started = true
            pending = try readBatch()
        }
        guard let current = pending else { return nil }
        pending = try readBatch()
        let parsed = try current.decode.wait(file: path, accepted: accepted)
        var lines: [EventBatch.Line] = []
        lines.reserveCapacity(parsed.count)
        for (line, event) in zip(current.lines, parsed) {
            guard let event else { continue }
            lines.append(EventBatch.Line(number: line.number, event: event.event, payload: event.payload))
        }
        return EventBatch(
            lines: lines, firstLine: current.lines[0].number, lastLine: current.lines[current.lines.count - 1].number,
            bytesDone: current.bytesDone)
    }

    /// Reads the next `batchSize` lines and starts validating them.
    private func readBatch() throws(StoreError) -> (lines: [LineReader.Line], bytesDone: Int, decode: PendingDecode)? {
        var batch: [LineReader.Line] = []
        batch.reserveCapacity(batchSize)
        while batch.count < batchSize, let line = try reader.next() {
            bytesRead += line.bytes.count + 1
            batch.append(line)
        }
        return batch.isEmpty ? nil : (batch, bytesRead, PendingDecode(batch))
    }
}

/// A batch being validated in the background on all cores.
private final class PendingDecode: Sendable {
    private let done = DispatchSemaphore(value: 0)
    private let result = Mutex<Result<[ParsedLine?], BadLine>?>(nil)

    /// A validated line: the typed event and the verbatim text to store.
    struct ParsedLine: Sendable {
        var event: Event
        var payload: String
    }

    private struct BadLine: Error {
        var line: Int
        var error: ContractError
    }

    init(_ batch: [LineReader.Line]) {
        DispatchQueue.global().async { [self] in
            let outcome = Self.decode(batch)
            result.withLock { $0 = outcome }
            done.signal()
        }
    }

    /// The batch's parsed lines (`nil` for blank lines), or the error of its first bad line.
    func wait(file: String, accepted: IngestReport) throws(StoreError) -> [ParsedLine?] {
        done.wait()
        switch result.withLock({ $0 })! {
        case .success(let events): return events
        case .failure(let bad):
            throw .badLine(file: file, line: bad.line, field: bad.error.field, message: bad.error.reason, accepted: accepted)
        }
    }

    /// Validates on all cores; the first bad line (lowest number) wins.
    private static func decode(_ batch: [LineReader.Line]) -> Result<[ParsedLine?], BadLine> {
        let sliceCount = min(batch.count, ProcessInfo.processInfo.activeProcessorCount * 4)
        let results = Mutex<[Int: Result<[ParsedLine?], BadLine>]>([:])
        DispatchQueue.concurrentPerform(iterations: sliceCount) { slice in
            let range = (batch.count * slice / sliceCount)..<(batch.count * (slice + 1) / sliceCount)
            var events: [ParsedLine?] = []
            events.reserveCapacity(range.count)
            var outcome: Result<[ParsedLine?], BadLine>? = nil
            for line in batch[range] {
                if line.bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) {
                    events.append(nil)  // blank lines are allowed and skipped
                    continue
                }
                do throws(ContractError) {
                    // The payload string is made here, on all cores, rather than on the writer.
                    events.append(
                        ParsedLine(event: try Event.decode(jsonLine: line.bytes), payload: String(decoding: line.bytes, as: UTF8.self)))
                } catch {
                    outcome = .failure(BadLine(line: line.number, error: error))
                    break
                }
            }
            let result = outcome ?? .success(events)
            results.withLock { $0[slice] = result }
        }
        var all: [ParsedLine?] = []
        all.reserveCapacity(batch.count)
        let slices = results.withLock { $0 }
        for slice in 0..<sliceCount {
            switch slices[slice]! {
            case .success(let events): all.append(contentsOf: events)
            case .failure(let bad): return .failure(bad)
            }
        }
        return .success(all)
    }
}
