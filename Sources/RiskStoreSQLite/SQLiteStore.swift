import Foundation
import GRDB
import Logging
import RiskStore

/// The embedded backend of ``RiskStore/Store``: one SQLite file (WAL mode) through GRDB.
///
/// ```swift
/// let store = try SQLiteStore(path: "riskloop.sqlite", logger: logger)
/// let report = try await store.ingestEvents(fromFile: "events.jsonl")
/// ```
///
/// Every write is one transaction: a failure leaves the database as it was before that write.
/// Opening a file migrates it to the current schema (``StoreSchema``). Every call runs its
/// SQLite work through GRDB's asynchronous access (on GRDB's own dispatch queues) or on the
/// store's I/O queue, never on the caller's cooperative thread.
public final class SQLiteStore: Store {
    /// Where the database lives, or `:memory:`.
    public let path: String
    public var location: String { path }
    let writer: any DatabaseWriter
    let logger: Logger
    /// The per-request point reads on a connection of their own (`nil` in memory, where no
    /// second connection can see the database).
    let lookups: RequestLookups?

    /// Opens (creating if needed) the database file at `path` and migrates it.
    public init(path: String, logger: Logger = Logger(label: "riskloop.store")) throws(StoreError) {
        self.path = path
        self.logger = logger
        do {
            let directory = URL(filePath: path).deletingLastPathComponent()
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            writer = try DatabasePool(path: path, configuration: Self.configuration())
            try StoreSchema.migrator.migrate(writer)
            lookups = try RequestLookups(path: path)
        } catch {
            throw StoreError(error)
        }
    }

    /// ``init(path:logger:)`` off the caller's thread: opening migrates the file, which blocks.
    public static func open(path: String, logger: Logger = Logger(label: "riskloop.store")) async throws(StoreError) -> SQLiteStore {
        try await BlockingWork.run(on: BlockingWork.ingestQueue) { () throws(StoreError) in try SQLiteStore(path: path, logger: logger) }
    }

    /// A private in-memory database, migrated: for tests and one-off experiments.
    public static func inMemory(logger: Logger = Logger(label: "riskloop.store")) throws(StoreError) -> SQLiteStore {
        try SQLiteStore(inMemoryWith: logger)
    }

    private init(inMemoryWith logger: Logger) throws(StoreError) {
        path = ":memory:"
        self.logger = logger
        lookups = nil
        do {
            writer = try DatabaseQueue(configuration: Self.configuration())
            try StoreSchema.migrator.migrate(writer)
        } catch {
            throw StoreError(error)
        }
    }

    private static func configuration() -> Configuration {
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        // Wait for a concurrent writer (a CLI beside the server) instead of failing at once.
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in
            // WAL with NORMAL sync is durable against process crashes and keeps bulk ingest fast;
            // a power cut can lose the last transactions but never corrupts the file.
            if !db.configuration.readonly { try db.execute(sql: "PRAGMA synchronous = NORMAL") }
            // A 64 MiB page cache keeps the indexes of a bulk ingest in memory instead of re-reading
            // pages through system calls.
            try db.execute(sql: "PRAGMA cache_size = -65536")
            try db.execute(sql: "PRAGMA mmap_size = 1073741824")
            try db.execute(sql: "PRAGMA wal_autocheckpoint = 16384")
        }
        return configuration
    }

    /// Runs `body` in one write transaction on GRDB's writer queue; any error rolls everything back.
    func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws(StoreError) -> T {
        do {
            return try await writer.write(body)
        } catch {
            throw StoreError(error)
        }
    }

    /// Runs `body` against a consistent snapshot on one of GRDB's reader queues.
    func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws(StoreError) -> T {
        do {
            return try await writer.read(body)
        } catch {
            throw StoreError(error)
        }
    }

    /// ``write(_:)`` for work already running on a thread that may block (a file ingest inside
    /// ``BlockingWork``): never call it from a cooperative thread.
    func writeBlocking<T>(_ body: (Database) throws -> T) throws(StoreError) -> T {
        do {
            return try writer.write(body)
        } catch {
            throw StoreError(error)
        }
    }
}
