import Foundation
import Logging
import PostgresNIO
import RiskContract
import RiskStore
import Synchronization

/// The shared backend of ``RiskStore/Store``: one PostgreSQL database that any number of
/// `riskloop serve` replicas and CLI commands use at once, through postgres-nio's connection pool.
///
/// ```swift
/// let store = try await PostgresStore.open(url: PostgresURL("postgres://riskloop@localhost:5432/bank"))
/// ```
///
/// Same semantics as the SQLite backend: the same tables and columns (``PostgresSchema``), every
/// write one transaction, the same errors. Registry writes take one advisory lock, so
/// promotions from several replicas serialize and the database's unique index (`one_champion`)
/// is never the one to refuse them; each notifies the replicas (`LISTEN`/`NOTIFY`).
public final class PostgresStore: Store {
    public let url: PostgresURL
    /// The URL without its password.
    public var location: String { url.redacted }
    let client: PostgresClient
    let logger: Logger
    /// Runs the pool until the store goes away.
    private let running: Task<Void, Never>
    /// The API keys found valid, while ``runUpkeep(logger:)`` listens for key changes.
    let keyCache = KeyCache()
    /// The months whose partitions this process knows to exist (``ensurePartitions(_:)``).
    let partitionMonths = PartitionMonths()

    private init(url: PostgresURL, logger: Logger) {
        self.url = url
        self.logger = logger
        // The pool's own log says what each query's error says again, and warns of queries
        // leased before `run()` has started (they wait for it): only its errors are kept.
        var background = logger
        background.logLevel = max(logger.logLevel, .error)
        client = PostgresClient(configuration: url.clientConfiguration, backgroundLogger: background)
        running = Task { [client] in await client.run() }
    }

    deinit { running.cancel() }

    /// Connects to the database at `url` and migrates it to the current schema.
    ///
    /// - Throws: ``RiskStore/StoreError/database(message:)`` naming the server's refusal (no such
    ///   database, authentication, the server not listening).
    public static func open(url: PostgresURL, logger: Logger = Logger(label: "riskloop.store")) async throws(StoreError) -> PostgresStore {
        try await open(url: url, logger: logger, migrations: PostgresSchema.migrations.count)
    }

    /// ``open(url:logger:)`` migrating through the first `migrations` only.
    static func open(url: PostgresURL, logger: Logger, migrations: Int) async throws(StoreError) -> PostgresStore {
        let store = PostgresStore(url: url, logger: logger)
        do {
            try await PostgresSchema.migrate(store.client, logger: logger, count: migrations)
        } catch {
            throw StoreError(postgres: error, at: url)
        }
        return store
    }

    // MARK: Running queries

    /// Runs `body` in one transaction on a pooled connection; any error rolls everything back.
    func transaction<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws(StoreError) -> T {
        do {
            return try await client.withTransaction(logger: logger) { connection in try await body(connection) }
        } catch {
            throw StoreError(postgres: error, at: url)
        }
    }

    /// Runs `body` in one read-only transaction that sees one snapshot (`REPEATABLE READ`).
    func snapshot<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws(StoreError) -> T {
        try await transaction { connection in
            try await connection.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY", logger: logger)
            return try await body(connection)
        }
    }

    /// Runs one statement outside a transaction and collects its rows.
    func rows(_ query: PostgresQuery) async throws(StoreError) -> [PostgresRow] {
        do {
            return try await client.query(query, logger: logger).collect()
        } catch {
            throw StoreError(postgres: error, at: url)
        }
    }

    /// Serializes the registry's writers (promotions, rollbacks, shadows, cycles, registrations)
    /// across every process on the database, until the caller's transaction ends.
    func lockRegistry(_ connection: PostgresConnection) async throws {
        try await connection.query(
            "SELECT pg_advisory_xact_lock(\(PostgresSchema.lockNamespace), \(PostgresSchema.Lock.registry.rawValue))", logger: logger)
    }

    /// Serializes the appends to the shared log (decisions, label versions) until the caller's
    /// transaction ends (``PostgresSchema/Lock/logAppend``).
    func lockLogAppend(_ connection: PostgresConnection) async throws {
        try await connection.query(
            "SELECT pg_advisory_xact_lock(\(PostgresSchema.lockNamespace), \(PostgresSchema.Lock.logAppend.rawValue))", logger: logger)
    }

    static func nowMilliseconds() -> Int64 {
        Int64((Date().timeIntervalSince1970 * 1000).rounded())
    }
}

