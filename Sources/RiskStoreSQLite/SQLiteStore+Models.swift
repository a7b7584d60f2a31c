import Foundation
import GRDB
import RiskContract
import RiskStore

extension SQLiteStore {
    /// Adds a model to the registry with `status` (a model already there is left as it is).
    /// Registering a champion retires the current one, in the same transaction, with an audit entry.
    ///
    /// - Returns: whether the model was new.
    @discardableResult
    public func register(_ model: ModelRegistration, status: ModelStatus, actor: String, reason: String?) async throws(StoreError) -> Bool {
        let now = Self.nowMilliseconds()
        return try await write { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM models WHERE id = ?", arguments: [model.id]) == true { return false }
            if status == .champion { try Self.retireChampion(db, now: now) }
            try Self.insertModel(db, model, status: status, reason: reason, now: now)
            try Self.audit(db, now: now, actor: actor, action: "model.register", subject: model.id, reason: reason, detail: status.rawValue)
            return true
        }
    }

    /// Makes `id` the champion and retires the previous one, atomically, with an audit entry.
    public func promote(_ id: String, actor: String, reason: String?) async throws(StoreError) {
        let now = Self.nowMilliseconds()
        try await write { db in
            guard let status = try String.fetchOne(db, sql: "SELECT status FROM models WHERE id = ?", arguments: [id]) else {
                throw StoreError.noModel(id)
            }
            guard status != ModelStatus.champion.rawValue else { return }
            try Self.retireChampion(db, now: now)
            try db.execute(
                sql: "UPDATE models SET status = 'champion', status_reason = ?, status_changed_at = ? WHERE id = ?",
                arguments: [reason, now, id])
            try Self.audit(db, now: now, actor: actor, action: "model.promote", subject: id, reason: reason, detail: nil)
        }
    }

    /// Puts the previous champion back (the model most recently replaced by a promotion) and
    /// retires the current one, atomically, with an audit entry. The artifact is untouched: the
    /// restored champion is the same model bit for bit.
    ///
    /// - Returns: the restored champion's id.
    @discardableResult
    public func rollback(actor: String, reason: String?) async throws(StoreError) -> String {
        let now = Self.nowMilliseconds()
        return try await write { db in
            guard let current = try Self.championId(db) else {
                throw StoreError.noChampionToRollBack
            }
            guard let previous = try Self.rollbackTarget(db) else {
                throw StoreError.noPreviousChampion
            }
            try db.execute(
                sql: "UPDATE models SET status = 'retired', status_reason = ?, status_changed_at = ? WHERE id = ?",
                arguments: [RegistryReason.rolledBack(reason), now, current])
            try db.execute(
                sql: "UPDATE models SET status = 'champion', status_reason = ?, status_changed_at = ? WHERE id = ?",
                arguments: [RegistryReason.restored, now, previous])
            try Self.audit(
                db, now: now, actor: actor, action: "model.rollback", subject: previous, reason: reason, detail: "from \(current)")
            return previous
        }
    }

    /// Makes `id` the one model that scores in shadow beside the champion (its scores are logged,
    /// never acted on), or ends shadow scoring with `nil`; a previous shadow goes back to
    /// `candidate`. Atomic, with an audit entry.
    public func setShadow(_ id: String?, actor: String, reason: String?) async throws(StoreError) {
        let now = Self.nowMilliseconds()
        try await write { db in
            if let id {
                guard let status = try String.fetchOne(db, sql: "SELECT status FROM models WHERE id = ?", arguments: [id]) else {
                    throw StoreError.noModel(id)
                }
                guard status != ModelStatus.champion.rawValue else {
                    throw StoreError.shadowIsChampion(id)
                }
            }
            try db.execute(
                sql:
                    "UPDATE models SET status = 'candidate', status_reason = ?, status_changed_at = ? WHERE status = 'shadow'",
                arguments: [RegistryReason.shadowEnded, now])
            if let id {
                try db.execute(
                    sql: "UPDATE models SET status = 'shadow', status_reason = ?, status_changed_at = ? WHERE id = ?",
                    arguments: [reason, now, id])
            }
            try Self.audit(
                db, now: now, actor: actor, action: id == nil ? "model.shadow_end" : "model.shadow", subject: id, reason: reason,
                detail: nil)
        }
    }

    /// The model scoring in shadow, if there is one.
    public func shadowId() async throws(StoreError) -> String? {
        try await read { db in try Self.shadowId(db) }
    }

    /// The champion's id, if there is one.
    public func championId() async throws(StoreError) -> String? {
        try await read { db in try Self.championId(db) }
    }

    /// A registered model's artifact JSON as stored, and the SHA-256 the registry recorded for it
    /// when it was registered (a changed artifact no longer matches it).
    public func registeredArtifact(of id: String) async throws(StoreError) -> (json: Data, registeredSHA256: String) {
        let found = try await read { db -> (String, String)? in
            try Row.fetchOne(db, sql: "SELECT artifact, artifact_sha256 FROM models WHERE id = ?", arguments: [id]).map {
                ($0["artifact"], $0["artifact_sha256"])
            }
        }
        guard let (artifact, sha256) = found else { throw .noModel(id) }
        return (Data(artifact.utf8), sha256)
    }

    public func rollbackTarget() async throws(StoreError) -> String? {
        try await read { db in try Self.rollbackTarget(db) }
    }

    static func rollbackTarget(_ db: Database) throws -> String? {
        try String.fetchOne(
            db,
            sql: """
                SELECT id FROM models WHERE status = 'retired' AND status_reason = ?
                ORDER BY status_changed_at DESC, rowid DESC LIMIT 1
                """, arguments: [RegistryReason.replaced])
    }

    static func championId(_ db: Database) throws -> String? {
        try String.fetchOne(db, sql: "SELECT id FROM models WHERE status = 'champion'")
    }

    static func shadowId(_ db: Database) throws -> String? {
        try String.fetchOne(db, sql: "SELECT id FROM models WHERE status = 'shadow' ORDER BY status_changed_at DESC LIMIT 1")
    }

    static func insertModel(_ db: Database, _ model: ModelRegistration, status: ModelStatus, reason: String?, now: Int64) throws {
        try ModelRow(model, status: status, reason: reason, now: now).insert(db)
    }

    static func retireChampion(_ db: Database, now: Int64) throws {
        try db.execute(
            sql: "UPDATE models SET status = 'retired', status_reason = ?, status_changed_at = ? WHERE status = 'champion'",
            arguments: [RegistryReason.replaced, now])
    }
}
