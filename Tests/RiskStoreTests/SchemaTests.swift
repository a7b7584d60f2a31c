import GRDB
import Testing

@testable import RiskStore

@Suite struct SchemaTests {
    @Test func theAuditLogIsAppendOnly() throws {
        let store = try Store.inMemory()
        let seq = try store.appendAudit(actor: "alice", action: "model.promote", subject: "m1", reason: "better AP")
        #expect(try store.auditEntries().map(\.action) == ["model.promote"])
        #expect(throws: StoreError.self) {
            try store.write { db in try db.execute(sql: "UPDATE audit_log SET actor = 'mallory' WHERE seq = ?", arguments: [seq]) }
        }
        #expect(throws: StoreError.self) {
            try store.write { db in try db.execute(sql: "DELETE FROM audit_log") }
        }
        #expect(try store.auditEntries().first?.actor == "alice")
    }

    @Test func theRegistryHoldsAtMostOneChampion() throws {
        let store = try Store.inMemory()
        func insert(_ id: String, status: String) throws(StoreError) {
            try store.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO models (id, algorithm, status, created_at, feature_spec_sha256, artifact, artifact_sha256, status_changed_at)
                        VALUES (?, 'logistic_regression', ?, 0, 'spec', '{}', 'sha', 0)
                        """, arguments: [id, status])
            }
        }
        try insert("m1", status: "champion")
        try insert("m2", status: "candidate")
        #expect(throws: StoreError.self) { try insert("m3", status: "champion") }
        #expect(throws: StoreError.self) { try insert("m4", status: "winner") }
        #expect(try store.models().map(\.id).sorted() == ["m1", "m2"])
    }

    @Test func migrationsAreNamedAndReopeningAFileKeepsItsData() throws {
        let directory = try TemporaryDirectory()
        do {
            let store = try Store(path: directory.databasePath)
            try store.appendAudit(actor: "test", action: "key.create")
        }
        let reopened = try Store(path: directory.databasePath)
        #expect(try reopened.auditEntries().count == 1)
        let applied = try reopened.read { db in try StoreSchema.migrator.appliedMigrations(db) }
        #expect(applied == StoreSchema.migrationNames && !applied.isEmpty)
    }
}

@Suite struct APIKeyTests {
    @Test func aKeyIsStoredOnlyAsItsHashAndCanBeRevoked() throws {
        let store = try Store.inMemory()
        let (key, record) = try store.createKey(name: "checkout-service", role: .score, actor: "alice")
        #expect(key.hasPrefix("rl_") && key.count == 67)
        #expect(try store.key(matching: key) == record)
        #expect(try store.key(matching: key + "x") == nil)
        let stored = try store.read { db in try Row.fetchAll(db, sql: "SELECT * FROM api_keys") }
        #expect(stored.count == 1)
        #expect(!stored[0].description.contains(key))
        #expect((stored[0]["key_sha256"] as String).count == 64)
        try store.revokeKey(id: record.id, actor: "alice", reason: "rotated")
        #expect(try store.key(matching: key) == nil)
        #expect(throws: StoreError.self) { try store.revokeKey(id: record.id, actor: "alice", reason: nil) }
        #expect(try store.auditEntries().map(\.action) == ["key.create", "key.revoke"])
        #expect(try store.auditEntries().first?.detail == #"{"name":"checkout-service","role":"score"}"#)
    }

    @Test func rolesAreOrdered() {
        #expect(APIRole.score < .label && APIRole.label < .admin)
    }
}
