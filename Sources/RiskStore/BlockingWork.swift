import Dispatch

/// Runs blocking work (reading an input file, SQLite calls outside GRDB's own queues) on a
/// dispatch queue, never on a cooperative thread: a blocked cooperative thread holds up every
/// task queued behind it.
package enum BlockingWork {
    /// Where file ingests read and wait for their validation batches: they block a thread for
    /// their whole length.
    package static let ingestQueue = DispatchQueue(label: "riskloop.ingest", attributes: .concurrent)

    /// Runs `work` on `queue` and waits for it without blocking the caller's thread.
    package static func run<T: Sendable>(on queue: DispatchQueue, _ work: @escaping @Sendable () throws(StoreError) -> T)
        async throws(StoreError)
        -> T
    {
        let outcome = await withCheckedContinuation { (continuation: CheckedContinuation<Result<T, StoreError>, Never>) in
            queue.async { continuation.resume(returning: Result { () throws(StoreError) -> T in try work() }) }
        }
        return try outcome.get()
    }
}
