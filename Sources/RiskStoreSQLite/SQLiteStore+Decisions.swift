import Foundation
import GRDB
import RiskContract
import RiskStore

extension SQLiteStore {
    /// Stores the events and their decisions, all in one transaction: either every decision of
    /// the call is logged, or none. A `review` decision opens its event's case. An id already stored with the same payload (equal JSON, in
    /// any member order) keeps its stored event.
    ///
    /// - Throws: ``StoreError/conflict(reason:)`` when an event's id is stored with another
    ///   payload: an id names one event for good.
    public func log(_ decisions: [DecisionRecord]) async throws(StoreError) {
        guard !decisions.isEmpty else { return }
        try await write { db in
            let insertEvent = try db.cachedStatement(
                sql: """
                    INSERT INTO events (id, occurred_at, customer_id, kind, payload) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT (id) DO NOTHING
                    """)
            let insertDecision = try db.cachedStatement(
                sql: """
                    INSERT INTO decisions (event_id, occurred_at, decided_at, model_id, policy_version, score, decision, reasons,
                                           shadow_model_id, shadow_score, answer, replica, history_position, signals)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """)
            for record in decisions {
                let event = record.event
                try insertEvent.execute(arguments: [
                    event.id, event.occurredAt.millisecondsSinceEpoch, event.customerId, event.kind.rawValue, record.payload,
                ])
                if db.changesCount == 0 { try Self.requireSamePayload(db, id: event.id, payload: record.payload) }
                try insertDecision.execute(arguments: [
                    event.id, event.occurredAt.millisecondsSinceEpoch, record.decidedAt.millisecondsSinceEpoch, record.modelId,
                    record.policyVersion, record.score, record.decision,
                    record.reasons, record.shadowModelId, record.shadowScore, record.answer, record.replica, record.historyPosition,
                    record.signals,
                ])
                if record.decision == CaseTrigger.review.rawValue {
                    try Self.openCase(
                        db, eventId: event.id, customerId: event.customerId, occurredAt: event.occurredAt.millisecondsSinceEpoch,
                        decisionId: db.lastInsertedRowID, trigger: .review, at: record.decidedAt.millisecondsSinceEpoch)
                }
            }
        }
    }

    /// The last decision and label version stored. SQLite has one writer at a time, so ids are
    /// assigned in commit order and a tail never misses one.
    public func logPosition() async throws(StoreError) -> LogPosition {
        try await read { db in
            LogPosition(
                decision: try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(id), 0) FROM decisions") ?? 0,
                label: try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(seq), 0) FROM labels") ?? 0)
        }
    }

    public func logTail(after position: LogPosition, limit: Int) async throws(StoreError) -> LogTail {
        try await read { db in
            let decided = try Row.fetchAll(
                db,
                sql: """
                    SELECT d.id, d.replica, d.decided_at, e.payload FROM decisions d JOIN events e ON e.id = d.event_id
                    WHERE d.id > ? ORDER BY d.id LIMIT ?
                    """, arguments: [position.decision, limit]
            ).map { LogTail.Decided(position: $0[0], replica: $0[1], decidedAt: Timestamp(millisecondsSinceEpoch: $0[2]), payload: $0[3]) }
            let labels = try Row.fetchAll(
                db, sql: "SELECT event_id, outcome, reported_at, source, seq FROM labels WHERE seq > ? ORDER BY seq LIMIT ?",
                arguments: [position.label, limit])
            return LogTail(
                decisions: decided, labels: try labels.map(Self.label),
                position: LogPosition(
                    decision: decided.last?.position ?? position.decision, label: labels.last.map { $0[4] as Int64 } ?? position.label))
        }
    }

    /// The events of `ids` the store already holds: each one's payload as stored and the answer
    /// of its first decision (`nil` when it was ingested, never decided, or decided before
    /// answers were kept). One read, however many ids.
    public func storedEvents(ids: [String]) async throws(StoreError) -> [String: StoredEvent] {
        guard !ids.isEmpty else { return [:] }
        if let lookups { return try await lookups.storedEvents(ids: ids) }
        return try await read { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT e.id, e.payload,
                           (SELECT d.answer FROM decisions d WHERE d.event_id = e.id ORDER BY d.id LIMIT 1) AS answer
                    FROM events e WHERE e.id IN (\(databaseQuestionMarks(count: ids.count)))
                    """, arguments: StatementArguments(ids))
            return Dictionary(
                rows.map { row in (row["id"], StoredEvent(payload: row["payload"], answer: row["answer"])) }, uniquingKeysWith: { $1 })
        }
    }

    /// Refuses `payload` for `id` unless the stored event has the same JSON: an id names one event.
    static func requireSamePayload(_ db: Database, id: String, payload: String) throws {
        let stored = try String.fetchOne(db, sql: "SELECT payload FROM events WHERE id = ?", arguments: [id]) ?? ""
        guard JSONValue.sameDocument(stored, payload) else { throw StoreError.duplicateEvent(id: id) }
    }

    /// Stores label versions received in memory (an API call), in one transaction. Every label
    /// must name a stored event; the first that does not fails the whole call with its position.
    public func ingest(labels: [Label], source: String) async throws(StoreError) -> IngestReport {
        try await FileIngest.labels(labels, source: source) { (batch, report) throws(StoreError) in
            try await insertLabels(batch, file: source, report: report)
        }
    }
}

extension SQLiteStore {
    /// Records the decision policy `version` as `json`, before decisions that name it are logged,
    /// with an audit entry (`policy.record`). Recording the same content again is a no-op.
    ///
    /// - Throws: ``StoreError/conflict(reason:)`` when `version` is recorded with other content:
    ///   a version names one policy for good.
    public func recordPolicy(version: String, json: String, actor: String) async throws(StoreError) {
        try await write { db in
            if let recorded = try String.fetchOne(db, sql: "SELECT policy FROM policies WHERE version = ?", arguments: [version]) {
                guard recorded == json else { throw StoreError.policyVersionTaken(version) }
                return
            }
            let now = Self.nowMilliseconds()
            try db.execute(sql: "INSERT INTO policies (version, policy, recorded_at) VALUES (?, ?, ?)", arguments: [version, json, now])
            try Self.audit(
                db, now: now, actor: actor, action: "policy.record", subject: version, reason: "first decision with this policy",
                detail: json)
        }
    }

    /// The recorded JSON of policy `version`, if any.
    public func policyJSON(version: String) async throws(StoreError) -> String? {
        try await read { db in try String.fetchOne(db, sql: "SELECT policy FROM policies WHERE version = ?", arguments: [version]) }
    }

    /// The decisions made in [`from`, `to`) (by decision time), in the order they were logged.
    public func decisions(from: Timestamp, to: Timestamp) async throws(StoreError) -> [LoggedDecision] {
        try await read { db in
            try LoggedDecisionRow.fetchAll(
                db,
                sql: """
                    SELECT d.id, d.event_id, e.occurred_at, d.decided_at, d.model_id, d.policy_version, d.score, d.decision,
                           d.replica, d.history_position
                    FROM decisions d JOIN events e ON e.id = d.event_id
                    WHERE d.decided_at >= ? AND d.decided_at < ? ORDER BY d.id
                    """, arguments: [from.millisecondsSinceEpoch, to.millisecondsSinceEpoch]
            ).map(\.decisionRecord)
        }
    }
}
