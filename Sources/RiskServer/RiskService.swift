import Foundation
import Logging
import Prometheus
import RiskEngine
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
    /// The challenger scoring in shadow (status `shadow`), if any: its scores are logged beside
    /// the champion's and never decide anything.
    public var shadow: Scorer? { shadowScorer.withLock { $0 } }
    /// The retraining cycle that `POST /v1/retrain` and ``FeedbackLoopService`` run.
    public let loop: FeedbackLoop
    public let metrics: PrometheusCollectorRegistry
    /// Decisions on their way to the store.
    public let decisions: DecisionLog
    let logger: Logger
    private let keyCache = Mutex<[String: (key: APIKey, until: Date)]>([:])
    private let scoredCounters: [Decision: Counter]
    private let errorCounter: Counter
    private let shadowScorer = Mutex<Scorer?>(nil)
    private let cycleRunning = Mutex(false)
    private let policy: DecisionPolicy

    /// Serves the store's champion with `policy` (and the shadow model, if there is one);
    /// retraining cycles follow `retrainPolicy`.
    ///
    /// - Throws: when the store has no champion or it cannot serve events.
    public init(store: Store, policy: DecisionPolicy, retrainPolicy: RetrainPolicy = RetrainPolicy(), logger: Logger) throws {
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
        self.policy = policy
        loop = FeedbackLoop(store: store, policy: retrainPolicy, actor: "riskloop-serve")
        // Decisions name the policy by version; replay reads it back from the store.
        try store.record(policy, actor: "riskloop-serve")
        // Velocity and fraud-rate features need the history a restart would otherwise forget.
        try scorer.warm(from: store, asOf: Self.now, historyDays: retrainPolicy.historyDays)
        let scored = MetricNameDescriptor(
            namespace: "riskloop", metricName: "scored_events", unitName: "total", helpText: "Events scored, by decision")
        scoredCounters = Dictionary(
            uniqueKeysWithValues: Decision.allCases.map { decision in
                (decision, metrics.makeCounter(descriptor: scored, labels: [("decision", decision.rawValue)]))
            })
        errorCounter = metrics.makeCounter(
            descriptor: MetricNameDescriptor(
                namespace: "riskloop", metricName: "request_errors", unitName: "total", helpText: "Requests that ended in an error"))
        try reloadShadow()
    }

    static var now: Timestamp { Timestamp(millisecondsSinceEpoch: Int64(Date().timeIntervalSince1970 * 1000)) }

    /// Loads the registry's shadow model into a scorer of its own (or drops it when there is none).
    public func reloadShadow() throws {
        let id = try store.shadowId()
        if id == shadow?.model.artifact.id { return }
        let scorer = try id.map { try Scorer(model: ServingModel(ModelArtifact.decode(from: store.artifactJSON(of: $0))), policy: policy) }
        try scorer?.warm(from: store, asOf: Self.now, historyDays: loop.policy.historyDays)
        shadowScorer.withLock { $0 = scorer }
    }

    /// Runs one retraining cycle at the present time off the request threads, hot-swaps the
    /// scorer to a promoted challenger, and refreshes the drift gauges.
    ///
    /// - Returns: `nil` when a cycle is already running in this server.
    public func retrain(force: Bool, actor: String) async throws -> FeedbackLoop.CycleResult? {
        let claimed = cycleRunning.withLock { running in
            if running { return false }
            running = true
            return true
        }
        guard claimed else { return nil }
        defer { cycleRunning.withLock { $0 = false } }
        // Decisions still queued are part of the traffic the loop and the drift read.
        decisions.flush()
        var configured = self.loop
        configured.actor = actor
        let loop = configured
        let now = Self.now
        let result = try await Self.offloaded { try loop.runCycle(asOf: now, force: force) }
        if case .ran(let cycle) = result {
            logger.info(
                "retraining cycle", metadata: ["outcome": "\(cycle.record.outcome.rawValue)", "challenger": "\(cycle.challenger.id)"])
            if cycle.record.outcome == .promoted { scorer.swap(to: try ServingModel(cycle.challenger)) }
        }
        try await refreshDrift(asOf: now)
        return result
    }

    /// Sets `riskloop_drift_psi{model, variable}` for the champion: its score and every input
    /// column over the retraining policy's recent days.
    public func refreshDrift(asOf: Timestamp) async throws {
        let champion = scorer.model.artifact, loop = self.loop
        guard let report = try await Self.offloaded({ try loop.drift(of: champion, asOf: asOf) }) else { return }
        let psi = MetricNameDescriptor(
            namespace: "riskloop", metricName: "drift", unitName: "psi",
            helpText: "Population stability index between training and recent traffic")
        metrics.makeGauge(descriptor: psi, labels: [("model", champion.id), ("variable", "score")]).set(report.score)
        for column in report.columns {
            metrics.makeGauge(descriptor: psi, labels: [("model", champion.id), ("variable", column.name)]).set(column.psi)
        }
    }

    /// Runs CPU-heavy work on a dispatch thread, not on the server's event loops.
    static func offloaded<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(with: Result { try work() }) }
        }
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
