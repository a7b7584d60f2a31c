import Foundation
import PostgresNIO
import RiskContract
import RiskStore

extension PostgresStore {
    // MARK: Events

    public func events(from: Timestamp, to: Timestamp, keepingJSON: Bool) async throws(StoreError) -> [(
        event: ParsedEvent, payload: String
    )] {
        let rows = try await rows(
            """
            SELECT payload FROM events WHERE occurred_at >= \(from.millisecondsSinceEpoch) AND occurred_at < \(to.millisecondsSinceEpoch)
            ORDER BY occurred_at, seq
            """)
        let payloads = try decodeAll(rows, as: String.self)
        return Array(zip(try BackgroundParser.parse(payloads, keepingJSON: keepingJSON), payloads))
    }

    public func trainingSnapshot(
        historyFrom: Timestamp, from: Timestamp, to: Timestamp, labelsKnownAt cutoff: Timestamp, keepingJSON: Bool
    ) async throws(StoreError) -> TrainingSnapshot {
        // The payloads are parsed on other threads, a batch at a time, while this task reads on.
        let parser = BackgroundParser(keepingJSON: keepingJSON)
        let (split, ids, labels, highWater) = try await snapshot { connection in
            let rows = try await connection.query(
                """
                SELECT occurred_at, payload, id FROM events
                WHERE occurred_at >= \(historyFrom.millisecondsSinceEpoch) AND occurred_at < \(to.millisecondsSinceEpoch)
                ORDER BY occurred_at, seq
                """, logger: logger)
            var batch = PayloadBatch()
            var ids: [String] = []
            var split = 0
            for try await (occurredAt, payload, id) in rows.decode((Int64, String, String).self) {
                batch.append(payload.utf8)
                ids.append(id)
                if occurredAt < from.millisecondsSinceEpoch { split = ids.count }
                if batch.count == parser.batchSize {
                    parser.submit(batch)
                    batch = PayloadBatch()
                }
            }
            parser.submit(batch)
            let versions = try await connection.query(
                """
                SELECT event_id, outcome, reported_at, source FROM labels WHERE reported_at <= \(cutoff.millisecondsSinceEpoch)
                ORDER BY reported_at, seq
                """, logger: logger)
            var labels: [Label] = []
            for try await row in versions.decode((String, String, Int64, String).self) { labels.append(try Self.label(row)) }
            var highWater: Int64 = 0
            for try await seq in try await connection.query("SELECT COALESCE(MAX(seq), 0) FROM labels", logger: logger).decode(Int64.self) {
                highWater = seq
            }
            return (split, ids, labels, highWater)
        }
        let outcomes = Label.latestOutcomes(of: ids[split...].map(Optional.some), versions: labels)
        let events = try await BlockingWork.run(on: BlockingWork.ingestQueue) { () throws(StoreError) in try parser.finish() }
        return TrainingSnapshot(
            warmup: Array(events[..<split]), events: Array(events[split...]), labelVersions: labels, labelHighWater: highWater,
            outcomes: outcomes)
    }

    public func earliestEventTime(of ids: [String]) async throws(StoreError) -> Timestamp? {
        guard !ids.isEmpty else { return nil }
        return try decodeAll(try await rows("SELECT MIN(occurred_at) FROM events WHERE id = ANY(\(ids))"), as: Int64?.self)
            .first?.map(Timestamp.init(millisecondsSinceEpoch:))
    }

    public func latestEventTime() async throws(StoreError) -> Timestamp? {
        try decodeAll(try await rows("SELECT MAX(occurred_at) FROM events"), as: Int64?.self).first?.map(
            Timestamp.init(millisecondsSinceEpoch:))
    }

    public func storedEvents(ids: [String]) async throws(StoreError) -> [String: StoredEvent] {
        guard !ids.isEmpty else { return [:] }
        // Nearly every request brings new ids: the unpartitioned id table answers it alone, without
        // a probe into every month's partitions.
        let known = try decodeAll(try await rows("SELECT id FROM event_ids WHERE id = ANY(\(ids))"), as: String.self)
        guard !known.isEmpty else { return [:] }
        let rows = try await rows(
            """
            SELECT e.id, e.payload,
                   (SELECT d.answer FROM decisions d WHERE d.event_id = e.id AND d.occurred_at = e.occurred_at ORDER BY d.id LIMIT 1)
            FROM events e WHERE e.id = ANY(\(known))
            """)
        var stored: [String: StoredEvent] = [:]
        for (id, payload, answer) in try decodeAll(rows, as: (String, String, String?).self) {
            stored[id] = StoredEvent(payload: payload, answer: answer)
        }
        return stored
    }

