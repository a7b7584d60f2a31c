import Foundation
import PostgresNIO
import RiskContract
import RiskStore

extension PostgresStore {
    private static let caseQuery =
        "SELECT \(ReviewCase.selectedColumns) FROM cases c JOIN decisions d ON d.id = c.decision_id AND d.occurred_at = c.occurred_at"

    private typealias CaseColumns = (
        Int64, String, String, Int64, Int64, String, String, String?, String?, String?, Int64?, Int64, String, Double, String, String,
        String
    )

    private static func reviewCase(_ row: CaseColumns) throws(StoreError) -> ReviewCase {
        try ReviewCase(
            row: ReviewCase.Row(
                id: row.0, eventId: row.1, customerId: row.2, occurredAt: row.3, openedAt: row.4, trigger: row.5, status: row.6,
                outcome: row.7, note: row.8, resolvedBy: row.9, resolvedAt: row.10, decisionId: row.11, decision: row.12, score: row.13,
                modelId: row.14, policyVersion: row.15, reasons: row.16))
    }

    private func reviewCase(_ connection: PostgresConnection, id: Int64, locking: Bool = false) async throws -> ReviewCase? {
        var bindings = PostgresBindings()
        bindings.append(id)
        let rows = try await connection.query(
            PostgresQuery(unsafeSQL: "\(Self.caseQuery) WHERE c.id = $1" + (locking ? " FOR UPDATE OF c" : ""), binds: bindings),
            logger: logger)
        for try await row in rows.decode(CaseColumns.self) { return try Self.reviewCase(row) }
        return nil
    }

    public func cases(_ filter: CaseFilter) async throws(StoreError) -> [ReviewCase] {
        var conditions: [String] = []
        var bindings = PostgresBindings()
        func add(_ condition: String, _ value: some PostgresNonThrowingEncodable) {
            bindings.append(value)
            conditions.append(condition.replacingOccurrences(of: "?", with: "$\(bindings.count)"))
        }
        if let status = filter.status { add("c.status = ?", status.rawValue) }
        if let customerId = filter.customerId { add("c.customer_id = ?", customerId) }
        if let trigger = filter.trigger { add("c.trigger = ?", trigger.rawValue) }
        if let from = filter.openedFrom { add("c.opened_at >= ?", from.millisecondsSinceEpoch) }
        if let to = filter.openedTo { add("c.opened_at < ?", to.millisecondsSinceEpoch) }
        let condition = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        let rows = try await rows(
            PostgresQuery(
                unsafeSQL: "\(Self.caseQuery) \(condition) ORDER BY c.opened_at, c.id LIMIT \(max(0, filter.limit))", binds: bindings))
        return try decodeAll(rows, as: CaseColumns.self).map { (row) throws(StoreError) in try Self.reviewCase(row) }
    }

    public func reviewCase(id: Int64) async throws(StoreError) -> (reviewCase: ReviewCase, payload: String)? {
        try await snapshot { connection in
            guard let found = try await self.reviewCase(connection, id: id) else { return nil }
            var payload = ""
            for try await text in try await connection.query(
                "SELECT payload FROM events WHERE id = \(found.eventId) AND occurred_at = \(found.occurredAt.millisecondsSinceEpoch)",
                logger: self.logger
            ).decode(String.self) {
                payload = text
            }
            return (found, payload)
        }
    }

    public func resolveCase(id: Int64, outcome: Outcome, note: String, actor: String, at: Timestamp) async throws(StoreError) -> (
        reviewCase: ReviewCase, label: Label
    ) {
        try await transaction { connection in
            // The label joins the shared log: appended under its lock, as every label is.
            try await self.lockLogAppend(connection)
            guard let open = try await self.reviewCase(connection, id: id, locking: true) else { throw StoreError.noCase(id) }
            if let resolution = open.resolution { throw StoreError.caseResolved(id, resolution) }
            // Locked as a foreign key would: retention cannot remove the event before this commits.
            try await connection.query("SELECT id FROM event_ids WHERE id = \(open.eventId) FOR KEY SHARE", logger: self.logger)
            let label = Label(eventId: open.eventId, outcome: outcome, reportedAt: at, source: "analyst")
            var labelSeq: Int64 = 0
            for try await seq in try await connection.query(
                """
                WITH added AS (
                    INSERT INTO labels (event_id, outcome, reported_at, source)
                    VALUES (\(label.eventId), \(outcome.rawValue), \(at.millisecondsSinceEpoch), \(label.source))
                    ON CONFLICT (event_id, reported_at, outcome, source) DO NOTHING RETURNING seq
                )
                SELECT seq FROM added UNION ALL
                SELECT seq FROM labels
                WHERE event_id = \(label.eventId) AND reported_at = \(at.millisecondsSinceEpoch) AND outcome = \(outcome.rawValue)
                      AND source = \(label.source)
                """, logger: self.logger
            ).decode(Int64.self) {
                labelSeq = seq
            }
            try await connection.query(
                """
                UPDATE cases SET status = 'resolved', outcome = \(outcome.rawValue), note = \(note), resolved_by = \(actor),
                                 resolved_at = \(at.millisecondsSinceEpoch), label_seq = \(labelSeq)
                WHERE id = \(id)
                """, logger: self.logger)
            _ = try await self.audit(
                connection, now: Self.nowMilliseconds(), actor: actor, action: "case.resolve", subject: open.eventId, reason: note,
                detail: ReviewCase.resolutionDetail(id: id, eventId: open.eventId, outcome: outcome, labelSeq: labelSeq))
            guard let resolved = try await self.reviewCase(connection, id: id) else { throw StoreError.noCase(id) }
            return (resolved, label)
        }
    }

