import Dispatch
import Foundation
import GRDB
import RiskContract
import RiskStore
import Synchronization

extension SQLiteStore {
    /// Ingests events from a JSON-lines file (ARCHITECTURE.md §5.1), one transaction per batch.
    ///
    /// Each line is validated (``RiskFeatures/Event``) and stored verbatim. An id the store
    /// already holds with the same JSON (in any member order) is reported as a duplicate and
    /// skipped; with other JSON it is a bad line (an id names one event for good). A line that breaks the contract stops
    /// the ingest with ``StoreError/badLine(file:line:field:message:accepted:)``: its batch is
    /// rolled back, the batches before it stay committed, so after fixing the line the same
    /// command resumes (the committed lines come back as duplicates).
    ///
    /// - Parameters:
    ///   - batchSize: lines per transaction.
    ///   - progress: called after each committed batch.
    public func ingestEvents(
        fromFile path: String, batchSize: Int, progress: (@Sendable (IngestProgress) -> Void)?
    ) async throws(StoreError) -> IngestReport {
        try await BlockingWork.run(on: Self.ingestQueue) { () throws(StoreError) in
            try self.ingestEventsBlocking(fromFile: path, batchSize: batchSize, progress: progress)
        }
    }

    /// Where file ingests run: they read the file and wait for their validation batches, so they
    /// block a thread for their whole length.
    static let ingestQueue = DispatchQueue(label: "riskloop.ingest", attributes: .concurrent)

    private func ingestEventsBlocking(
        fromFile path: String, batchSize: Int, progress: (@Sendable (IngestProgress) -> Void)?
    ) throws(StoreError) -> IngestReport {
        precondition(batchSize > 0, "batch size must be positive")
        var reader = try LineReader(path: path)
        defer { reader.close() }
        var report = IngestReport(file: path)
        var bytesDone = 0
        // Pipelined: batch k+1 is validated on the other cores while batch k is written, so that
        // parsing and SQLite overlap. Batches still commit strictly in order.
        var pending: (lines: [LineReader.Line], parsed: PendingDecode)? = nil
        while true {
            var batch: [LineReader.Line] = []
            batch.reserveCapacity(batchSize)
            while batch.count < batchSize, let line = try reader.next() {
                bytesDone += line.bytes.count + 1
                batch.append(line)
            }
            let next = batch.isEmpty ? nil : (batch, PendingDecode(batch))
            if let (lines, parsed) = pending {
                let events = try parsed.wait(file: path, accepted: report)
                try insertEvents(events, batch: lines, file: path, report: &report)
                progress?(
                    IngestProgress(
                        linesDone: report.lastCommittedLine, inserted: report.inserted, duplicates: report.duplicates, bytesDone: bytesDone)
                )
            }
            guard let next else { break }
            pending = next
        }
        logger.info(
            "ingested events", metadata: ["file": "\(path)", "inserted": "\(report.inserted)", "duplicates": "\(report.duplicates)"])
        return report
    }

    /// A batch being validated in the background on all cores.
    private final class PendingDecode: Sendable {
        private let done = DispatchSemaphore(value: 0)
        private let result = Mutex<Result<[ParsedLine?], BadLine>?>(nil)

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

    /// A validated line: the typed event and the verbatim text to store.
    private struct ParsedLine: Sendable {
        var event: Event
        var payload: String
    }

    private struct BadLine: Error {
        var line: Int
        var error: ContractError
    }

    private func insertEvents(_ events: [ParsedLine?], batch: [LineReader.Line], file: String, report: inout IngestReport)
        throws(StoreError)
    {
        var updated = report
        try writeBlocking { db in
            let batchId = try Self.openBatch(db, kind: "events", file: file, firstLine: batch[0].number)
            let insert = try db.cachedStatement(
                sql: """
                    INSERT INTO events (id, occurred_at, customer_id, kind, payload, batch_id)
                    VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING
                    """)
            var inserted = 0, duplicates = 0
            for (parsed, line) in zip(events, batch) {
                guard let parsed else { continue }
                let event = parsed.event
                try insert.execute(arguments: [
                    event.id, event.occurredAt.millisecondsSinceEpoch, event.customerId, event.kind.rawValue, parsed.payload, batchId,
                ])
                if db.changesCount == 0 {
                    do {
                        try Self.requireSamePayload(db, id: event.id, payload: parsed.payload)
                    } catch StoreError.duplicateEvent {
                        throw StoreError.badLine(
                            file: file, line: line.number, field: "id", message: StoreError.duplicateEventMessage(event.id),
                            accepted: report)
                    }
                    duplicates += 1
                    updated.noteDuplicate(line: line.number, id: event.id)
                } else {
                    inserted += 1
                }
            }
            try Self.closeBatch(db, id: batchId, lastLine: batch[batch.count - 1].number, inserted: inserted, duplicates: duplicates)
            updated.inserted += inserted
        }
        updated.batches += 1
        updated.lastCommittedLine = batch[batch.count - 1].number
        report = updated
    }

    static func openBatch(_ db: Database, kind: String, file: String, firstLine: Int) throws -> Int64 {
        try db.execute(
            sql: """
                INSERT INTO ingest_batches (kind, source, first_line, last_line, inserted, duplicates, committed_at)
                VALUES (?, ?, ?, ?, 0, 0, ?)
                """,
            arguments: [kind, file, firstLine, firstLine, Self.nowMilliseconds()])
        return db.lastInsertedRowID
    }

    static func closeBatch(_ db: Database, id: Int64, lastLine: Int, inserted: Int, duplicates: Int) throws {
        try db.execute(
            sql: "UPDATE ingest_batches SET last_line = ?, inserted = ?, duplicates = ? WHERE id = ?",
            arguments: [lastLine, inserted, duplicates, id])
    }

    static func nowMilliseconds() -> Int64 {
        Int64((Date().timeIntervalSince1970 * 1000).rounded())
    }
}
