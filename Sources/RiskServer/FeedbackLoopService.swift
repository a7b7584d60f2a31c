import Logging
import ServiceLifecycle

/// The feedback loop inside `riskloop serve`: every ``interval`` it runs a retraining cycle if
/// the retraining policy's trigger holds (new labels, time, or score drift), hot-swapping the
/// scorer to a promoted challenger. A failed cycle is logged and retried at the next check.
///
/// A graceful shutdown (SIGTERM, SIGINT) ends it at once, whatever the interval: the wait is
/// cancelled, and a cycle in progress is abandoned — it is one transaction, so nothing of it is
/// written unless it had already committed.
public struct FeedbackLoopService: Service {
    public let service: RiskService
    public let interval: Duration

    public init(service: RiskService, interval: Duration) {
        self.service = service
        self.interval = interval
    }

    public func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try await Task.sleep(for: interval)
                do {
                    _ = try await service.retrain(force: false, actor: "riskloop-serve")
                } catch is CancellationError {
                    return
                } catch {
                    service.logger.error("retraining cycle failed; retrying at the next check", metadata: ["error": "\(error)"])
                }
            }
        }
    }
}
