import GRDBSQLite
import RiskStore

/// Opening the raw SQLite connections that the store keeps beside GRDB's pool
/// (``RequestLookups``, ``WALCheckpointer``): one place for the flags, the busy timeout and the
/// first read.
enum RawConnection {
    /// Opens `path` with `flags` (plus no per-connection mutex: each user holds its own lock) and
    /// reads the schema once: a connection learns that the file is in WAL mode only when it first
    /// reads it (until then a checkpoint answers -1 frames and does nothing).
    static func open(_ path: String, flags: Int32) throws(StoreError) -> OpaquePointer {
        var database: OpaquePointer?
        guard sqlite3_open_v2(path, &database, flags | SQLITE_OPEN_NOMUTEX, nil) == SQLITE_OK, let database else {
            let message = database.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            sqlite3_close(database)
            throw .database(message: "\(path): \(message)")
        }
        sqlite3_busy_timeout(database, 10_000)
        guard sqlite3_exec(database, "SELECT count(*) FROM sqlite_master", nil, nil, nil) == SQLITE_OK else {
            let message = String(cString: sqlite3_errmsg(database))
            sqlite3_close(database)
            throw .database(message: "\(path): \(message)")
        }
        return database
    }
}
