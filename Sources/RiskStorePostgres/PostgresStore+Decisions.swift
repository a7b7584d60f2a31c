import Foundation
import PostgresNIO
import RiskContract
import RiskStore

extension PostgresStore {
    /// Logs the decisions and their events in one transaction, as multi-row inserts: a group
    /// commit of the server's decision log is three statements, however many requests it holds.
    /// A `review` decision opens its event's case in the statement that logs it.
    public func log(_ decisions: [DecisionRecord]) async throws(StoreError) {
        guard !decisions.isEmpty else { return }
        try await withPartitions(decisions.map(\.event.occurredAt.millisecondsSinceEpoch)) { () throws(StoreError) in
            try await insertDecisions(decisions)
        }
    }

    private func insertDecisions(_ decisions: [DecisionRecord]) async throws(StoreError) {
        try await transaction { connection in
            try await self.lockLogAppend(connection)
            let inserted = try await self.insertEvents(connection, decisions.map { ($0.event, $0.payload, nil) })
            var claimed: Set<String> = []
            let repeats = decisions.filter { !(inserted.contains($0.event.id) && claimed.insert($0.event.id).inserted) }
            let stored = try await self.payloads(connection, ids: repeats.map(\.event.id))
            for record in repeats where !JSONValue.sameDocument(stored[record.event.id] ?? "", record.payload) {
                throw StoreError.duplicateEvent(id: record.event.id)
            }
            let chunk = RowsInsert.chunkSize(columns: 14)
            for start in stride(from: 0, to: decisions.count, by: chunk) {
                var insert = RowsInsert()
                for record in decisions[start..<min(start + chunk, decisions.count)] {
                    try insert.add(record.event.id)
                    try insert.add(record.event.occurredAt.millisecondsSinceEpoch)
                    try insert.add(record.decidedAt.millisecondsSinceEpoch)
                    try insert.add(record.modelId)
                    try insert.add(record.policyVersion)
                    try insert.add(record.score)
                    try insert.add(record.decision)
                    try insert.add(record.reasons)
                    try insert.add(record.shadowModelId)
                    try insert.add(record.shadowScore)
                    try insert.add(record.answer)
                    try insert.add(record.replica)
                    try insert.add(record.historyPosition)
                    try insert.add(record.signals)
                    insert.endRow()
                }
                // A review decision opens its event's case in the same statement.
                try await connection.query(
                    insert.query(
                        """
                        WITH logged AS (
                            INSERT INTO decisions (event_id, occurred_at, decided_at, model_id, policy_version, score, decision, reasons,
                                                   shadow_model_id, shadow_score, answer, replica, history_position, signals)
                        """,
                        """
                            RETURNING id, event_id, occurred_at, decided_at, decision
                        )
                        INSERT INTO cases (event_id, decision_id, customer_id, occurred_at, opened_at, trigger, status)
                        SELECT l.event_id, l.id, e.customer_id, l.occurred_at, l.decided_at, 'review', 'open'
                        FROM logged l JOIN events e ON e.id = l.event_id AND e.occurred_at = l.occurred_at
                        WHERE l.decision = 'review'
                        ON CONFLICT (event_id) DO NOTHING
                        """), logger: self.logger)
            }
        }
    }

    public func logPosition() async throws(StoreError) -> LogPosition {
        let rows = try await rows("SELECT (SELECT COALESCE(MAX(id), 0) FROM decisions), (SELECT COALESCE(MAX(seq), 0) FROM labels)")
        let (decision, label) = try decodeAll(rows, as: (Int64, Int64).self).first ?? (Int64(0), Int64(0))
        return LogPosition(decision: decision, label: label)
    }

    public func logTail(after position: LogPosition, limit: Int) async throws(StoreError) -> LogTail {
        let decided = try decodeAll(
            try await rows(
                """
                SELECT d.id, d.replica, d.decided_at, e.payload
                FROM decisions d JOIN events e ON e.id = d.event_id AND e.occurred_at = d.occurred_at
                WHERE d.id > \(position.decision) ORDER BY d.id LIMIT \(limit)
                """), as: (Int64, String?, Int64, String).self
        ).map { LogTail.Decided(position: $0.0, replica: $0.1, decidedAt: Timestamp(millisecondsSinceEpoch: $0.2), payload: $0.3) }
        let versions = try decodeAll(
            try await rows(
                "SELECT event_id, outcome, reported_at, source, seq FROM labels WHERE seq > \(position.label) ORDER BY seq LIMIT \(limit)"),
            as: (String, String, Int64, String, Int64).self)
        return LogTail(
            decisions: decided, labels: try versions.map { (row) throws(StoreError) in try Self.label((row.0, row.1, row.2, row.3)) },
            position: LogPosition(decision: decided.last?.position ?? position.decision, label: versions.last?.4 ?? position.label))
    }

    public func decisions(from: Timestamp, to: Timestamp) async throws(StoreError) -> [LoggedDecision] {
        let rows = try await rows(
            """
            SELECT d.id, d.event_id, d.occurred_at, d.decided_at, d.model_id, d.policy_version, d.score, d.decision,
                   d.replica, d.history_position
            FROM decisions d
            WHERE d.decided_at >= \(from.millisecondsSinceEpoch) AND d.decided_at < \(to.millisecondsSinceEpoch) ORDER BY d.id
            """)
        return try decodeAll(rows, as: (Int64, String, Int64, Int64, String, String, Double, String, String?, Int64?).self).map {
            LoggedDecision(
                id: $0.0, eventId: $0.1, occurredAt: Timestamp(millisecondsSinceEpoch: $0.2),
                decidedAt: Timestamp(millisecondsSinceEpoch: $0.3), modelId: $0.4, policyVersion: $0.5, score: $0.6, decision: $0.7,
                replica: $0.8, historyPosition: $0.9)
        }
    }

    public func decisionScores(modelId: String, from: Timestamp, to: Timestamp) async throws(StoreError) -> [Double] {
        try decodeAll(
            try await rows(
                """
                SELECT score FROM decisions
                WHERE model_id = \(modelId) AND occurred_at >= \(from.millisecondsSinceEpoch) AND occurred_at < \(to.millisecondsSinceEpoch)
                """), as: Double.self)
    }

    public func recordPolicy(version: String, json: String, actor: String) async throws(StoreError) {
        try await transaction { connection in
            let now = Self.nowMilliseconds()
            let inserted = try await connection.query(
                """
                INSERT INTO policies (version, policy, recorded_at) VALUES (\(version), \(json), \(now))
                ON CONFLICT (version) DO NOTHING RETURNING version
                """, logger: self.logger
            ).collect()
            if inserted.isEmpty {
                for try await recorded in try await connection.query(
                    "SELECT policy FROM policies WHERE version = \(version)", logger: self.logger
                ).decode(String.self) where recorded != json {
                    throw StoreError.policyVersionTaken(version)
                }
                return
            }
            try await self.audit(
                connection, now: now, actor: actor, action: "policy.record", subject: version, reason: "first decision with this policy",
                detail: json)
        }
    }

    public func policyJSON(version: String) async throws(StoreError) -> String? {
        try decodeAll(try await rows("SELECT policy FROM policies WHERE version = \(version)"), as: String.self).first
    }
}
