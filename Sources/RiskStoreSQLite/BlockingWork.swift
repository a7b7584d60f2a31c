import Dispatch
import RiskStore

/// Runs blocking SQLite work that does not go through GRDB's own queues (the raw connections of
/// ``RequestLookups`` and ``WALCheckpointer``) on a dispatch queue, never on a cooperative thread:
/// a blocked cooperative thread holds up every task queued behind it.
enum BlockingWork {
    /// Runs `work` on `queue` and waits for it without blocking the caller's thread.
    static func run<T: Sendable>(on queue: DispatchQueue, _ work: @escaping @Sendable () throws(StoreError) -> T) async throws(StoreError)
        -> T
    {
        let outcome = await withCheckedContinuation { (continuation: CheckedContinuation<Result<T, StoreError>, Never>) in
            queue.async { continuation.resume(returning: Result { () throws(StoreError) -> T in try work() }) }
        }
        return try outcome.get()
    }
}
