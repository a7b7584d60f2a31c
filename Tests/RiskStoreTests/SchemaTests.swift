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
