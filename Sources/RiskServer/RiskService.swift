import Foundation
import Logging
import Prometheus
import RiskFeatures
import RiskModels
import RiskScoring
import RiskStore
import Synchronization

/// What the HTTP service works with: the store, the scorer with the champion, API key lookups and
/// the metrics. One instance per server; `Sendable`, shared by all requests.
public final class RiskService: Sendable {
    /// The largest request body accepted (413 above).
    public static let maximumBodyBytes = 4 << 20
    /// The most events one `/v1/score` call may carry.
    public static let maximumBatch = 10_000
    /// How long a looked-up key is trusted before the store is asked again (revocations take
    /// effect within this time).
    static let keyCacheSeconds = 10.0

    public let store: Store
    public let scorer: Scorer
    public let metrics: PrometheusCollectorRegistry
    /// Decisions on their way to the store.
    public let decisions: DecisionLog
    let logger: Logger
    private let keyCache = Mutex<[String: (key: APIKey, until: Date)]>([:])
    private let scoredCounters: [Decision: Counter]
    private let errorCounter: Counter

    /// Serves the store's champion with `policy`.
    ///
    /// - Throws: when the store has no champion or it cannot serve events.
    public init(store: Store, policy: DecisionPolicy, logger: Logger) throws {
        guard let champion = try store.championId() else {
            throw APIError(.serviceUnavailable, code: "no_champion", message: "the registry has no champion model; promote one first")
        }
        let artifact = try ModelArtifact.decode(from: try store.artifactJSON(of: champion))
        self.store = store
        scorer = Scorer(model: try ServingModel(artifact), policy: policy)
        let metrics = PrometheusCollectorRegistry()
        self.metrics = metrics
        decisions = DecisionLog(store: store, logger: logger)
        self.logger = logger
        let scored = MetricNameDescriptor(
            namespace: "riskloop", metricName: "scored_events", unitName: "total", helpText: "Events scored, by decision")
        scoredCounters = Dictionary(
            uniqueKeysWithValues: Decision.allCases.map { decision in
                (decision, metrics.makeCounter(descriptor: scored, labels: [("decision", decision.rawValue)]))
            })
        errorCounter = metrics.makeCounter(
            descriptor: MetricNameDescriptor(
                namespace: "riskloop", metricName: "request_errors", unitName: "total", helpText: "Requests that ended in an error"))
    }

    func key(matching presented: String) throws -> APIKey? {
        let now = Date()
        if let cached = keyCache.withLock({ $0[presented] }), cached.until > now { return cached.key }
        guard let key = try store.key(matching: presented) else { return nil }
        keyCache.withLock { $0[presented] = (key, now.addingTimeInterval(Self.keyCacheSeconds)) }
        return key
    }

    func counted(_ scores: [RiskScore]) {
        for score in scores { scoredCounters[score.decision]?.increment() }
    }

    func countError() { errorCounter.increment() }
}
