import Foundation
import PostgresNIO
import RiskContract
import RiskStore

extension PostgresStore {
    /// Ingests events from a JSON-lines file, one transaction per batch, with multi-row inserts:
    /// the semantics of ``RiskStore/Store/ingestEvents(fromFile:batchSize:progress:)``.
    public func ingestEvents(
        fromFile path: String, batchSize: Int, progress: (@Sendable (IngestProgress) -> Void)?
    ) async throws(StoreError) -> IngestReport {
        try await FileIngest.events(fromFile: path, batchSize: batchSize, progress: progress, logger: logger) {
            (batch, report) throws(StoreError) in
            try await withPartitions(batch.lines.map(\.event.occurredAt.millisecondsSinceEpoch)) { () throws(StoreError) in
                try await insertEventBatch(batch, file: path, report: report)
            }
        }
    }

    private func insertEventBatch(_ batch: EventBatch, file path: String, report: IngestReport) async throws(StoreError) -> IngestReport {
        try await transaction { connection in
            var updated = report
            let batchId = try await self.openBatch(connection, kind: "events", file: path, firstLine: batch.firstLine)
            let rows = batch.lines.map { line in
                (event: line.event, payload: line.payload, batchId: Optional(batchId))
            }
            let inserted = try await self.insertEvents(connection, rows)
            // A line whose id was not inserted repeats a stored event (or an earlier line):
            // the same JSON is a duplicate, other JSON a bad line.
            var claimed: Set<String> = []
            var repeats: [EventBatch.Line] = []
            for line in batch.lines {
                if inserted.contains(line.event.id), claimed.insert(line.event.id).inserted { continue }
                repeats.append(line)
            }
            let stored = try await self.payloads(connection, ids: repeats.map(\.event.id))
            for line in repeats {
                guard JSONValue.sameDocument(stored[line.event.id] ?? "", line.payload) else {
                    throw FileIngest.eventIdTaken(file: path, line: line.number, eventId: line.event.id, accepted: report)
                }
                updated.noteDuplicate(line: line.number, id: line.event.id)
            }
            try await self.closeBatch(
                connection, id: batchId, lastLine: batch.lastLine, inserted: claimed.count, duplicates: repeats.count)
            updated.inserted += claimed.count
            return updated
        }
    }

    /// Inserts events (skipping ids already stored, and any but the first row of an id) and
    /// returns the ids it inserted. The id is claimed in `event_ids`, which keeps ids unique
    /// across the months' partitions, in the same statement as the event's row.
    ///
    /// The months' partitions must exist first (``withPartitions(_:_:)``), or the insert fails.
    func insertEvents(_ connection: PostgresConnection, _ rows: [(event: Event, payload: String, batchId: Int64?)]) async throws -> Set<
        String
    > {
        var inserted: Set<String> = [], offered: Set<String> = []
        let firsts = rows.filter { offered.insert($0.event.id).inserted }
        let chunk = RowsInsert.chunkSize(columns: 6)
        for start in stride(from: 0, to: firsts.count, by: chunk) {
            var insert = RowsInsert()
            for row in firsts[start..<min(start + chunk, firsts.count)] {
                try insert.add(row.event.id)
                try insert.add(row.event.occurredAt.millisecondsSinceEpoch)
                try insert.add(row.event.customerId)
                try insert.add(row.event.kind.rawValue)
                try insert.add(row.payload)
                try insert.add(row.batchId)
                insert.endRow()
            }
            let query = insert.query(
                "WITH incoming (id, occurred_at, customer_id, kind, payload, batch_id) AS (",
                """
                ), claimed AS (
                    INSERT INTO event_ids (id, occurred_at) SELECT id, occurred_at FROM incoming
                    ON CONFLICT (id) DO NOTHING RETURNING id
                )
                INSERT INTO events (id, occurred_at, customer_id, kind, payload, batch_id)
                SELECT incoming.id, incoming.occurred_at, incoming.customer_id, incoming.kind, incoming.payload,
                       CAST(incoming.batch_id AS BIGINT)
                FROM incoming JOIN claimed ON claimed.id = incoming.id RETURNING id
                """)
            for try await id in try await connection.query(query, logger: logger).decode(String.self) { inserted.insert(id) }
        }
        return inserted
    }

    /// The stored payloads of `ids`, by id.
    func payloads(_ connection: PostgresConnection, ids: [String]) async throws -> [String: String] {
        guard !ids.isEmpty else { return [:] }
        var payloads: [String: String] = [:]
        // Locked as a foreign key would: retention cannot remove them before this commits.
        let rows = try await connection.query(
            """
            SELECT e.id, e.payload FROM event_ids i JOIN events e ON e.id = i.id AND e.occurred_at = i.occurred_at
            WHERE i.id = ANY(\(ids)) FOR KEY SHARE OF i
            """, logger: logger)
        for try await (id, payload) in rows.decode((String, String).self) { payloads[id] = payload }
        return payloads
    }

