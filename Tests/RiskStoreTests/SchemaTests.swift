import GRDB
import RiskStoreTesting
import Testing

@testable import RiskStore
@testable import RiskStoreSQLite

@Suite struct SchemaTests {
    @Test func theAuditLogIsAppendOnly() async throws {
        let store = try SQLiteStore.inMemory()
        let seq = try await store.appendAudit(actor: "alice", action: "model.promote", subject: "m1", reason: "better AP")
        #expect(try await store.auditEntries().map(\.action) == ["model.promote"])
        #expect(throws: StoreError.self) {
            try store.writeBlocking { db in try db.execute(sql: "UPDATE audit_log SET actor = 'mallory' WHERE seq = ?", arguments: [seq]) }
        }
        #expect(throws: StoreError.self) {
            try store.writeBlocking { db in try db.execute(sql: "DELETE FROM audit_log") }
        }
        #expect(try await store.auditEntries().first?.actor == "alice")
    }

    @Test func theRegistryHoldsAtMostOneChampion() async throws {
        let store = try SQLiteStore.inMemory()
        func insert(_ id: String, status: String) throws(StoreError) {
            try store.writeBlocking { db in
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
        #expect(try await store.models().map(\.id).sorted() == ["m1", "m2"])
    }

    @Test func migrationsAreNamedAndReopeningAFileKeepsItsData() async throws {
        let directory = try TemporaryDirectory()
        do {
            let store = try SQLiteStore(path: directory.databasePath)
            try await store.appendAudit(actor: "test", action: "key.create")
        }
        let reopened = try SQLiteStore(path: directory.databasePath)
        await #expect(try reopened.auditEntries().count == 1)
        let applied = try await reopened.read { db in try StoreSchema.migrator.appliedMigrations(db) }
        #expect(applied == StoreSchema.migrationNames && !applied.isEmpty)
    }
}

@Suite struct APIKeyTests {
    @Test func aKeyIsStoredOnlyAsItsHashAndCanBeRevoked() async throws {
        let store = try SQLiteStore.inMemory()
        let (key, record) = try await store.createKey(name: "checkout-service", role: .score, actor: "alice")
        #expect(key.hasPrefix("rl_") && key.count == 67)
        #expect(try await store.key(matching: key) == record)
        #expect(try await store.key(matching: key + "x") == nil)
        let stored = try store.writer.read { db in try Row.fetchAll(db, sql: "SELECT * FROM api_keys") }
        #expect(stored.count == 1)
        #expect(!stored[0].description.contains(key))
        #expect((stored[0]["key_sha256"] as String).count == 64)
        try await store.revokeKey(id: record.id, actor: "alice", reason: "rotated")
        #expect(try await store.key(matching: key) == nil)
        await #expect(throws: StoreError.self) { try await store.revokeKey(id: record.id, actor: "alice", reason: nil) }
        #expect(try await store.auditEntries().map(\.action) == ["key.create", "key.revoke"])
        #expect(try await store.auditEntries().first?.detail == #"{"name":"checkout-service","role":"score"}"#)
    }

    /// Every pair, by hand: `label` includes `score`; `analyst` only itself; `admin` everything.
    @Test func whatEachRoleIncludes() {
        let included: [APIRole: Set<APIRole>] = [
            .score: [.score], .label: [.score, .label], .analyst: [.analyst], .admin: [.score, .label, .analyst, .admin],
        ]
        for role in APIRole.allCases {
            #expect(Set(APIRole.allCases.filter(role.includes)) == included[role], "\(role)")
        }
    }
}
