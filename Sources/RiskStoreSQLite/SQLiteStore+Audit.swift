import GRDB
import RiskContract
import RiskStore

extension SQLiteStore {
    /// Appends an entry to the audit log, in its own transaction, stamped `at` (default: now).
    ///
    /// The log is append-only: database triggers refuse to update or delete an entry.
    @discardableResult
    public func appendAudit(
        actor: String, action: String, subject: String?, reason: String?, detail: String?, at: Timestamp?
    ) async throws(StoreError) -> Int64 {
        let at = at ?? Timestamp(millisecondsSinceEpoch: Self.nowMilliseconds())
        return try await write { db in
            try Self.audit(
                db, now: at.millisecondsSinceEpoch, actor: actor, action: action, subject: subject, reason: reason, detail: detail)
            return db.lastInsertedRowID
        }
    }

    /// Audit entries with `from <= at < to`, oldest first.
    public func auditEntries(from: Timestamp?, to: Timestamp?) async throws(StoreError) -> [AuditEntry] {
        try await read { db in
            try AuditRow.filter(Column("at") >= (from?.millisecondsSinceEpoch ?? Int64.min))
                .filter(Column("at") < (to?.millisecondsSinceEpoch ?? Int64.max))
                .order(Column("seq"))
                .fetchAll(db).map(\.entry)
        }
    }

    /// Appends an audit entry inside the caller's transaction, so the entry and the change it
    /// records commit or roll back together.
    static func audit(_ db: Database, now: Int64, actor: String, action: String, subject: String?, reason: String?, detail: String?) throws
    {
        try AuditRow(seq: nil, at: now, actor: actor, action: action, subject: subject, reason: reason, detail: detail).insert(db)
    }
}
