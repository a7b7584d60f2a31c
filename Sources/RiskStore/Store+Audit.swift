import GRDB
import RiskFeatures

/// One entry of the append-only audit log.
public struct AuditEntry: Sendable, Codable, Equatable {
    public var seq: Int64
    public var at: Timestamp
    /// Who acted: a user name, an API key's name, or `riskloop` for the engine itself.
    public var actor: String
    /// What happened, as a dotted verb: `model.promote`, `model.rollback`, `key.create`, `retrain.cycle`.
    public var action: String
    public var subject: String?
    public var reason: String?
    /// A JSON object with the particulars.
    public var detail: String?
}

extension Store {
    /// Appends an entry to the audit log, in its own transaction, stamped `at` (default: now).
    ///
    /// The log is append-only: database triggers refuse to update or delete an entry.
    @discardableResult
    public func appendAudit(
        actor: String, action: String, subject: String? = nil, reason: String? = nil, detail: String? = nil,
        at: Timestamp? = nil
    ) throws(StoreError) -> Int64 {
        let at = at ?? Timestamp(millisecondsSinceEpoch: Store.nowMilliseconds())
        return try write { db in
            try Self.audit(
                db, now: at.millisecondsSinceEpoch, actor: actor, action: action, subject: subject, reason: reason, detail: detail)
            return db.lastInsertedRowID
        }
    }

    /// Audit entries with `from <= at < to`, oldest first.
    public func auditEntries(from: Timestamp? = nil, to: Timestamp? = nil) throws(StoreError) -> [AuditEntry] {
        try read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM audit_log WHERE at >= ? AND at < ? ORDER BY seq",
                arguments: [from?.millisecondsSinceEpoch ?? Int64.min, to?.millisecondsSinceEpoch ?? Int64.max]
            ).map { row in
                AuditEntry(
                    seq: row["seq"], at: Timestamp(millisecondsSinceEpoch: row["at"]), actor: row["actor"],
                    action: row["action"], subject: row["subject"], reason: row["reason"], detail: row["detail"])
            }
        }
    }

    /// Appends an audit entry inside the caller's transaction, so the entry and the change it
    /// records commit or roll back together.
    static func audit(_ db: Database, now: Int64, actor: String, action: String, subject: String?, reason: String?, detail: String?) throws
    {
        try db.execute(
            sql: "INSERT INTO audit_log (at, actor, action, subject, reason, detail) VALUES (?, ?, ?, ?, ?, ?)",
            arguments: [now, actor, action, subject, reason, detail])
    }
}
