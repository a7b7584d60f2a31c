import GRDB
import RiskContract
import RiskStore

extension SQLiteStore {
    /// Opens the case of event `eventId` for decision `decisionId`, unless the event has one.
    static func openCase(
        _ db: Database, eventId: String, customerId: String, occurredAt: Int64, decisionId: Int64, trigger: CaseTrigger, at: Int64
    ) throws {
        try db.cachedStatement(
            sql: """
                INSERT INTO cases (event_id, decision_id, customer_id, occurred_at, opened_at, trigger, status)
                VALUES (?, ?, ?, ?, ?, ?, 'open') ON CONFLICT (event_id) DO NOTHING
                """
        ).execute(arguments: [eventId, decisionId, customerId, occurredAt, at, trigger.rawValue])
    }

    private static let caseQuery = "SELECT \(ReviewCase.selectedColumns) FROM cases c JOIN decisions d ON d.id = c.decision_id"

    private static func reviewCase(_ row: Row) throws -> ReviewCase {
        try ReviewCase(
            row: ReviewCase.Row(
                id: row[0], eventId: row[1], customerId: row[2], occurredAt: row[3], openedAt: row[4], trigger: row[5], status: row[6],
                outcome: row[7], note: row[8], resolvedBy: row[9], resolvedAt: row[10], decisionId: row[11], decision: row[12],
                score: row[13], modelId: row[14], policyVersion: row[15], reasons: row[16]))
    }

    private static func reviewCase(_ db: Database, id: Int64) throws -> ReviewCase? {
        try Row.fetchOne(db, sql: "\(caseQuery) WHERE c.id = ?", arguments: [id]).map(reviewCase)
    }

    public func cases(_ filter: CaseFilter) async throws(StoreError) -> [ReviewCase] {
        var conditions: [String] = []
        var arguments = StatementArguments()
        if let status = filter.status {
            conditions.append("c.status = ?")
            arguments += [status.rawValue]
        }
        if let customerId = filter.customerId {
            conditions.append("c.customer_id = ?")
            arguments += [customerId]
        }
        if let trigger = filter.trigger {
            conditions.append("c.trigger = ?")
            arguments += [trigger.rawValue]
        }
        if let from = filter.openedFrom {
            conditions.append("c.opened_at >= ?")
            arguments += [from.millisecondsSinceEpoch]
        }
        if let to = filter.openedTo {
            conditions.append("c.opened_at < ?")
            arguments += [to.millisecondsSinceEpoch]
        }
        let condition = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        let sql = "\(Self.caseQuery) \(condition) ORDER BY c.opened_at, c.id LIMIT \(max(0, filter.limit))"
        return try await read { [arguments] db in try Row.fetchAll(db, sql: sql, arguments: arguments).map(Self.reviewCase) }
    }

    public func reviewCase(id: Int64) async throws(StoreError) -> (reviewCase: ReviewCase, payload: String)? {
        try await read { db in
            guard let found = try Self.reviewCase(db, id: id) else { return nil }
            let payload = try String.fetchOne(db, sql: "SELECT payload FROM events WHERE id = ?", arguments: [found.eventId]) ?? ""
            return (found, payload)
        }
    }

