import Foundation
import GRDB
import RiskContract
import RiskStore

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
        try await FileIngest.events(fromFile: path, batchSize: batchSize, progress: progress, logger: logger) {
            (batch, report) throws(StoreError) in
            try await self.insertEvents(batch, file: path, report: report)
        }
    }

    /// Writes one validated batch in one transaction; an id stored with another payload is a bad line.
    private func insertEvents(_ batch: EventBatch, file: String, report: IngestReport) async throws(StoreError) -> IngestReport {
        try await write { db in
            var updated = report
            let batchId = try Self.openBatch(db, kind: "events", file: file, firstLine: batch.firstLine)
            let insert = try db.cachedStatement(
                sql: """
                    INSERT INTO events (id, occurred_at, customer_id, kind, payload, batch_id)
                    VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING
                    """)
            var inserted = 0, duplicates = 0
            for line in batch.lines {
                let event = line.event
                try insert.execute(arguments: [
                    event.id, event.occurredAt.millisecondsSinceEpoch, event.customerId, event.kind.rawValue, line.payload, batchId,
                ])
                if db.changesCount == 0 {
                    do {
                        try Self.requireSamePayload(db, id: event.id, payload: line.payload)
                    } catch StoreError.duplicateEvent {
                        throw FileIngest.eventIdTaken(file: file, line: line.number, eventId: event.id, accepted: report)
                    }
                    duplicates += 1
                    updated.noteDuplicate(line: line.number, id: event.id)
                } else {
                    inserted += 1
                }
            }
            try Self.closeBatch(db, id: batchId, lastLine: batch.lastLine, inserted: inserted, duplicates: duplicates)
            updated.inserted += inserted
            return updated
        }
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
