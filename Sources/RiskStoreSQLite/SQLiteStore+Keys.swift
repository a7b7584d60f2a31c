import Foundation
import GRDB
import RiskContract
import RiskStore

extension SQLiteStore {
    /// Creates an API key and returns it with its record. The key is 32 random bytes in hex; only
    /// its SHA-256 is stored, so this is the only time it can be read. The creation is written to
    /// the audit log in the same transaction.
    public func createKey(name: String, role: APIRole, actor: String) async throws(StoreError) -> (key: String, record: APIKey) {
        let key = APIKey.generate()
        let now = Timestamp(millisecondsSinceEpoch: Self.nowMilliseconds())
        let detail = APIKey.creationDetail(name: name, role: role)
        let id = try await write { db in
            let row = APIKeyRow(
                id: nil, name: name, role: role.rawValue, keySha256: APIKey.sha256Hex(key), createdAt: now.millisecondsSinceEpoch,
                revokedAt: nil)
            try row.insert(db)
            let id = db.lastInsertedRowID
            try Self.audit(
                db, now: now.millisecondsSinceEpoch, actor: actor, action: "key.create", subject: "key \(id)", reason: nil, detail: detail)
            return id
        }
        return (key, APIKey(id: id, name: name, role: role, createdAt: now, revokedAt: nil))
    }

    /// The key that `presented` is, if it exists and is not revoked.
    public func key(matching presented: String) async throws(StoreError) -> APIKey? {
        if let lookups { return try await lookups.key(sha256: APIKey.sha256Hex(presented)) }
        return try await read { db in
            try APIKeyRow.filter(Column("key_sha256") == APIKey.sha256Hex(presented)).filter(Column("revoked_at") == nil)
                .fetchOne(db)?.key()
        }
    }

    /// Every key, newest first.
    public func keys() async throws(StoreError) -> [APIKey] {
        try await read { db in try APIKeyRow.order(Column("id").desc).fetchAll(db).map { try $0.key() } }
    }

    /// Revokes a key (it stays listed), with an audit entry.
    public func revokeKey(id: Int64, actor: String, reason: String?) async throws(StoreError) {
        let now = Self.nowMilliseconds()
        try await write { db in
            try db.execute(sql: "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", arguments: [now, id])
            guard db.changesCount == 1 else { throw StoreError.noActiveKey(id) }
            try Self.audit(db, now: now, actor: actor, action: "key.revoke", subject: "key \(id)", reason: reason, detail: nil)
        }
    }
}
