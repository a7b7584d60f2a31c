import GRDBSQLite
import Synchronization

/// Copies the write-ahead log into the database file on a connection of its own, so that no
/// commit waits for it (``Store/takeOverCheckpoints()``).
///
/// SQLite's automatic checkpoint runs inside the commit that crosses its threshold (every 64 MiB
/// of WAL here). Under group commit every request in that commit then waits for the checkpoint:
/// the server's p99 was 162–348 ms with it and 9 ms without it, and its throughput 4,793–5,041
/// against 6,120–6,360 requests/s (wrk, 10 s, same period; docs/DESIGN.md "HTTP service"). A
/// passive checkpoint here copies what no reader still needs, beside the writer, never blocking it.
public final class WALCheckpointer: Sendable {
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

    /// Frames of WAL (4 KiB pages) past which the log should restart (``Store/restartWAL()``), as
    /// SQLite's automatic checkpoint did (64 MiB).
    public static let restartFrames = 16_384

    /// One passive checkpoint: every frame that no reader still needs is copied into the database
    /// file, beside the writer, never blocking it. Blocks for the I/O; call it off the request
    /// threads.
    ///
    /// - Returns: the frames in the WAL and how many of them are now in the database file.
    @discardableResult
    public func checkpoint() throws(StoreError) -> (walFrames: Int, checkpointed: Int) {
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

extension Store {
    /// Stops checkpointing the WAL inside commits and returns who does it instead: a server
    /// whose answers wait for their commit runs ``WALCheckpointer/checkpoint()`` on a timer, off
    /// the commit path. `nil` for an in-memory store, which has no WAL.
    public func takeOverCheckpoints() throws(StoreError) -> WALCheckpointer? {
        guard lookups != nil else { return nil }
        let checkpointer = try WALCheckpointer(path: path)
        do {
            try writer.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_autocheckpoint = 0") }
        } catch {
            throw StoreError(error)
        }
        return checkpointer
    }

    /// Restarts the WAL from its beginning, on the writer's connection between two commits: under
    /// a steady load the log is never empty at the moment a writer starts, so passive checkpoints
    /// alone let it grow without end (600 MB in 10 s of wrk). After a passive pass this copies
    /// only what came since, holding the next commit back for that long.
    public func restartWAL() throws(StoreError) {
        do {
            _ = try writer.writeWithoutTransaction { db in try db.checkpoint(.restart) }
        } catch {
            throw StoreError(error)
        }
    }
}