extension StoreError {
    /// A postgres-nio failure as the protocol's error (a `StoreError` passes through): the
    /// server's message when it sent one, else what failed on the way to it.
    init(postgres error: any Error, at url: PostgresURL) {
        if let error = error as? StoreError {
            self = error
        } else if let error = error as? PostgresTransactionError,
            let cause = error.closureError ?? error.beginError ?? error.commitError ?? error.rollbackError
        {
            self.init(postgres: cause, at: url)
        } else if let error = error as? PSQLError {
            if let info = error.serverInfo, let message = info[.message] {
                let detail = info[.detail].map { " (\($0))" } ?? ""
                self = .database(message: message + detail)
            } else {
                self = .database(message: "PostgreSQL at \(url.redacted): \(error.code)\(error.underlying.map { ": \($0)" } ?? "")")
            }
        } else {
            self = .database(message: "\(error)")
        }
    }
}

/// Multi-row statements built with numbered parameters, within PostgreSQL's 65,535 per statement.
struct RowsInsert {
    private(set) var bindings = PostgresBindings()
    private(set) var values: [String] = []
    private var tuple: [String] = []

    /// Rows per statement for `columns` columns.
    static func chunkSize(columns: Int) -> Int { 60_000 / columns }

    mutating func add<Value: PostgresThrowingDynamicTypeEncodable>(_ value: Value?) throws {
        try bindings.append(value)
        tuple.append("$\(bindings.count)")
    }

    mutating func endRow() {
        values.append("(" + tuple.joined(separator: ", ") + ")")
        tuple = []
    }

    var isEmpty: Bool { values.isEmpty }

    /// `prefix VALUES (…), (…) suffix`.
    func query(_ prefix: String, _ suffix: String = "") -> PostgresQuery {
        PostgresQuery(unsafeSQL: prefix + " VALUES " + values.joined(separator: ", ") + " " + suffix, binds: bindings)
    }
}

extension PostgresStore {
    /// Creates an empty database `name` on the server of `url` (whose own database must exist)
    /// and returns its URL: what the tests and the cluster demo start from.
    ///
    /// - Throws: ``RiskStore/StoreError/database(message:)``, e.g. when `name` exists.
    public static func createDatabase(_ name: String, on url: PostgresURL, logger: Logger = Logger(label: "riskloop.store"))
        async throws(StoreError) -> PostgresURL
    {
        guard name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }), !name.isEmpty else {
            throw .database(message: "a database name of letters, digits and '_' only, not '\(name)'")
        }
        do {
            let connection = try await PostgresConnection.connect(configuration: url.connectionConfiguration, id: 0, logger: logger)
            do {
                try await connection.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: logger)
            } catch {
                try? await connection.close()
                throw error
            }
            try await connection.close()
        } catch {
            throw StoreError(postgres: error, at: url)
        }
        return url.with(database: name)
    }
}

/// The API keys a server has found valid, kept while a connection `LISTEN`s on the keys' channel
/// (``PostgresStore/runUpkeep(logger:)``): every write to `api_keys` notifies it at commit and
/// empties the cache, so a revocation counts from the next request on every replica, as when
/// each request read the table. Without the listener (the CLI, or while it reconnects) nothing
/// is cached. A lookup that raced a notification does not store what it read.
final class KeyCache: Sendable {
    private struct State {
        var listening = false
        var generation: UInt64 = 0
        var keys: [String: APIKey] = [:]
    }

    private let state = Mutex(State())
    /// Past this many keys the cache starts again (keys are few; this bounds a flood).
    static let capacity = 10_000

    /// The cached key for a hash, and the generation to store a fresh lookup under (`nil`: do not cache).
    func lookup(_ sha256: String) -> (key: APIKey?, generation: UInt64?) {
        state.withLock { state in
            guard state.listening else { return (nil, nil) }
            return (state.keys[sha256], state.generation)
        }
    }

    /// Keeps `key` unless the keys changed since `generation` was read.
    func store(_ key: APIKey, for sha256: String, generation: UInt64) {
        state.withLock { state in
            guard state.listening, state.generation == generation else { return }
            if state.keys.count >= Self.capacity { state.keys.removeAll() }
            state.keys[sha256] = key
        }
    }

    /// The keys changed, or the listener (re)connected or stopped: forget everything.
    func invalidate(listening: Bool) {
        state.withLock { state in
            state.generation &+= 1
            state.keys.removeAll()
            state.listening = listening
        }
    }
}
