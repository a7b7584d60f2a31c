import Foundation
import Logging
import Prometheus
import RiskContract
import RiskEngine
import RiskFeatures
import RiskModels
import RiskScoring
import RiskSignals
import RiskStore
import Synchronization

/// What the HTTP service works with: the store, the scorer with the champion, API key lookups and
/// the metrics. One instance per server; `Sendable`, shared by all requests.
public final class RiskService: Sendable {
    /// The largest request body accepted (413 above).
    public static let maximumBodyBytes = 4 << 20
    /// The most events one `/v1/score` call may carry.
    public static let maximumBatch = 10_000

    public let store: any Store
    public let scorer: Scorer
    /// The challenger scoring in shadow (status `shadow`), if any: its scores are logged beside
    /// the champion's and never decide anything.
    public var shadow: Scorer? { shadowScorer.withLock { $0 } }
    /// Label versions from `POST /v1/labels`: stored, then observed by the champion's and the
    /// shadow's scorers.
    public var labels: LabelIntake {
        LabelIntake(store: store) { [self] labels in
            let shadow = self.shadow
            for label in labels {
                scorer.observe(label)
                shadow?.observe(label)
            }
        }
    }

    /// The analysts' review queue (`/v1/cases`): a resolution's label is stored, then observed by
    /// the champion's and the shadow's scorers, as a label from `POST /v1/labels` is.
    public var cases: ReviewQueue {
        ReviewQueue(store: store) { [self] label in
            scorer.observe(label)
            shadow?.observe(label)
        }
    }
    /// The step-up outcomes (`POST /v1/events/{id}/outcome`) that open a review case.
    public let stepUpCases: Set<StepUpOutcome>
    /// Asks the customers' operators for the telco signals an event lacks (`serve --operators`).
    public let enricher: Enricher?
    /// Checks the sink tokens of pushed notifications (`notifications` in `--operators`).
    public let sinkCredentials: SinkCredentials?

    /// The retraining cycle that `POST /v1/retrain` and ``FeedbackLoopService`` run.
    public let loop: FeedbackLoop
    public let metrics: PrometheusCollectorRegistry
    /// Decisions on their way to the store: a request answers once its decisions are committed.
    public let decisions: DecisionLog
    let logger: Logger
    /// Event ids being scored by a request now: a second request with one of them waits.
    private let claims = EventClaims()
    private let scoredCounters: [Decision: Counter]
    private let errorCounter: Counter
    private let shadowScorer = Mutex<Scorer?>(nil)
    /// `riskloop_serving_model` and `riskloop_serving_policy`: what ``serving`` says, as metrics.
    private let servingGauges = Mutex<[Gauge]>([])
    private let cycleRunning = Mutex(false)
    /// `riskloop_cases_open`, `riskloop_cases_oldest_open_age_seconds` and
    /// `riskloop_cases_resolved{outcome}`: read from the store at each scrape, so that every
    /// replica reports the one shared queue.
    private let caseGauges: (open: Gauge, oldestAge: Gauge, resolved: [Outcome: Gauge])
    /// When the case gauges were last read: a scraper polling `/metrics` (the cluster demo
    /// watches its replicas' history positions there every millisecond) must not become two
    /// store queries a poll.
    private let caseGaugesReadAt = Mutex<ContinuousClock.Instant?>(nil)
    /// How stale the case gauges may be.
    static let caseGaugesInterval = Duration.seconds(1)
    /// This server's name among the replicas sharing the store, logged with each decision.
    public let replica: String
    /// How far this server's entity history has read the shared log (``followLog()``).
    private let logPosition: Mutex<LogPosition>
    /// `riskloop_history_lag_seconds`: from another replica's decision to this one's history.
    private let historyLag: DurationHistogram
    /// `riskloop_history_position{log}`: how far this server's history has read the shared log.
    private let historyPositionGauges: (decisions: Gauge, labels: Gauge)

