import Dispatch
import GRDBSQLite
import RiskContract
import RiskStore
import Synchronization

/// The point reads every scoring request makes — its API key, and whether its event ids are
/// stored — on a read-only SQLite connection of their own with prepared statements, outside
/// GRDB's pool.
///
/// Through `DatabasePool.read` each of these reads cost about 200 µs of CPU under a serving load
/// (a dispatch hop, a read transaction, the statement authorizer, a statement prepared anew),
/// and the two of them took the service from 5,221 to 2,102 requests/s in one period
/// (`Benchmarks/compare_http.py`, docs/DESIGN.md "HTTP service"). Here each is one step of a
/// cached statement in SQLite's autocommit mode, which reads the latest committed state: a key
/// revoked by another process is refused at the next request.
final class RequestLookups: Sendable {
    /// The connection and its statements: used only under the mutex, one call at a time.
    private final class Connection {
        let database: OpaquePointer
        let key: OpaquePointer
        let event: OpaquePointer

        init(path: String) throws(StoreError) {
            let database = try RawConnection.open(path, flags: SQLITE_OPEN_READONLY)
            func prepare(_ sql: String) throws(StoreError) -> OpaquePointer {
                var statement: OpaquePointer?
                guard sqlite3_prepare_v3(database, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil) == SQLITE_OK,
                    let statement
                else {
                    throw .database(message: String(cString: sqlite3_errmsg(database)))
                }
                return statement
            }
            self.database = database
            do {
                key = try prepare(
                    "SELECT id, name, role, created_at, revoked_at FROM api_keys WHERE key_sha256 = ? AND revoked_at IS NULL")
                event = try prepare(
                    """
                    SELECT e.payload, (SELECT d.answer FROM decisions d WHERE d.event_id = e.id ORDER BY d.id LIMIT 1)
                    FROM events e WHERE e.id = ?
                    """)
            } catch {
                sqlite3_close_v2(database)
                throw error
            }
        }

        deinit {
            sqlite3_finalize(key)
            sqlite3_finalize(event)
            sqlite3_close_v2(database)
        }

        /// Binds `text`, steps once, hands the row (if any) to `read`, and resets.
        func first<T>(_ statement: OpaquePointer, _ text: String, _ read: (OpaquePointer) throws(StoreError) -> T) throws(StoreError) -> T?
        {
            defer {
                sqlite3_reset(statement)
                sqlite3_clear_bindings(statement)
            }
            // SQLITE_TRANSIENT: SQLite copies the text before the call returns.
            guard sqlite3_bind_text(statement, 1, text, -1, unsafeBitCast(-1, to: sqlite3_destructor_type.self)) == SQLITE_OK else {
                throw .database(message: String(cString: sqlite3_errmsg(database)))
            }
            switch sqlite3_step(statement) {
            case SQLITE_ROW: return try read(statement)
            case SQLITE_DONE: return nil
            default: throw .database(message: String(cString: sqlite3_errmsg(database)))
            }
        }
    }

    private let connection: Mutex<Connection>
    /// Where the reads run: a serial queue of their own, off the cooperative threads. The hop
    /// costs a few microseconds; a read through GRDB's pool cost about 200.
    private let queue = DispatchQueue(label: "riskloop.request-lookups")

    init(path: String) throws(StoreError) {
        connection = Mutex(try Connection(path: path))
    }

    func key(sha256: String) async throws(StoreError) -> APIKey? {
        try await BlockingWork.run(on: queue) { () throws(StoreError) in try self.readKey(sha256: sha256) }
    }

    func storedEvents(ids: [String]) async throws(StoreError) -> [String: StoredEvent] {
        try await BlockingWork.run(on: queue) { () throws(StoreError) in try self.readStoredEvents(ids: ids) }
    }

    private func readKey(sha256: String) throws(StoreError) -> APIKey? {
        dispatchPrecondition(condition: .onQueue(queue))
        return try connection.withLock { (connection) throws(StoreError) -> APIKey? in
            try connection.first(connection.key, sha256) { (row) throws(StoreError) in
                // A role the code does not know is an error, never read as another role.
                let text = Self.text(row, 2)
                guard let role = APIRole(rawValue: text) else {
                    throw .database(message: "api_keys row \(sqlite3_column_int64(row, 0)): unknown role '\(text)'")
                }
                return APIKey(
                    id: sqlite3_column_int64(row, 0), name: Self.text(row, 1), role: role,
                    createdAt: Timestamp(millisecondsSinceEpoch: sqlite3_column_int64(row, 3)), revokedAt: nil)
            }
        }
    }

    private func readStoredEvents(ids: [String]) throws(StoreError) -> [String: StoredEvent] {
        dispatchPrecondition(condition: .onQueue(queue))
        return try connection.withLock { (connection) throws(StoreError) -> [String: StoredEvent] in
            var found: [String: StoredEvent] = [:]
            for id in ids {
                let stored = try connection.first(connection.event, id) { row in
                    StoredEvent(
                        payload: Self.text(row, 0), answer: sqlite3_column_type(row, 1) == SQLITE_NULL ? nil : Self.text(row, 1))
                }
                if let stored { found[id] = stored }
            }
            return found
        }
    }

    private static func text(_ row: OpaquePointer, _ column: Int32) -> String {
        guard let bytes = sqlite3_column_text(row, column) else { return "" }
        return String(decoding: UnsafeBufferPointer(start: bytes, count: Int(sqlite3_column_bytes(row, column))), as: UTF8.self)
    }
}
