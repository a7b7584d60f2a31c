import Foundation
import RiskContract
import RiskEngine
import ServiceLifecycle

/// `riskloop serve --retention-days N`: runs ``RiskEngine/Retention`` every ``interval`` (and
/// once shortly after start), until a graceful shutdown. A refused or failed run is logged and
/// tried again at the next interval; serving goes on.
struct RetentionService: Service {
    let service: RiskService
    let retention: Retention
    static let interval = Duration.seconds(3600)
    static let firstRunAfter = Duration.seconds(60)

    func run() async throws {
        let service = self.service, retention = self.retention
        await cancelWhenGracefulShutdown {
            var wait = Self.firstRunAfter
            while !Task.isCancelled {
                do {
                    try await Task.sleep(for: wait)
                } catch {
                    return
                }
                wait = Self.interval
                do {
                    let report = try await retention.run(asOf: RiskService.now, dryRun: false, actor: "riskloop-serve")
                    service.logger.info(
                        "retention",
                        metadata: ["cutoff": "\(report.cutoff.rfc3339)", "events": "\(report.events)", "decisions": "\(report.decisions)"])
                } catch {
                    service.logger.error("retention did not run", metadata: ["error": "\(error)"])
                }
            }
        }
    }
}