    /// Ingests labels from CSV or JSON lines, one transaction per batch: the semantics of
    /// ``RiskStore/Store/ingestLabels(fromFile:batchSize:progress:)``.
    public func ingestLabels(
        fromFile path: String, batchSize: Int, progress: (@Sendable (IngestProgress) -> Void)?
    ) async throws(StoreError) -> IngestReport {
        try await FileIngest.labels(fromFile: path, batchSize: batchSize, progress: progress, logger: logger) {
            (batch, report) throws(StoreError) in
            try await insertLabels(batch, file: path, report: report)
        }
    }

    /// Stores label versions received in memory, in one transaction.
    public func ingest(labels: [Label], source: String) async throws(StoreError) -> IngestReport {
        try await FileIngest.labels(labels, source: source) { (batch, report) throws(StoreError) in
            try await insertLabels(batch, file: source, report: report)
        }
    }

    /// Writes one batch of labels in one transaction; a label naming no stored event fails it.
    private func insertLabels(_ batch: [(line: Int, label: Label)], file: String, report: IngestReport) async throws(StoreError)
        -> IngestReport
    {
        try await transaction { connection in
            try await self.lockLogAppend(connection)
            var updated = report
            let batchId = try await self.openBatch(connection, kind: "labels", file: file, firstLine: batch[0].line)
            var known: Set<String> = []
            let ids = Array(Set(batch.map(\.label.eventId)))
            // Locked as a foreign key would: retention cannot remove them before this commits.
            for try await id in try await connection.query(
                "SELECT id FROM event_ids WHERE id = ANY(\(ids)) FOR KEY SHARE", logger: logger
            ).decode(
                String.self)
            {
                known.insert(id)
            }
            if let missing = batch.first(where: { !known.contains($0.label.eventId) }) {
                throw FileIngest.labelWithoutEvent(file: file, line: missing.line, eventId: missing.label.eventId, accepted: report)
            }
            struct Key: Hashable {
                var eventId: String, outcome: String, reportedAt: Int64, source: String
            }
            var inserted: Set<Key> = []
            let chunk = RowsInsert.chunkSize(columns: 5)
            for start in stride(from: 0, to: batch.count, by: chunk) {
                var insert = RowsInsert()
                for (_, label) in batch[start..<min(start + chunk, batch.count)] {
                    try insert.add(label.eventId)
                    try insert.add(label.outcome.rawValue)
                    try insert.add(label.reportedAt.millisecondsSinceEpoch)
                    try insert.add(label.source)
                    try insert.add(batchId)
                    insert.endRow()
                }
                let query = insert.query(
                    "INSERT INTO labels (event_id, outcome, reported_at, source, batch_id)",
                    "ON CONFLICT (event_id, reported_at, outcome, source) DO NOTHING RETURNING event_id, outcome, reported_at, source")
                for try await (eventId, outcome, reportedAt, source) in try await connection.query(query, logger: logger).decode(
                    (String, String, Int64, String).self)
                {
                    inserted.insert(Key(eventId: eventId, outcome: outcome, reportedAt: reportedAt, source: source))
                }
            }
            var count = 0, duplicates = 0
            for (line, label) in batch {
                let key = Key(
                    eventId: label.eventId, outcome: label.outcome.rawValue, reportedAt: label.reportedAt.millisecondsSinceEpoch,
                    source: label.source)
                if inserted.remove(key) != nil {
                    count += 1
                } else {
                    duplicates += 1
                    updated.noteDuplicate(line: line, id: "\(label.eventId)@\(label.reportedAt.rfc3339)")
                }
            }
            try await self.closeBatch(
                connection, id: batchId, lastLine: batch[batch.count - 1].line, inserted: count, duplicates: duplicates)
            updated.inserted += count
            return updated
        }
    }

    func openBatch(_ connection: PostgresConnection, kind: String, file: String, firstLine: Int) async throws -> Int64 {
        let rows = try await connection.query(
            """
            INSERT INTO ingest_batches (kind, source, first_line, last_line, inserted, duplicates, committed_at)
            VALUES (\(kind), \(file), \(firstLine), \(firstLine), 0, 0, \(Self.nowMilliseconds())) RETURNING id
            """, logger: logger)
        for try await id in rows.decode(Int64.self) { return id }
        throw StoreError.database(message: "ingest_batches: no id returned")
    }

    func closeBatch(_ connection: PostgresConnection, id: Int64, lastLine: Int, inserted: Int, duplicates: Int) async throws {
        try await connection.query(
            "UPDATE ingest_batches SET last_line = \(lastLine), inserted = \(inserted), duplicates = \(duplicates) WHERE id = \(id)",
            logger: logger)
    }
}