    public func recordStepUpOutcome(eventId: String, outcome: StepUpOutcome, opensCase: Bool, at: Timestamp) async throws(StoreError)
        -> ReviewCase?
    {
        try await transaction { connection in
            // The event's row in event_ids is locked first: two reports of one event take turns.
            var occurredAt: Int64?
            for try await time in try await connection.query(
                "SELECT occurred_at FROM event_ids WHERE id = \(eventId) FOR UPDATE", logger: self.logger
            ).decode(Int64.self) {
                occurredAt = time
            }
            guard let occurredAt else { throw StoreError.noDecision(eventId) }
            var latest: (id: Int64, decision: String, reported: String?, customerId: String)?
            for try await row in try await connection.query(
                """
                SELECT d.id, d.decision, d.step_up_outcome, e.customer_id
                FROM decisions d JOIN events e ON e.id = d.event_id AND e.occurred_at = d.occurred_at
                WHERE d.event_id = \(eventId) AND d.occurred_at = \(occurredAt) ORDER BY d.id DESC LIMIT 1
                """, logger: self.logger
            ).decode((Int64, String, String?, String).self) {
                latest = row
            }
            guard let latest else { throw StoreError.noDecision(eventId) }
            guard latest.decision == "step_up" else { throw StoreError.notSteppedUp(eventId, decision: latest.decision) }
            if let reported = latest.reported, reported != outcome.rawValue { throw StoreError.stepUpReported(eventId, reported) }
            if latest.reported == nil {
                try await connection.query(
                    "UPDATE decisions SET step_up_outcome = \(outcome.rawValue) WHERE id = \(latest.id) AND occurred_at = \(occurredAt)",
                    logger: self.logger)
                if opensCase, let trigger = outcome.caseTrigger {
                    try await connection.query(
                        """
                        INSERT INTO cases (event_id, decision_id, customer_id, occurred_at, opened_at, trigger, status)
                        VALUES (\(eventId), \(latest.id), \(latest.customerId), \(occurredAt), \(at.millisecondsSinceEpoch),
                                \(trigger.rawValue), 'open')
                        ON CONFLICT (event_id) DO NOTHING
                        """, logger: self.logger)
                }
            }
            for try await id in try await connection.query("SELECT id FROM cases WHERE event_id = \(eventId)", logger: self.logger)
                .decode(Int64.self)
            {
                return try await self.reviewCase(connection, id: id)
            }
            return nil
        }
    }

    public func caseStatistics() async throws(StoreError) -> CaseStatistics {
        let open = try decodeAll(
            try await rows("SELECT COUNT(*), MIN(opened_at) FROM cases WHERE status = 'open'"), as: (Int64, Int64?).self
        ).first
        var resolved: [Outcome: Int] = [:]
        for (text, count) in try decodeAll(
            try await rows("SELECT outcome, COUNT(*) FROM cases WHERE status = 'resolved' GROUP BY outcome"), as: (String, Int64).self)
        {
            guard let outcome = Outcome(rawValue: text) else { throw .database(message: "cases: unknown outcome '\(text)'") }
            resolved[outcome] = Int(count)
        }
        return CaseStatistics(
            open: Int(open?.0 ?? 0), oldestOpenedAt: open?.1.map(Timestamp.init(millisecondsSinceEpoch:)), resolved: resolved)
    }

    public func events(customerId: String, from: Timestamp, to: Timestamp) async throws(StoreError) -> [(
        event: ParsedEvent, payload: String
    )] {
        let rows = try await rows(
            """
            SELECT payload FROM events
            WHERE customer_id = \(customerId) AND occurred_at >= \(from.millisecondsSinceEpoch) AND occurred_at < \(to.millisecondsSinceEpoch)
            ORDER BY occurred_at, seq
            """)
        let payloads = try decodeAll(rows, as: String.self)
        return Array(zip(try BackgroundParser.parse(payloads, keepingJSON: false), payloads))
    }
}
