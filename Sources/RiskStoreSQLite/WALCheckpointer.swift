import GRDBSQLite
import RiskStore
import Synchronization

/// Copies the write-ahead log into the database file on a connection of its own, so that no
/// commit waits for it (``SQLiteStore/runUpkeep(logger:)``).
///
/// SQLite's automatic checkpoint runs inside the commit that crosses its threshold (every 64 MiB
/// of WAL here). Under group commit every request in that commit then waits for the checkpoint:
/// the server's p99 was 162–348 ms with it and 9 ms without it, and its throughput 4,793–5,041
/// against 6,120–6,360 requests/s (wrk, 10 s, same period; docs/DESIGN.md "HTTP service"). A
/// passive checkpoint here copies what no reader still needs, beside the writer, never blocking it.
final class WALCheckpointer: Sendable {
    /// The connection: used only under the mutex.
    private final class Connection {
        let database: OpaquePointer

        init(path: String) throws(StoreError) {
            database = try RawConnection.open(path, flags: SQLITE_OPEN_READWRITE)
        }

        deinit { sqlite3_close_v2(database) }
    }

    private let connection: Mutex<Connection>

    init(path: String) throws(StoreError) {
        connection = Mutex(try Connection(path: path))
    }

    /// Frames of WAL (4 KiB pages) past which the log should restart (``SQLiteStore/restartWAL()``), as
    /// SQLite's automatic checkpoint did (64 MiB).
    static let restartFrames = 16_384

    /// One passive checkpoint: every frame that no reader still needs is copied into the database
    /// file, beside the writer, never blocking it. Blocks for the I/O; call it off the request
    /// threads.
    ///
    /// - Returns: the frames in the WAL and how many of them are now in the database file.
    @discardableResult
    func checkpoint() throws(StoreError) -> (walFrames: Int, checkpointed: Int) {
        try connection.withLock { (connection) throws(StoreError) -> (walFrames: Int, checkpointed: Int) in
            var frames: Int32 = 0, copied: Int32 = 0
            let status = sqlite3_wal_checkpoint_v2(connection.database, nil, SQLITE_CHECKPOINT_PASSIVE, &frames, &copied)
            guard status == SQLITE_OK || status == SQLITE_BUSY else {
                throw .database(message: String(cString: sqlite3_errmsg(connection.database)))
            }
            return (Int(frames), Int(copied))
        }
    }
}
