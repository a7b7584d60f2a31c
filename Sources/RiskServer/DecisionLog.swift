import Logging
import RiskStore
import Synchronization

/// Writes the decisions of all requests to the store by group commit: a request hands its
/// decisions over and waits for the transaction that holds them, so a decision is answered only
/// once it is durable. When a commit starts it takes every decision waiting at that moment;
/// requests arriving meanwhile wait for the next one, which starts as soon as this one ends.
/// There is no timer: one request alone is written at once, and under load each transaction
/// holds what arrived while the previous one ran, so throughput holds.
///
/// The commits run in a task of their own that lasts while decisions keep arriving; the store
/// does each transaction off the cooperative threads (``RiskStore/Store/log(_:)``).
public final class DecisionLog: Sendable {
    private struct Queue {
        var records: [DecisionRecord] = []
        var waiting: [CheckedContinuation<Void, any Error>] = []
        var writing = false
    }

    private let store: any Store
    private let logger: Logger
    private let queue = Mutex(Queue())

    init(store: any Store, logger: Logger) {
        self.store = store
        self.logger = logger
    }

    /// Logs `records` and returns once the transaction that holds them has committed.
    ///
    /// - Throws: the store's error when that transaction failed; then none of the decisions
    ///   committed with it are stored, and the caller must not answer as if they were.
    func log(_ records: [DecisionRecord]) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let start = queue.withLock { queue in
                queue.records.append(contentsOf: records)
                queue.waiting.append(continuation)
                if queue.writing { return false }
                queue.writing = true
                return true
            }
            // Unstructured on purpose: the writer outlives the request that started it.
            if start { Task { await self.commitWhileWaiting() } }
        }
    }

    /// Commits everything waiting, then whatever arrived during that commit, until nothing waits.
    private func commitWhileWaiting() async {
        while true {
            let (records, waiting) = queue.withLock { queue in
                let taken = (queue.records, queue.waiting)
                queue.records.removeAll(keepingCapacity: true)
                queue.waiting.removeAll(keepingCapacity: true)
                if taken.1.isEmpty { queue.writing = false }
                return taken
            }
            guard !waiting.isEmpty else { return }
            let result: Result<Void, any Error>
            do {
                try await store.log(records)
                result = .success(())
            } catch {
                result = .failure(error)
            }
            if case .failure(let error) = result {
                logger.error("decisions not written", metadata: ["count": "\(records.count)", "error": "\(error)"])
            }
            for continuation in waiting { continuation.resume(with: result) }
        }
    }
}