    // MARK: Labels

    public func labels(knownAt cutoff: Timestamp) async throws(StoreError) -> [String: Label] {
        let rows = try await rows(
            """
            SELECT DISTINCT ON (event_id) event_id, outcome, reported_at, source FROM labels
            WHERE reported_at <= \(cutoff.millisecondsSinceEpoch) ORDER BY event_id, reported_at DESC, seq DESC
            """)
        var labels: [String: Label] = [:]
        for row in try decodeAll(rows, as: (String, String, Int64, String).self) {
            let label = try Self.label(row)
            labels[label.eventId] = label
        }
        return labels
    }

    public func labelVersions(eventId: String) async throws(StoreError) -> [Label] {
        try decodeAll(
            try await rows(
                "SELECT event_id, outcome, reported_at, source FROM labels WHERE event_id = \(eventId) ORDER BY reported_at, seq"),
            as: (String, String, Int64, String).self
        ).map { (row) throws(StoreError) in try Self.label(row) }
    }

    public func labelVersions(reportedAfter after: Timestamp, through: Timestamp) async throws(StoreError) -> [(
        label: Label, eventWasLabelled: Bool
    )] {
        let rows = try await rows(
            """
            SELECT l.event_id, l.outcome, l.reported_at, l.source,
                   EXISTS (SELECT 1 FROM labels p WHERE p.event_id = l.event_id AND p.reported_at <= \(after.millisecondsSinceEpoch))
            FROM labels l WHERE l.reported_at > \(after.millisecondsSinceEpoch) AND l.reported_at <= \(through.millisecondsSinceEpoch)
            ORDER BY l.reported_at, l.seq
            """)
        return try decodeAll(rows, as: (String, String, Int64, String, Bool).self).map { (row) throws(StoreError) in
            (try Self.label((row.0, row.1, row.2, row.3)), row.4)
        }
    }

    public func labelVersionCount(after seq: Int64) async throws(StoreError) -> Int {
        Int(try decodeAll(try await rows("SELECT COUNT(*) FROM labels WHERE seq > \(seq)"), as: Int64.self).first ?? 0)
    }

    public func labelSourceCounts(from: Timestamp, to: Timestamp, knownAt: Timestamp) async throws(StoreError) -> [LabelSourceCount] {
        let rows = try await rows(
            """
            SELECT source, COUNT(*), COUNT(*) FILTER (WHERE outcome = 'fraud') FROM (
                SELECT DISTINCT ON (l.event_id) l.source, l.outcome
                FROM labels l JOIN events e ON e.id = l.event_id
                WHERE e.occurred_at >= \(from.millisecondsSinceEpoch) AND e.occurred_at < \(to.millisecondsSinceEpoch)
                  AND l.reported_at <= \(knownAt.millisecondsSinceEpoch)
                ORDER BY l.event_id, l.reported_at DESC, l.seq DESC) latest
            GROUP BY source ORDER BY 2 DESC, source
            """)
        return try decodeAll(rows, as: (String, Int64, Int64).self).map {
            LabelSourceCount(source: $0.0, events: Int($0.1), fraud: Int($0.2))
        }
    }

    /// The label of a row `event_id, outcome, reported_at, source`.
    ///
    /// - Throws: ``RiskStore/StoreError/database(message:)`` for an outcome the code does not know.
    static func label(_ row: (String, String, Int64, String)) throws(StoreError) -> Label {
        guard let outcome = Outcome(rawValue: row.1) else {
            throw .database(message: "labels row of event '\(row.0)': unknown outcome '\(row.1)'")
        }
        return Label(eventId: row.0, outcome: outcome, reportedAt: Timestamp(millisecondsSinceEpoch: row.2), source: row.3)
    }

    /// Decodes every row as `T`, naming the column type that did not match.
    func decodeAll<T: PostgresDecodable>(_ rows: [PostgresRow], as type: T.Type) throws(StoreError) -> [T] {
        do {
            return try rows.map { try $0.decode(T.self) }
        } catch {
            throw StoreError(postgres: error, at: url)
        }
    }

    func decodeAll<each T: PostgresDecodable>(_ rows: [PostgresRow], as type: (repeat each T).Type) throws(StoreError) -> [(repeat each T)]
    {
        do {
            return try rows.map { try $0.decode((repeat each T).self) }
        } catch {
            throw StoreError(postgres: error, at: url)
        }
    }
}
