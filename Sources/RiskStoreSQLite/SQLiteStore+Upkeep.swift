import Dispatch
import GRDB
import Logging
import RiskStore

extension SQLiteStore {
    /// How often a server's store checkpoints its WAL (``runUpkeep(logger:)``).
    public static let checkpointInterval = Duration.milliseconds(250)

    /// Checkpoints the WAL every ``checkpointInterval`` until cancelled, off the commit path: the
    /// writer stops checkpointing inside commits (SQLite's automatic checkpoint would make every
    /// request of a group commit wait for it), a passive checkpoint copies the log beside the
    /// writer on a connection of its own, and past 64 MiB of log a restart runs on the writer
    /// between two commits. Nothing to do in memory, which has no WAL.
    public func runUpkeep(logger: Logger) async {
        let checkpointer: WALCheckpointer
        do {
            guard let taken = try await takeOverCheckpoints() else { return }
            checkpointer = taken
        } catch {
            logger.error("WAL checkpoints stay inside commits", metadata: ["error": "\(error)"])
            return
        }
        let queue = DispatchQueue(label: "riskloop.wal-checkpoint")
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: Self.checkpointInterval)
                let frames = try await BlockingWork.run(on: queue) { () throws(StoreError) in try checkpointer.checkpoint().walFrames }
                if frames > WALCheckpointer.restartFrames { try await restartWAL() }
            } catch is CancellationError {
                return
            } catch {
                logger.error("WAL checkpoint failed; retrying", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Stops checkpointing the WAL inside commits and returns who does it instead (`nil` in
    /// memory, which has no WAL).
    func takeOverCheckpoints() async throws(StoreError) -> WALCheckpointer? {
        guard lookups != nil else { return nil }
        let checkpointer = try WALCheckpointer(path: path)
        do {
            try await writer.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_autocheckpoint = 0") }
        } catch {
            throw StoreError(error)
        }
        return checkpointer
    }

    /// Restarts the WAL from its beginning, on the writer's connection between two commits: under
    /// a steady load the log is never empty at the moment a writer starts, so passive checkpoints
    /// alone let it grow without end (600 MB in 10 s of wrk). After a passive pass this copies
    /// only what came since, holding the next commit back for that long.
    func restartWAL() async throws(StoreError) {
        do {
            _ = try await writer.writeWithoutTransaction { db in try db.checkpoint(.restart) }
        } catch {
            throw StoreError(error)
        }
    }

    /// Polls `PRAGMA data_version` on a read-only connection of its own every `interval`; it
    /// changes whenever another connection (this process's writer or another process) commits,
    /// and only then are the champion and shadow read again. `changed` is called when they differ
    /// from what it was last given.
    public func watchRegistry(every interval: Duration, _ changed: @Sendable (RegistryState) async -> Void) async throws {
        // In memory there is no other connection (and no other process): the writer's own
        // connection is read, every time, since its own commits leave data_version as it is.
        let everyTime = lookups == nil
        let watcher: any DatabaseReader
        if everyTime {
            watcher = writer
        } else {
            var configuration = Configuration()
            configuration.readonly = true
            configuration.busyMode = .timeout(10)
            watcher = try DatabaseQueue(path: path, configuration: configuration)
        }
        var version: Int?
        var last: RegistryState?
        while true {
            try Task.checkCancellation()
            let (seen, state) = try await watcher.read { [version] db -> (Int, RegistryState?) in
                let seen = try Int.fetchOne(db, sql: "PRAGMA data_version") ?? 0
                guard seen != version || everyTime else { return (seen, nil) }
                return (
                    seen,
                    RegistryState(
                        champion: try Self.championId(db), shadow: try Self.shadowId(db), policy: try Self.activePolicyVersion(db))
                )
            }
            version = seen
            if let state, state != last {
                last = state
                await changed(state)
            }
            try await Task.sleep(for: interval)
        }
    }
}
