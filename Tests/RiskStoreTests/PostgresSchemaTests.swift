import Foundation
import Logging
import RiskContract
import RiskStoreTesting
import Testing

@testable import RiskStore
@testable import RiskStorePostgres
@testable import RiskStoreSQLite

/// What the database itself enforces, on every backend (the SQLite half is `SchemaTests`), and
/// what only the shared backend does: tell other processes of a registry change at once.
@Suite struct SharedSchemaTests {
    @Test(arguments: Backend.allCases)
    func theDatabaseRefusesToChangeTheAuditLogOrToHoldTwoChampions(backend: Backend) async throws {
        let directory = try TemporaryDirectory()
        let store = try await backend.open(directory)
        try await store.appendAudit(actor: "alice", action: "model.promote", subject: "m1", reason: "better AP")
        for tampering in ["UPDATE audit_log SET actor = 'mallory'", "DELETE FROM audit_log"] {
            await #expect(throws: StoreError.self, "\(tampering)") { try await SQL.execute(store, tampering) }
        }
        if backend == .postgres {
            await #expect(throws: StoreError.self) { try await SQL.execute(store, "TRUNCATE audit_log") }
        }
        #expect(try await store.auditEntries().map(\.actor) == ["alice"])
        func insert(_ id: String, _ status: String) async throws {
            try await SQL.execute(
                store,
                """
                INSERT INTO models (id, algorithm, status, created_at, feature_spec_sha256, artifact, artifact_sha256, status_changed_at)
                VALUES ('\(id)', 'logistic_regression', '\(status)', 0, 'spec', '{}', 'sha', 0)
                """)
        }
        try await insert("m1", "champion")
        await #expect(throws: StoreError.self) { try await insert("m2", "champion") }
        await #expect(throws: StoreError.self) { try await insert("m3", "winner") }
        #expect(try await store.models().map(\.id) == ["m1"])
    }

    @Test func bothBackendsNameTheSameMigrations() {
        #expect(PostgresSchema.migrationNames == StoreSchema.migrationNames)
    }

    @Test func aMigrationIsSplitIntoStatementsOutsideFunctionBodies() {
        let statements = PostgresSchema.statements(
            of: """
                CREATE TABLE a (x INT);
                -- a comment;
                CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$
                    BEGIN RAISE EXCEPTION 'no'; END $$;
                CREATE INDEX b ON a(x);
                """)
        #expect(statements.count == 3)
        #expect(statements[1].contains("RAISE EXCEPTION 'no'; END $$;"))
        #expect(statements[1].hasPrefix("-- a comment;"))
    }

    /// A replica learns of a promotion made by another process through NOTIFY, long before its
    /// periodic check (one minute here) would see it. Alone it arrives in milliseconds; the bound
    /// leaves room for a machine busy with the other suites (1.03 s was seen) and is still far
    /// below the periodic check, so only the notification can meet it.
    @Test(.enabled(if: PostgresTesting.url != nil, Comment(rawValue: PostgresTesting.skipReason)))
    func anotherProcesssPromotionReachesAWatchByNotification() async throws {
        let writer = try await PostgresTesting.freshStore()
        let replica = try await PostgresStore.open(url: writer.url)
        try await writer.register(StoreConformanceTests.model("m1", at: 1), status: .champion, actor: "a")
        try await writer.register(StoreConformanceTests.model("m2", at: 2), status: .candidate, actor: "a")
        let seen = SeenStates()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await replica.watchRegistry(every: .seconds(60)) { await seen.append($0) } }
            try await seen.wait { $0.count == 1 }
            // The LISTEN connection is up once the watch's first read is done; allow it a moment.
            try await Task.sleep(for: .milliseconds(200))
            let promoted = ContinuousClock.now
            try await writer.promote("m2", actor: "a", reason: nil)
            try await seen.wait { $0.count == 2 }
            #expect(ContinuousClock.now - promoted < .seconds(10))
            try await writer.setShadow("m1", actor: "a", reason: nil)
            try await seen.wait { $0.count == 3 }
            group.cancelAll()
        }
        #expect(
            await seen.states == [
                RegistryState(champion: "m1", shadow: nil), RegistryState(champion: "m2", shadow: nil),
                RegistryState(champion: "m2", shadow: "m1"),
            ])
    }
}

/// The store-wide locks: one holder among every store (process) on the database.
@Suite struct StoreLockTests {
    @Test(arguments: Backend.allCases)
    func aLockHeldByOneStoreIsRefusedToAnotherUntilReleased(backend: Backend) async throws {
        let directory = try TemporaryDirectory()
        let first = try await backend.open(directory)
        let second = backend == .sqliteMemory ? first : try await backend.openAgain(first)
        let inner = try await first.exclusively(.retraining) { () async -> String? in
            try? await second.exclusively(.retraining) { "ran while held" } ?? "refused"
        }
        #expect(inner == "refused")
        #expect(try await second.exclusively(.retraining) { "ran" } == "ran", "released when the holder's body ended")
    }
}

/// PostgreSQL servers keep the keys they checked in memory while they listen for key changes.
@Suite struct PostgresKeyCacheTests {
    @Test(.enabled(if: PostgresTesting.url != nil, Comment(rawValue: PostgresTesting.skipReason)))
    func aKeyRevokedByAnotherProcessIsRefusedOnceTheNotificationArrives() async throws {
        let server = try await PostgresTesting.freshStore()
        let cli = try await PostgresStore.open(url: server.url)
        let (key, record) = try await server.createKey(name: "svc", role: .score, actor: "a")
        let sha256 = APIKey.sha256Hex(key)
        // Not listening: nothing is cached, every lookup reads the table.
        #expect(try await server.key(matching: key)?.id == record.id)
        #expect(server.keyCache.lookup(sha256).generation == nil)
        let upkeep = Task { await server.runUpkeep(logger: Logger(label: "test")) }
        defer { upkeep.cancel() }
        try await Self.within(.seconds(10)) { server.keyCache.lookup(sha256).generation != nil }
        #expect(try await server.key(matching: key)?.id == record.id)
        #expect(server.keyCache.lookup(sha256).key?.id == record.id, "kept in memory while listening")
        try await cli.revokeKey(id: record.id, actor: "cli", reason: "leaked")
        try await Self.within(.seconds(10)) { server.keyCache.lookup(sha256).key == nil }
        #expect(try await server.key(matching: key) == nil)
    }

    static func within(_ limit: Duration, _ condition: () -> Bool) async throws {
        let start = ContinuousClock.now
        while !condition() {
            guard ContinuousClock.now - start < limit else {
                Issue.record("not within \(limit)")
                return
            }
            try await Task.sleep(for: .milliseconds(10))
        }
    }
}
