import Dispatch
import Logging
import RiskStore
import ServiceLifecycle
import Synchronization

/// Writes the decisions of all requests to the store in batches: a request hands its decisions
/// over and answers at once; every few milliseconds the accumulated decisions are written in one
/// transaction. One SQLite write per request would cap the service at a few thousand requests a
/// second and block the threads that serve requests.
///
/// Trade-off: a process that is killed (not stopped) can lose the decisions of its last
/// ``flushInterval``. A graceful shutdown writes everything before it returns.
public final class DecisionLog: Service, Sendable {
    /// How long decisions wait before they are written.
    public static let flushInterval = Duration.milliseconds(5)

    private let store: Store
    private let logger: Logger
    private let pending = Mutex<[DecisionRecord]>([])
    private let writer = DispatchQueue(label: "riskloop.decision-log")

    init(store: Store, logger: Logger) {
        self.store = store
        self.logger = logger
    }

    /// Queues decisions for the next batch.
    func append(_ records: [DecisionRecord]) {
        pending.withLock { $0.append(contentsOf: records) }
    }

    /// Writes every queued decision now, in one transaction.
    public func flush() {
        let batch = pending.withLock { queued in
            let batch = queued
            queued.removeAll(keepingCapacity: true)
            return batch
        }
        guard !batch.isEmpty else { return }
        do {
            try store.log(batch)
        } catch {
            // Put them back: they are retried with the next batch rather than lost.
            pending.withLock { $0.insert(contentsOf: batch, at: 0) }
            logger.error("decisions not written; retrying", metadata: ["count": "\(batch.count)", "error": "\(error)"])
        }
    }

    /// Flushes every ``flushInterval`` until shutdown, then once more. Each write runs on a
    /// dispatch thread: a blocking SQLite transaction on one of the few cooperative threads that
    /// also run the request handlers would hold up the requests queued behind it.
    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            try? await Task.sleep(for: Self.flushInterval)
            await flushOffTheCooperativePool()
        }
        await flushOffTheCooperativePool()
    }

    private func flushOffTheCooperativePool() async {
        await withCheckedContinuation { continuation in
            writer.async {
                self.flush()
                continuation.resume()
            }
        }
    }
}