    public func resolveCase(id: Int64, outcome: Outcome, note: String, actor: String, at: Timestamp) async throws(StoreError) -> (
        reviewCase: ReviewCase, label: Label
    ) {
        try await write { db in
            guard let open = try Self.reviewCase(db, id: id) else { throw StoreError.noCase(id) }
            if let resolution = open.resolution { throw StoreError.caseResolved(id, resolution) }
            let label = Label(eventId: open.eventId, outcome: outcome, reportedAt: at, source: "analyst")
            try db.execute(
                sql: """
                    INSERT INTO labels (event_id, outcome, reported_at, source) VALUES (?, ?, ?, ?)
                    ON CONFLICT (event_id, reported_at, outcome, source) DO NOTHING
                    """, arguments: [label.eventId, outcome.rawValue, at.millisecondsSinceEpoch, label.source])
            let labelSeq =
                try Int64.fetchOne(
                    db, sql: "SELECT seq FROM labels WHERE event_id = ? AND reported_at = ? AND outcome = ? AND source = ?",
                    arguments: [label.eventId, at.millisecondsSinceEpoch, outcome.rawValue, label.source]) ?? 0
            try db.execute(
                sql: """
                    UPDATE cases SET status = 'resolved', outcome = ?, note = ?, resolved_by = ?, resolved_at = ?, label_seq = ?
                    WHERE id = ?
                    """, arguments: [outcome.rawValue, note, actor, at.millisecondsSinceEpoch, labelSeq, id])
            try Self.audit(
                db, now: Self.nowMilliseconds(), actor: actor, action: "case.resolve", subject: open.eventId, reason: note,
                detail: ReviewCase.resolutionDetail(id: id, eventId: open.eventId, outcome: outcome, labelSeq: labelSeq))
            guard let resolved = try Self.reviewCase(db, id: id) else { throw StoreError.noCase(id) }
            return (resolved, label)
        }
    }

    public func recordStepUpOutcome(eventId: String, outcome: StepUpOutcome, opensCase: Bool, at: Timestamp) async throws(StoreError)
        -> ReviewCase?
    {
        try await write { db in
            guard
                let row = try Row.fetchOne(
                    db,
                    sql: """
                        SELECT d.id, d.decision, d.step_up_outcome, e.customer_id, e.occurred_at
                        FROM decisions d JOIN events e ON e.id = d.event_id
                        WHERE d.event_id = ? ORDER BY d.id DESC LIMIT 1
                        """, arguments: [eventId])
            else { throw StoreError.noDecision(eventId) }
            let decisionId: Int64 = row[0], decision: String = row[1], reported: String? = row[2]
            guard decision == "step_up" else { throw StoreError.notSteppedUp(eventId, decision: decision) }
            if let reported, reported != outcome.rawValue { throw StoreError.stepUpReported(eventId, reported) }
            if reported == nil {
                try db.execute(sql: "UPDATE decisions SET step_up_outcome = ? WHERE id = ?", arguments: [outcome.rawValue, decisionId])
                if opensCase, let trigger = outcome.caseTrigger {
                    try Self.openCase(
                        db, eventId: eventId, customerId: row[3], occurredAt: row[4], decisionId: decisionId, trigger: trigger,
                        at: at.millisecondsSinceEpoch)
                }
            }
            guard let id = try Int64.fetchOne(db, sql: "SELECT id FROM cases WHERE event_id = ?", arguments: [eventId]) else {
                return nil
            }
            return try Self.reviewCase(db, id: id)
        }
    }

    public func caseStatistics() async throws(StoreError) -> CaseStatistics {
        try await read { db in
            let open = try Row.fetchOne(db, sql: "SELECT COUNT(*), MIN(opened_at) FROM cases WHERE status = 'open'")
            var resolved: [Outcome: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT outcome, COUNT(*) FROM cases WHERE status = 'resolved' GROUP BY outcome") {
                let text: String = row[0]
                guard let outcome = Outcome(rawValue: text) else {
                    throw StoreError.database(message: "cases: unknown outcome '\(text)'")
                }
                resolved[outcome] = row[1]
            }
            return CaseStatistics(
                open: open?[0] ?? 0, oldestOpenedAt: (open?[1] as Int64?).map(Timestamp.init(millisecondsSinceEpoch:)),
                resolved: resolved)
        }
    }

    public func events(customerId: String, from: Timestamp, to: Timestamp) async throws(StoreError) -> [(
        event: ParsedEvent, payload: String
    )] {
        try await read { db in
            let payloads = try String.fetchAll(
                db,
                sql:
                    "SELECT payload FROM events WHERE customer_id = ? AND occurred_at >= ? AND occurred_at < ? ORDER BY occurred_at, rowid",
                arguments: [customerId, from.millisecondsSinceEpoch, to.millisecondsSinceEpoch])
            return Array(zip(try BackgroundParser.parse(payloads, keepingJSON: false), payloads))
        }
    }
}
