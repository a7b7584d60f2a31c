import RiskStore
import ServiceLifecycle

/// The store's side of a running server, both until a graceful shutdown ends them at once:
/// the backend's upkeep (``RiskStore/Store/runUpkeep(logger:)``: SQLite checkpoints its WAL off
/// the commit path), and following the registry (``RiskStore/Store/watchRegistry(every:_:)``): a
/// champion promoted or rolled back, or a shadow set, by any process reaches the scorers within
/// ``RiskService/registryCheckInterval`` or so; and following the shared log
/// (``RiskService/followLog()``): what other replicas decide and are told reaches this server's
/// entity history within ``RiskService/logFollowInterval`` and a read.
struct StoreUpkeepService: Service {
    let service: RiskService

    func run() async throws {
        let service = self.service
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await service.store.runUpkeep(logger: service.logger) }
                group.addTask {
                    while !Task.isCancelled {
                        do {
                            try await service.followLog()
                        } catch {
                            service.logger.error("reading the shared log failed; retrying", metadata: ["error": "\(error)"])
                        }
                        try? await Task.sleep(for: RiskService.logFollowInterval)
                    }
                }
                group.addTask {
                    while !Task.isCancelled {
                        do {
                            try await service.store.watchRegistry(every: RiskService.registryCheckInterval) { state in
                                await service.follow(state)
                            }
                        } catch is CancellationError {
                            return
                        } catch {
                            service.logger.error("watching the registry failed; retrying", metadata: ["error": "\(error)"])
                            try? await Task.sleep(for: .seconds(1))
                        }
                    }
                }
            }
        }
    }
}