    /// Serves the store's champion with `policy` (and the shadow model, if there is one);
    /// retraining cycles follow `retrainPolicy`.
    ///
    /// - Throws: when the store has no champion or it cannot serve events.
    ///
    /// - Parameters:
    ///   - replica: this server's name among the processes sharing the store (default: the host
    ///     name and process id).
    ///   - historyAsOf: the time the entity history is warmed as of (default: now); a past time
    ///     replays a past period, as `riskloop demo --replicas` does.
    ///   - stepUpCases: the step-up outcomes that open a review case (default: failed and abandoned).
    ///   - operators: the operators asked for the telco signals an event lacks (``score(_:single:)``);
    ///     `nil` asks none.
    public init(
        store: any Store, policy: DecisionPolicy, retrainPolicy: RetrainPolicy = RetrainPolicy(), replica: String? = nil,
        historyAsOf: Timestamp? = nil, stepUpCases: Set<StepUpOutcome> = [.failed, .abandoned], operators: OperatorConfiguration? = nil,
        logger: Logger
    ) async throws {
        guard let champion = try await store.championId() else {
            throw APIError(.serviceUnavailable, code: "no_champion", message: "the registry has no champion model; promote one first")
        }
        self.store = store
        self.stepUpCases = stepUpCases
        scorer = Scorer(model: try await store.verifiedModel(champion), policy: policy)
        let metrics = PrometheusCollectorRegistry()
        self.metrics = metrics
        enricher = try operators.map { try Enricher(configuration: $0, http: .shared, metrics: metrics) }
        if let secret = operators?.notifications?.secret {
            sinkCredentials = await SinkCredentials(secret: secret)
        } else {
            sinkCredentials = nil
        }
        decisions = DecisionLog(store: store, logger: logger)
        let scorer = self.scorer
        self.logger = logger
        loop = FeedbackLoop(store: store, policy: retrainPolicy, actor: "riskloop-serve")
        // Decisions name the policy by version; replay reads it back from the store.
        try await store.record(policy, actor: "riskloop-serve")
        // Velocity and fraud-rate features need the history a restart would otherwise forget.
        try await Self.warm(scorer, from: store, asOf: historyAsOf ?? Self.now, historyDays: retrainPolicy.historyDays)
        // What the others decide from here on reaches this history through the shared log.
        self.replica = replica ?? "\(ProcessInfo.processInfo.hostName):\(ProcessInfo.processInfo.processIdentifier)"
        logPosition = Mutex(try await store.logPosition())
        historyLag = metrics.makeDurationHistogram(
            descriptor: MetricNameDescriptor(
                namespace: "riskloop", metricName: "history_lag", unitName: "seconds",
                helpText: "Time from another replica's decision to its event in this server's entity history"),
            buckets: [
                .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
                .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5),
            ])
        let position = MetricNameDescriptor(
            namespace: "riskloop", metricName: "history", unitName: "position",
            helpText: "The last id of the shared log (decisions, label versions) applied to this server's entity history")
        historyPositionGauges = (
            metrics.makeGauge(descriptor: position, labels: [("log", "decisions")]),
            metrics.makeGauge(descriptor: position, labels: [("log", "labels")])
        )
        let scored = MetricNameDescriptor(
            namespace: "riskloop", metricName: "scored_events", unitName: "total", helpText: "Events scored, by decision")
        scoredCounters = Dictionary(
            uniqueKeysWithValues: Decision.allCases.map { decision in
                (decision, metrics.makeCounter(descriptor: scored, labels: [("decision", decision.rawValue)]))
            })
        errorCounter = metrics.makeCounter(
            descriptor: MetricNameDescriptor(
                namespace: "riskloop", metricName: "request_errors", unitName: "total", helpText: "Requests that ended in an error"))
        caseGauges = (
            metrics.makeGauge(
                descriptor: MetricNameDescriptor(
                    namespace: "riskloop", metricName: "cases_open", helpText: "Review cases waiting for an analyst")),
            metrics.makeGauge(
                descriptor: MetricNameDescriptor(
                    namespace: "riskloop", metricName: "cases_oldest_open_age", unitName: "seconds",
                    helpText: "How long the oldest open review case has waited (0 with none open)")),
            Dictionary(
                uniqueKeysWithValues: Outcome.allCases.map { outcome in
                    (
                        outcome,
                        metrics.makeGauge(
                            descriptor: MetricNameDescriptor(
                                namespace: "riskloop", metricName: "cases_resolved", helpText: "Review cases resolved, by outcome"),
                            labels: [("outcome", outcome.rawValue)])
                    )
                })
        )
        publishServing()
        publishPosition(logPosition.withLock { $0 })
        try await reloadShadow()
    }

    private func publishPosition(_ position: LogPosition) {
        historyPositionGauges.decisions.set(to: Double(position.decision))
        historyPositionGauges.labels.set(to: Double(position.label))
    }

    public static var now: Timestamp { Timestamp(millisecondsSinceEpoch: Int64(Date().timeIntervalSince1970 * 1000)) }

    /// What this server scores with now, read from its scorers in memory (never from the store):
    /// what `GET /healthz` answers, so a replica that has not yet followed a change says so.
    public struct Serving: Sendable, Encodable, Equatable {
        public var status = "ok"
        public var champion: String
        /// `null` in JSON when no model scores in shadow.
        public var shadow: String?
        /// The decision policy's version.
        public var policy: String

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(status, forKey: .status)
            try container.encode(champion, forKey: .champion)
            try container.encode(shadow, forKey: .shadow)
            try container.encode(policy, forKey: .policy)
        }

        enum CodingKeys: String, CodingKey { case status, champion, shadow, policy }
    }

    public var serving: Serving {
        Serving(champion: scorer.model.artifact.id, shadow: shadow?.model.artifact.id, policy: scorer.policy.version)
    }

    /// Sets the serving metrics to ``serving``: one series per model (`role` champion or shadow)
    /// and one for the policy, each 1; the series of models no longer served are removed.
    private func publishServing() {
        let serving = self.serving, metrics = self.metrics
        servingGauges.withLock { gauges in
            for gauge in gauges { metrics.unregisterGauge(gauge) }
            let model = MetricNameDescriptor(
                namespace: "riskloop", metricName: "serving", unitName: "model", helpText: "The models this server scores with, by role")
            let policy = MetricNameDescriptor(
                namespace: "riskloop", metricName: "serving", unitName: "policy", helpText: "The decision policy this server applies")
            gauges = [metrics.makeGauge(descriptor: model, labels: [("role", "champion"), ("model", serving.champion)])]
            if let shadow = serving.shadow {
                gauges.append(metrics.makeGauge(descriptor: model, labels: [("role", "shadow"), ("model", shadow)]))
            }
            gauges.append(metrics.makeGauge(descriptor: policy, labels: [("version", serving.policy)]))
            for gauge in gauges { gauge.set(to: 1.0) }
        }
    }

    /// Loads the registry's shadow model into a scorer of its own (or drops it when there is none).
    public func reloadShadow() async throws(EngineError) {
        let id = try await storeCall { () async throws(StoreError) in try await store.shadowId() }
        try await follow(shadow: id)
    }

    /// Scores in shadow with `id` (the registry's shadow model), or with none.
    func follow(shadow id: String?) async throws(EngineError) {
        if id == shadow?.model.artifact.id { return }
        var scorer: Scorer? = nil
        if let id {
            let staging = Scorer(model: try await store.verifiedModel(id), policy: self.scorer.policy)
            try await Self.warm(staging, from: store, asOf: Self.now, historyDays: loop.policy.historyDays)
            scorer = staging
        }
        shadowScorer.withLock { $0 = scorer }
        publishServing()
    }

    /// Follows the registry's champion and shadow as any process changes them (the CLI, another
    /// server, this one): ``RiskStore/Store/watchRegistry(every:_:)`` calls this within
    /// ``registryCheckInterval`` of a change.
    func follow(_ state: RegistryState) async {
        do {
            if let champion = state.champion, champion != scorer.model.artifact.id {
                try await swapChampion(to: try await store.verifiedModel(champion))
                logger.info("champion changed in the registry; now serving it", metadata: ["champion": "\(champion)"])
            }
            try await follow(shadow: state.shadow)
            if let version = state.policy, version != scorer.policy.version {
                guard let policy = try await store.recordedPolicy(version) else {
                    throw EngineError.store(.notFound(what: "decision policy \(version)"))
                }
                scorer.swap(to: policy)
                shadow?.swap(to: policy)
                publishServing()
                logger.info("active decision policy changed in the store; now deciding with it", metadata: ["policy": "\(version)"])
            }
        } catch {
            logger.error("cannot serve the registry's models; serving the previous ones", metadata: ["error": "\(error)"])
        }
    }

    /// How often the server checks the registry for changes made elsewhere.
    public static let registryCheckInterval = Duration.milliseconds(250)

    /// How often the server reads the shared log for what other replicas decided and were told.
    public static let logFollowInterval = Duration.milliseconds(10)

    /// Applies what was appended to the shared log since the last call: the events other
    /// replicas decided (this server's own are in its history already) and every label version
    /// (applying one twice changes nothing), to the champion's and the shadow's histories. So the
    /// velocity and fraud-rate features of an event scored here count what the others scored, a
    /// bounded lag later (``logFollowInterval`` plus a read; `riskloop_history_lag_seconds`).
    ///
    /// - Returns: how many of the others' decisions were applied.
    @discardableResult
    public func followLog() async throws(EngineError) -> Int {
        var applied = 0
        while true {
            let position = logPosition.withLock { $0 }
            let tail = try await storeCall { () async throws(StoreError) in try await store.logTail(after: position, limit: 1_000) }
            let shadow = self.shadow, needsJSON = scorer.model.extractor.needsJSON || (shadow?.model.extractor.needsJSON ?? false)
            let now = Self.now
            var events: [ParsedEvent] = []
            for decided in tail.decisions where decided.replica != replica {
                guard let event = try? ParsedEvent(jsonLine: Array(decided.payload.utf8), keepingJSON: needsJSON) else {
                    logger.error(
                        "a logged event no longer parses; not in this replica's history", metadata: ["position": "\(decided.position)"])
                    continue
                }
                events.append(event)
                historyLag.record(.milliseconds(max(0, now.millisecondsSinceEpoch - decided.decidedAt.millisecondsSinceEpoch)))
            }
            // Applied and the position moved under the position's lock, which scoring holds too:
            // a decision's recorded position says exactly which of them its history had.
            let reached = logPosition.withLock { position in
                for event in events {
                    scorer.observe(event)
                    shadow?.observe(event)
                }
                for label in tail.labels {
                    scorer.observe(label)
                    shadow?.observe(label)
                }
                position = max(position, tail.position)
                return position
            }
            publishPosition(reached)
            applied += events.count
            if tail.decisions.count < 1_000, tail.labels.count < 1_000 { return applied }
        }
    }

    /// Runs one retraining cycle as of `asOf` (default: the latest stored event's time) off the
    /// request threads, hot-swaps the scorer to a promoted challenger, and refreshes the drift
    /// gauges.
    ///
    /// - Returns: `nil` when a cycle is already running in this server.
    public func retrain(force: Bool, asOf: Timestamp? = nil, actor: String) async throws -> FeedbackLoop.CycleResult? {
        let claimed = cycleRunning.withLock { running in
            if running { return false }
            running = true
            return true
        }
        guard claimed else { return nil }
        defer { cycleRunning.withLock { $0 = false } }
        var configured = self.loop
        configured.actor = actor
        let loop = configured, store = self.store
        var cutoff = Self.now
        if let asOf { cutoff = asOf } else if let latest = try await store.latestEventTime() { cutoff = latest }
        // Abandoned (not awaited) when the task is cancelled, as on a graceful shutdown: the cycle
        // is one transaction, so a process that exits in the middle of it leaves no trace.
        let asOf = cutoff
        let result = try await OffThread.abandonable { try await loop.runCycle(asOf: asOf, force: force) }
        if case .ran(let cycle) = result {
            logger.info(
                "retraining cycle", metadata: ["outcome": "\(cycle.record.outcome.rawValue)", "challenger": "\(cycle.challenger.id)"])
            if cycle.record.outcome == .promoted { try await swapChampion(to: try ServingModel(cycle.challenger)) }
        }
        try await refreshDrift(asOf: cutoff)
        return result
    }

    /// Makes `id` the champion through the registry (``RiskEngine/Registry/promote(_:actor:reason:)``,
    /// the path `riskloop models promote` takes too) and swaps the scorer to it.
    public func promote(_ id: String, actor: String, reason: String?) async throws(EngineError) {
        let model = try await Registry(store: store).promote(id, actor: actor, reason: reason)
        try await swapChampion(to: model)
        try await reloadShadow()
    }

    /// Warms `scorer` with the store's history up to `asOf`, off the cooperative threads.
    static func warm(_ scorer: Scorer, from store: any Store, asOf: Timestamp, historyDays: Double) async throws(EngineError) {
        try await OffThread.run { () async throws(EngineError) in
            try await scorer.warm(from: store, asOf: asOf, historyDays: historyDays)
        }
    }

    /// Swaps the scorer to `model`: a model with another spec is warmed from the store first, while
    /// the old model goes on scoring (ARCHITECTURE.md §7's hot swap without an empty history).
    func swapChampion(to model: ServingModel) async throws(EngineError) {
        let scorer = self.scorer, store = self.store, historyDays = loop.policy.historyDays
        try await OffThread.run { () async throws(EngineError) in
            try await scorer.swap(to: model, warmingFrom: store, asOf: Self.now, historyDays: historyDays)
        }
        publishServing()
    }

    /// Sets `riskloop_drift_psi{model, variable}` for the champion: its score and every input
    /// column over the retraining policy's recent days.
    public func refreshDrift(asOf: Timestamp) async throws {
        let champion = scorer.model.artifact, loop = self.loop
        guard let report = try await OffThread.abandonable({ try await loop.drift(of: champion, asOf: asOf) }) else { return }
        let psi = MetricNameDescriptor(
            namespace: "riskloop", metricName: "drift", unitName: "psi",
            helpText: "Population stability index between training and recent traffic")
        metrics.makeGauge(descriptor: psi, labels: [("model", champion.id), ("variable", "score")]).set(report.score)
        for column in report.columns {
            metrics.makeGauge(descriptor: psi, labels: [("model", champion.id), ("variable", column.name)]).set(column.psi)
        }
    }

    /// The key that `presented` is, looked up on every request (one indexed read): a key revoked
    /// from the CLI while the server runs is refused at the very next request.
    func key(matching presented: String) async throws -> APIKey? {
        try await store.key(matching: presented)
    }

    /// Scores events received by the API, logs each decision and returns the answers (JSON
    /// objects, in order) once the decisions are committed.
    ///
    /// An event id the store already holds is a retry when its JSON is the same (in any member
    /// order): the first decision's answer comes back and nothing new is logged. With other JSON
    /// the whole call is refused (409 `duplicate_event`), nothing scored or written. Requests
    /// naming the same id are handled one after the other, so concurrent duplicates are retries too.
    func score(_ received: [ReceivedEvent], single: Bool) async throws -> [String] {
        let ids = received.map(\.id)
        var positions: [String: Int] = [:]
        for (index, id) in ids.enumerated() where positions.updateValue(index, forKey: id) != nil {
            throw APIError(
                .conflict, code: "duplicate_event", message: "event id '\(id)' appears twice in this call", field: "events[\(index)].id")
        }
        await claims.claim(ids)
        defer { claims.release(ids) }
        let stored = try await store.storedEvents(ids: ids)
        var answers = [String?](repeating: nil, count: received.count)
        var fresh: [Int] = []
        for (index, item) in received.enumerated() {
            guard let known = stored[item.id] else {
                fresh.append(index)
                continue
            }
            guard JSONValue.sameDocument(known.payload, item.payload) || Self.sameAsSent(known, item.payload) else {
                throw APIError(
                    .conflict, code: "duplicate_event", message: StoreError.duplicateEventMessage(item.id),
                    field: single ? "id" : "events[\(index)].id")
            }
            // Ingested but never decided (or decided before answers were kept): decided now.
            if let answer = known.answer { answers[index] = answer } else { fresh.append(index) }
        }
        guard !fresh.isEmpty else { return answers.map { $0! } }
        // An event the store already holds (ingested, never decided) is decided as stored.
        let enriched = await enrich(fresh.filter { stored[received[$0].id] == nil }.map { received[$0] })
        let events = fresh.map { enriched[received[$0].id]?.event ?? received[$0].parsed }
        // Scored under the log position's lock, so that no other replica's event enters the
        // history between reading the position recorded with the decisions and scoring.
        let (historyPosition, scores, shadowScores) = logPosition.withLock { position in
            let shadow = self.shadow
            return (
                position.decision, events.count == 1 ? [scorer.score(events[0])] : scorer.score(events),
                shadow.map { shadow in events.count == 1 ? [shadow.score(events[0])] : shadow.score(events) }
            )
        }
        let decidedAt = Self.now
        var records: [DecisionRecord] = []
        records.reserveCapacity(fresh.count)
        for (position, index) in fresh.enumerated() {
            let score = scores[position], shadowScore = shadowScores?[position]
            // Each score's reasons are written once, for its decision row and for the answer.
            let reasons = score.reasonsJSON
            let acquired = enriched[received[index].id]
            let answer = score.jsonText(reasons: reasons, signals: acquired?.signals)
            answers[index] = answer
            records.append(
                DecisionRecord(
                    event: events[position].event!, payload: acquired?.payload ?? received[index].payload, decidedAt: decidedAt,
                    modelId: score.modelId, policyVersion: score.policyVersion, score: score.probability,
                    decision: score.decision.rawValue, reasons: reasons, shadowModelId: shadowScore?.modelId,
                    shadowScore: shadowScore?.probability, answer: answer, replica: replica, historyPosition: historyPosition,
                    signals: acquired?.signals))
        }
        do {
            try await decisions.log(records)
        } catch StoreError.duplicateEvent(let id) {
            // Stored meanwhile by another process (an ingest) with other JSON.
            throw APIError(.conflict, code: "duplicate_event", message: StoreError.duplicateEventMessage(id))
        }
        counted(scores)
        return answers.map { $0! }
    }

    /// An event as the operators' answers completed it: what is scored, stored and answered.
    struct Enriched {
        var event: ParsedEvent
        /// The stored JSON (canonical, sorted keys), with the acquired signals in `telco`.
        var payload: String
        /// ``Enrichment/originsJSON`` as text (sorted keys).
        var signals: String
    }

    /// Enriches each event with the telco signals it lacks: what is free (the cache, the
    /// notifications) on this task; the calls concurrently, each event under the operators'
    /// deadline. Empty without ``enricher``.
    func enrich(_ events: [ReceivedEvent]) async -> [String: Enriched] {
        guard let enricher, !events.isEmpty else { return [:] }
        let now = Self.now, scorer = self.scorer, strategy = enricher.configuration.acquisition
        func enriched(_ item: ReceivedEvent, _ enrichment: Enrichment) -> Enriched {
            let completed = enrichment.completed(item.parsed, payload: item.payload)
            return Enriched(event: completed.event, payload: completed.payload, signals: completed.signals)
        }
        var done: [String: Enriched] = [:]
        var paying: [(ReceivedEvent, (enrichment: Enrichment, paid: Bool))] = []
        for item in events {
            let free = enricher.free(item.parsed, at: now, strategy: strategy)
            if free.paid { paying.append((item, free)) } else { done[item.id] = enriched(item, free.enrichment) }
        }
        guard !paying.isEmpty else { return done }
        return await withTaskGroup(of: (String, Enriched).self) { group in
            for (item, free) in paying {
                group.addTask { (item.id, enriched(item, await enricher.enrich(item.parsed, from: free, at: now, scorer: scorer))) }
            }
            for await (id, value) in group { done[id] = value }
            return done
        }
    }

    /// Whether `sent` is the event `known` was first sent as, `known` having been completed with
    /// acquired signals: its first answer's `signals` name them, and they are set aside from the
    /// stored JSON (with a `telco` object left empty) before the two are compared.
    static func sameAsSent(_ known: StoredEvent, _ sent: String) -> Bool {
        guard let answer = known.answer, case .object(let first)? = try? JSONValue.parse(Array(answer.utf8)),
            case .object(let origins)? = first["signals"], case .object(var stored)? = try? JSONValue.parse(Array(known.payload.utf8)),
            case .object(let received)? = try? JSONValue.parse(Array(sent.utf8))
        else { return false }
        func withoutEmptyTelco(_ object: JSONObject) -> JSONObject {
            var object = object
            if case .object(let telco)? = object["telco"], telco.members.isEmpty { object.members.removeAll { $0.key == "telco" } }
            return object
        }
        if case .object(var telco)? = stored["telco"] {
            for origin in origins.members {
                if case .object(let detail) = origin.value, detail["source"] == .string("event") { continue }
                telco.members.removeAll { $0.key == origin.key }
            }
            stored.members.removeAll { $0.key == "telco" }
            stored.members.append(.init(key: "telco", value: .object(telco)))
        }
        return withoutEmptyTelco(stored) == withoutEmptyTelco(received)
    }

    func counted(_ scores: [RiskScore]) {
        for score in scores { scoredCounters[score.decision]?.increment() }
    }

    func countError() { errorCounter.increment() }

    /// Reads the review queue's counts into their gauges (before `/metrics` answers), at most
    /// once per ``caseGaugesInterval``. A store failure leaves the last values and is logged.
    func refreshCaseMetrics() async {
        let now = ContinuousClock.now
        let due = caseGaugesReadAt.withLock { last in
            guard last.map({ now - $0 >= Self.caseGaugesInterval }) ?? true else { return false }
            last = now
            return true
        }
        guard due else { return }
        do {
            let statistics = try await cases.statistics()
            caseGauges.open.set(to: Double(statistics.open))
            let age = statistics.oldestOpenedAt.map { Double(Self.now.millisecondsSinceEpoch - $0.millisecondsSinceEpoch) / 1000 } ?? 0
            caseGauges.oldestAge.set(to: Swift.max(0, age))
            for (outcome, gauge) in caseGauges.resolved { gauge.set(to: Double(statistics.resolved[outcome] ?? 0)) }
        } catch {
            logger.error("cannot read the review queue's counts", metadata: ["error": "\(error)"])
        }
    }
}
