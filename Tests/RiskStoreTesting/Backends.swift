import Foundation
import GRDB
import PostgresNIO
import RiskStore
import RiskStoreLocation
import RiskStorePostgres

@testable import RiskStorePostgres
@testable import RiskStoreSQLite

// What the store and server tests share: a scratch directory, the backends every store test runs
// on, and plain SQL against either backend.

/// A temporary directory per test, removed when the value goes away.
public final class TemporaryDirectory: Sendable {
    public let url: URL

    public init() throws {
        url = FileManager.default.temporaryDirectory.appending(path: "riskloop-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    /// Writes `text` to a file in the directory and returns its path.
    public func file(_ name: String, _ text: String) throws -> String {
        let path = url.appending(path: name).path
        try Data(text.utf8).write(to: URL(filePath: path))
        return path
    }

    public var databasePath: String { url.appending(path: "test.sqlite").path }
}

/// The backends the store conformance tests run on: every test written against `any Store` with
/// `@Test(arguments: Backend.allCases)` is what any backend of the protocol must pass.
/// PostgreSQL is among them when `RISKLOOP_TEST_POSTGRES_URL` names a server
/// (``PostgresTesting``); each test then gets a database of its own.
public enum Backend: String, CaseIterable, Sendable {
    case sqliteMemory = "sqlite :memory:"
    case sqliteFile = "sqlite file"
    case postgres = "postgres"

    public static var allCases: [Backend] {
        PostgresTesting.url == nil ? [.sqliteMemory, .sqliteFile] : [.sqliteMemory, .sqliteFile, .postgres]
    }

    /// The backends where several stores (processes) share one database.
    public static var shared: [Backend] { allCases.filter { $0 != .sqliteMemory } }

    /// Another store on the same database as `store`, as another process would open it.
    public func openAgain(_ store: any Store) async throws -> any Store {
        switch store {
        case let store as PostgresStore: try await PostgresStore.open(url: store.url)
        default: try await StoreLocation(store.location).open()
        }
    }

    /// A fresh, migrated store (a file backend's lives in `directory`).
    public func open(_ directory: TemporaryDirectory) async throws -> any Store {
        switch self {
        case .sqliteMemory: try await StoreLocation(":memory:").open()
        case .sqliteFile: try await StoreLocation(directory.databasePath).open()
        case .postgres: try await PostgresTesting.freshStore()
        }
    }
}

/// Plain SQL against either backend's tables (same names and columns), for the tests that look
/// at rows directly.
public enum SQL {
    /// The one integer `sql` selects (a count).
    public static func integer(_ store: any Store, _ sql: String) async throws -> Int {
        switch store {
        case let store as SQLiteStore: return try await store.writer.read { db in try Int.fetchOne(db, sql: sql) ?? 0 }
        case let store as PostgresStore:
            return Int(try store.decodeAll(try await store.rows(PostgresQuery(unsafeSQL: sql)), as: Int64.self).first ?? 0)
        default: throw StoreError.database(message: "no SQL helper for \(type(of: store))")
        }
    }

    /// Runs one statement outside the store's methods (what a tampering operator would do).
    public static func execute(_ store: any Store, _ sql: String) async throws {
        switch store {
        case let store as SQLiteStore: try await store.write { db in try db.execute(sql: sql) }
        case let store as PostgresStore: _ = try await store.rows(PostgresQuery(unsafeSQL: sql))
        default: throw StoreError.database(message: "no SQL helper for \(type(of: store))")
        }
    }

    /// The text column `sql` selects, row by row.
    public static func strings(_ store: any Store, _ sql: String) async throws -> [String] {
        switch store {
        case let store as SQLiteStore: return try await store.writer.read { db in try String.fetchAll(db, sql: sql) }
        case let store as PostgresStore: return try store.decodeAll(try await store.rows(PostgresQuery(unsafeSQL: sql)), as: String.self)
        default: throw StoreError.database(message: "no SQL helper for \(type(of: store))")
        }
    }

    /// Every table's rows as text, in a fixed order: equal dumps mean an unchanged database.
    public static func dump(_ store: any Store) async throws -> [String] {
        var dump: [String] = []
        var tables = ["ingest_batches", "events", "labels", "decisions", "models", "audit_log", "api_keys", "retrain_cycles", "policies"]
        if store is PostgresStore { tables.append("event_ids") }
        for table in tables {
            switch store {
            case let store as SQLiteStore:
                dump += try await store.writer.read { db in
                    try Row.fetchAll(db, sql: "SELECT * FROM \(table) ORDER BY rowid").map { "\(table): \($0)" }
                }
            default:
                dump += try await strings(store, "SELECT CAST(t AS TEXT) FROM \(table) t ORDER BY CAST(t AS TEXT)").map {
                    "\(table): \($0)"
                }
            }
        }
        return dump
    }
}
