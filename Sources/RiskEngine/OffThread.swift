import Dispatch
import Synchronization

/// Where the engine's CPU-heavy work runs (training, warming a scorer, building a table): on
/// dispatch threads, never on one of Swift concurrency's few cooperative threads, which also run
/// the server's requests. Store calls inside it still hop to the backend's own queues.
public enum OffThread {
    /// A task executor on the global dispatch queue: async work started with it as preference
    /// (`Task(executorPreference:)`, `withTaskExecutorPreference`) runs its nonisolated code there.
    public static let executor = DispatchTaskExecutor(queue: .global())

    /// Runs `work` with ``executor`` as its preference and returns its result.
    public static func run<T: Sendable, Failure: Error>(_ work: @Sendable () async throws(Failure) -> T) async throws(Failure) -> T {
        let outcome = await withTaskExecutorPreference(executor) { () async -> Result<T, Failure> in
            do throws(Failure) { return .success(try await work()) } catch { return .failure(error) }
        }
        return try outcome.get()
    }

    /// Runs `work` on ``executor`` in a task of its own and waits for it, unless the calling task
    /// is cancelled (a graceful shutdown): then `CancellationError` is thrown at once, and `work`
    /// finishes unobserved (or dies with the process). For work that is one transaction, such as
    /// a retraining cycle, abandoning it leaves nothing half-written.
    public static func abandonable<T: Sendable>(_ work: @escaping @Sendable () async throws -> T) async throws -> T {
        let waiter = Waiter<T>()
        let outcome = await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                waiter.set(continuation)
                // Unstructured on purpose: the caller must be able to stop waiting for it.
                Task.detached(executorPreference: executor) {
                    let result: Result<T, any Error>
                    do { result = .success(try await work()) } catch { result = .failure(error) }
                    waiter.resume(with: result)
                }
            }
        } onCancel: {
            waiter.resume(with: .failure(CancellationError()))
        }
        return try outcome.get()
    }

    /// The one continuation of ``abandonable(_:)``, resumed by whichever comes first.
    private final class Waiter<T: Sendable>: Sendable {
        private let continuation = Mutex<CheckedContinuation<Result<T, any Error>, Never>?>(nil)

        func set(_ continuation: CheckedContinuation<Result<T, any Error>, Never>) {
            self.continuation.withLock { $0 = continuation }
        }

        func resume(with result: Result<T, any Error>) {
            continuation.withLock { $0.take() }?.resume(returning: result)
        }
    }
}

/// A `TaskExecutor` that runs every job on a dispatch queue.
public final class DispatchTaskExecutor: TaskExecutor {
    private let queue: DispatchQueue

    public init(queue: DispatchQueue) {
        self.queue = queue
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        queue.async { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
