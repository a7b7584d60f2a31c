import GRDB
import RiskContract
import RiskStore

extension SQLiteStore {
    public func proposePolicy(version: String, json: String, actor: String) async throws(StoreError) {
        try await write { db in
            let now = Self.nowMilliseconds()
            if let row = try Row.fetchOne(db, sql: "SELECT policy, status FROM policies WHERE version = ?", arguments: [version]) {
                guard row[0] as String == json else { throw StoreError.policyVersionTaken(version) }
                guard row[1] as String == PolicyStatus.recorded.rawValue else { return }
                try db.execute(
                    sql: "UPDATE policies SET status = 'proposed', proposed_by = ? WHERE version = ?", arguments: [actor, version])
            } else {
                try db.execute(
                    sql: "INSERT INTO policies (version, policy, recorded_at, status, proposed_by) VALUES (?, ?, ?, 'proposed', ?)",
                    arguments: [version, json, now, actor])
            }
            try Self.audit(db, now: now, actor: actor, action: "policy.propose", subject: version, reason: nil, detail: json)
        }
    }

    public func activatePolicy(version: String, actor: String, reason: String, fourEyes: Bool) async throws(StoreError) {
        try await write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT status, proposed_by FROM policies WHERE version = ?", arguments: [version])
            else { throw StoreError.noPolicy(version) }
            let status: String = row[0], proposedBy: String? = row[1]
            if status == PolicyStatus.active.rawValue { return }
            if status == PolicyStatus.recorded.rawValue, fourEyes { throw StoreError.neverProposed(version) }
            if fourEyes, proposedBy == actor { throw StoreError.sameProposer(version, actor) }
            let now = Self.nowMilliseconds()
            let previous = try String.fetchOne(db, sql: "SELECT version FROM policies WHERE status = 'active'")
            try db.execute(
                sql: "UPDATE policies SET status = 'retired', status_reason = ? WHERE status = 'active'",
                arguments: ["replaced by \(version)"])
            try db.execute(
                sql: "UPDATE policies SET status = 'active', activated_by = ?, activated_at = ?, status_reason = ? WHERE version = ?",
                arguments: [actor, now, reason, version])
            try Self.audit(
                db, now: now, actor: actor, action: "policy.activate", subject: version, reason: reason,
                detail: StoreError.activationDetail(previous: previous))
        }
    }

    public func policies() async throws(StoreError) -> [PolicyRecord] {
        try await read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT version, status, recorded_at, proposed_by, activated_by, activated_at, status_reason FROM policies
                    ORDER BY recorded_at DESC, version
                    """
            ).map { row in
                try PolicyRecord(
                    version: row[0], status: row[1], recordedAt: row[2], proposedBy: row[3], activatedBy: row[4], activatedAt: row[5],
                    reason: row[6])
            }
        }
    }

    static func activePolicyVersion(_ db: Database) throws -> String? {
        try String.fetchOne(db, sql: "SELECT version FROM policies WHERE status = 'active'")
    }
}
