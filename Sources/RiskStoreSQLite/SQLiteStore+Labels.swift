import Foundation
import GRDB
import RiskContract
import RiskStore

extension SQLiteStore {
    /// Ingests labels (ARCHITECTURE.md §5.2) from CSV with a header row (`.csv`) or from JSON lines
    /// (any other extension), one transaction per batch.
    ///
    /// Every version is kept; a label identical to a stored one (same event, outcome, time and
    /// source) is a duplicate and skipped, so re-ingesting a file changes nothing. A label for an
    /// event the store does not hold is an error naming its line: the events come first.
    /// Failure semantics are those of ``ingestEvents(fromFile:batchSize:progress:)``.
    public func ingestLabels(
        fromFile path: String, batchSize: Int, progress: (@Sendable (IngestProgress) -> Void)?
    ) async throws(StoreError) -> IngestReport {
        try await FileIngest.labels(fromFile: path, batchSize: batchSize, progress: progress, logger: logger) {
            (batch, report) throws(StoreError) in
            try await self.insertLabels(batch, file: path, report: report)
        }
    }

    /// Writes one batch of labels in one transaction; a label naming no stored event fails it.
    func insertLabels(_ batch: [(line: Int, label: Label)], file: String, report: IngestReport) async throws(StoreError) -> IngestReport {
        try await write { db in
            var updated = report
            let batchId = try Self.openBatch(db, kind: "labels", file: file, firstLine: batch[0].line)
            let eventExists = try db.cachedStatement(sql: "SELECT 1 FROM events WHERE id = ?")
            let insert = try db.cachedStatement(
                sql: """
                    INSERT INTO labels (event_id, outcome, reported_at, source, batch_id) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT (event_id, reported_at, outcome, source) DO NOTHING
                    """)
            var inserted = 0, duplicates = 0
            for (line, label) in batch {
                guard try Bool.fetchOne(eventExists, arguments: [label.eventId]) == true else {
                    throw FileIngest.labelWithoutEvent(file: file, line: line, eventId: label.eventId, accepted: report)
                }
                try insert.execute(arguments: [
                    label.eventId, label.outcome.rawValue, label.reportedAt.millisecondsSinceEpoch, label.source, batchId,
                ])
                if db.changesCount == 0 {
                    duplicates += 1
                    updated.noteDuplicate(line: line, id: "\(label.eventId)@\(label.reportedAt.rfc3339)")
                } else {
                    inserted += 1
                }
            }
            try Self.closeBatch(db, id: batchId, lastLine: batch[batch.count - 1].line, inserted: inserted, duplicates: duplicates)
            updated.inserted += inserted
            return updated
        }
    }

    /// The label of each event as it was known at `cutoff`: per event, the latest version reported
    /// at or before it. Events without a label by then are absent.
    public func labels(knownAt cutoff: Timestamp) async throws(StoreError) -> [String: Label] {
        try await read { db in
            let rows = try Row.fetchCursor(
                db,
                sql: """
                    SELECT event_id, outcome, reported_at, source FROM (
                        SELECT *, ROW_NUMBER() OVER (PARTITION BY event_id ORDER BY reported_at DESC, seq DESC) AS version_rank
                        FROM labels WHERE reported_at <= ?)
                    WHERE version_rank = 1
                    """,
                arguments: [cutoff.millisecondsSinceEpoch])
            var labels: [String: Label] = [:]
            while let row = try rows.next() {
                let label = try Self.label(row)
                labels[label.eventId] = label
            }
            return labels
        }
    }

    /// Every stored version of the label of one event, oldest first.
    public func labelVersions(eventId: String) async throws(StoreError) -> [Label] {
        try await read { db in
            try Row.fetchAll(
                db, sql: "SELECT event_id, outcome, reported_at, source FROM labels WHERE event_id = ? ORDER BY reported_at, seq",
                arguments: [eventId]
            ).map(Self.label)
        }
    }

    /// The label of a row whose first four columns are `event_id, outcome, reported_at, source`.
    /// Columns are read by position: a lookup by name per column and row was a measurable part
    /// of reading a million label versions.
    ///
    /// - Throws: ``RiskStore/StoreError/database(message:)`` for an outcome the code does not
    ///   know (the CHECK constraint allows only known ones), rather than reading it as another.
    static func label(_ row: Row) throws -> Label {
        let outcomeText: String = row[1]
        guard let outcome = Outcome(rawValue: outcomeText) else {
            throw StoreError.database(message: "labels row of event '\(row[0] as String)': unknown outcome '\(outcomeText)'")
        }
        return Label(eventId: row[0], outcome: outcome, reportedAt: Timestamp(millisecondsSinceEpoch: row[2]), source: row[3])
    }
}
