import Logging
import RiskStore
import ServiceLifecycle

/// Checkpoints the store's WAL every ``interval`` on a dispatch thread, so that no commit (and so
/// no answer) waits for a whole checkpoint (``RiskStore/WALCheckpointer``). Ends at once on a graceful
/// shutdown; SQLite checkpoints what is left when the last connection closes.
struct CheckpointService: Service {
    static let interval = Duration.milliseconds(250)
    let checkpointer: WALCheckpointer
    let store: Store
    let logger: Logger

    func run() async throws {
        let checkpointer = self.checkpointer, store = self.store
        try? await cancelWhenGracefulShutdown {
            while true {
                try await Task.sleep(for: Self.interval)
                do {
                    try await RiskService.offloaded { () throws(StoreError) in
                        // The bulk beside the writer; then, past 64 MiB, a short restart between commits.
                        if try checkpointer.checkpoint().walFrames > WALCheckpointer.restartFrames { try store.restartWAL() }
                    }
                } catch {
                    logger.error("WAL checkpoint failed; retrying", metadata: ["error": "\(error)"])
                }
            }
        }
    }
}
