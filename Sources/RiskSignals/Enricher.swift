import AsyncHTTPClient
import Foundation
import NIOCore
import Prometheus
import RiskContract

/// The telco signals one event gained before scoring, and where each came from.
public struct Enrichment: Sendable, Equatable {
    /// Values acquired for the event (from the cache, an operator or a notification).
    public var values = SignalTable<SignalValue>()
    /// Each acquired value as JSON text (``SignalValue/jsonText``), written once when the answer
    /// arrived and kept with it in the cache; ``completed(_:payload:)`` writes what is missing.
    public var texts = SignalTable<String>()
    /// Every operator-served signal's origin, including those the event carried.
    public var origins = SignalTable<SignalOrigin>()
    /// Operator calls made for this event, and what they cost.
    public var calls = 0
    public var cost = 0.0
    /// The strategy that chose the calls, when one did.
    public var acquisition: AcquisitionStrategy?
    /// One of the cost-aware strategy's share of events that acquire every signal.
    public var explored = false

    public init() {}

    /// `{"acquisition": "cost_aware", "sim_swap": {"source": "operator", "operator": "uk"},
    /// "roaming": {"source": "unknown", "reason": "timeout"}, …}`: what the decision log and the
    /// answer record. `acquisition` is `explore` for the cost-aware strategy's share of events
    /// that acquire every signal.
    public var originsJSON: JSONValue {
        var members = origins.map { JSONObject.Member(key: $0.key.telcoField, value: $0.value.json) }
        if let acquisition {
            members.insert(.init(key: "acquisition", value: .string(explored ? "explore" : acquisition.rawValue)), at: 0)
        }
        return .object(JSONObject(members))
    }

    /// The event's JSON with the acquired values added to its `telco` object (created when absent);
    /// members the event had are left as they were.
    public func applied(to json: JSONObject) -> JSONObject {
        guard !values.isEmpty else { return json }
        var result = json
        var telco: JSONObject
        if case .object(let existing)? = json["telco"] { telco = existing } else { telco = JSONObject() }
        for (api, value) in values where telco[api.telcoField] == nil || telco[api.telcoField] == .null {
            telco.members.removeAll { $0.key == api.telcoField }
            telco.members.append(.init(key: api.telcoField, value: value.json))
        }
        result.members.removeAll { $0.key == "telco" }
        result.members.append(.init(key: "telco", value: .object(telco)))
        return result
    }
}

/// Enriches events with what their customer's operator says, before features are extracted.
///
/// For an event that names `customer.phone_number`, every operator-served `telco` member the
/// event lacks is taken from the cache (or a notification) when a recent answer is there, and
/// otherwise asked of the number's operator; the calls run in parallel under one deadline per
/// event. A signal not back in time, or an error, stays unknown (never safe), with its reason.
public final class Enricher: Sendable {
    public let configuration: OperatorConfiguration
    let clients: [String: OperatorClient]
    let breakers: [String: CircuitBreaker]
    let limiters: [String: RateLimiter]
    let cache = SignalCache()
    let metrics: EnrichmentMetrics?

    /// - Parameters:
    ///   - metrics: where the calls, their latency, errors, cache hits and cost are counted.
    ///   - sendsAsOf: sends each call's (simulated) time to the operator (``OperatorClient/sendsAsOf``).
    ///   - shared: answers shared with other enrichers asking the same questions (``SharedAnswers``).
    public init(
        configuration: OperatorConfiguration, http: HTTPClient, metrics: PrometheusCollectorRegistry? = nil, sendsAsOf: Bool = false,
        shared: SharedAnswers? = nil
    ) throws {
        self.configuration = configuration
        var clients: [String: OperatorClient] = [:]
        var breakers: [String: CircuitBreaker] = [:]
        var limiters: [String: RateLimiter] = [:]
        for entry in configuration.operators {
            clients[entry.name] = try OperatorClient(entry, http: http, sendsAsOf: sendsAsOf, shared: shared)
            breakers[entry.name] = CircuitBreaker(failures: entry.circuitFailures, openFor: entry.circuitOpenFor)
            if let rate = entry.rateLimitPerSecond { limiters[entry.name] = RateLimiter(perSecond: rate) }
        }
        self.clients = clients
        self.breakers = breakers
        self.limiters = limiters
        self.metrics = metrics.map(EnrichmentMetrics.init)
    }

    /// What is known of `event`'s missing signals without a paid call: the cache and the
    /// notifications, as of `now`. Every signal has an origin: `event`, `cache`,
    /// `notification`, or unknown (`not_needed` until ``acquire(_:for:into:at:)`` asks for it).
    public func known(_ event: Event, at now: Timestamp) -> Enrichment {
        var enrichment = Enrichment()
        let telco = event.telco
        guard let number = event.customer?.phoneNumber else {
            for api in OperatorAPI.ordered {
                enrichment.origins[api] =
                    telco.map(api.isCarried(by:)) == true
                    ? .event : .unknown(reason: SignalFailure.missingInput("customer.phone_number").reason)
            }
            return enrichment
        }
        cache.reading(number) { cached in
            for api in OperatorAPI.ordered {
                if let telco, api.isCarried(by: telco) {
                    enrichment.origins[api] = .event
                } else if let entry = cached?[api], now < entry.expires {
                    if let value = entry.value {
                        enrichment.values[api] = value
                        enrichment.texts[api] = entry.text
                        enrichment.origins[api] = entry.pushed ? .notification : .cache
                    } else {
                        enrichment.origins[api] = .cachedUnknown(reason: entry.failure?.reason ?? SignalFailure.badAnswer.reason)
                    }
                } else {
                    enrichment.origins[api] = .unknown(reason: SignalFailure.notNeeded.reason)
                }
            }
        }
        if let metrics {
            for api in OperatorAPI.ordered {
                switch enrichment.origins[api] {
                case .cache?, .notification?, .cachedUnknown?: metrics.cacheHit(api)
                default: break
                }
            }
        }
        return enrichment
    }

    /// The signals of `event` still unknown in `enrichment` that a call could fetch.
    public func fetchable(_ event: Event, _ enrichment: Enrichment) -> Set<OperatorAPI> {
        guard event.customer?.phoneNumber != nil else { return [] }
        return Set(enrichment.origins.compactMap { $0.value.isFetchable ? $0.key : nil })
    }

    /// Everything `event` lacks, from the cache or its operator: ``known(_:at:)`` then
    /// ``acquire(_:for:into:at:)`` of every fetchable signal.
    public func enrich(_ event: Event, at now: Timestamp) async -> Enrichment {
        var enrichment = known(event, at: now)
        await acquire(fetchable(event, enrichment), for: event, into: &enrichment, at: now)
        return enrichment
    }

    /// Calls the operator for `apis` of `event` in parallel, all answered by one deadline
    /// (``OperatorConfiguration/deadline`` from now); answers enter the cache.
    ///
    /// - Parameter until: the deadline when the calls are one round of several for the event
    ///   (default: the configuration's deadline from now).
    public func acquire(
        _ apis: Set<OperatorAPI>, for event: Event, into enrichment: inout Enrichment, at now: Timestamp,
        until: ContinuousClock.Instant? = nil
    ) async {
        guard let number = event.customer?.phoneNumber, !apis.isEmpty else { return }
        let end = until ?? .now + configuration.deadline
        let deadline = NIODeadline.now() + .nanoseconds(EnrichmentMetrics.nanoseconds(max(.zero, end - .now)))
        var calls: [(OperatorAPI, OperatorClient)] = []
        let route = configuration.route(number)
        for api in apis.sorted() {
            guard let route, route.apis[api] != nil, let client = clients[route.name] else {
                enrichment.origins[api] = .unknown(reason: SignalFailure.notOffered.reason)
                continue
            }
            if api == .numberRecycling, event.customer?.enrolledAt == nil {
                enrichment.origins[api] = .unknown(reason: SignalFailure.missingInput("customer.enrolled_at").reason)
                continue
            }
            guard breakers[route.name]!.admits() else {
                enrichment.origins[api] = .unknown(reason: SignalFailure.circuitOpen.reason)
                metrics?.failed(route.name, api, .circuitOpen)
                continue
            }
            if let limiter = limiters[route.name], !limiter.take() {
                enrichment.origins[api] = .unknown(reason: SignalFailure.rateLimited.reason)
                metrics?.failed(route.name, api, .rateLimited)
                continue
            }
            calls.append((api, client))
        }
        guard !calls.isEmpty else { return }
        let results = await withTaskGroup(of: (OperatorAPI, Result<SignalValue, SignalFailure>, Duration)?.self) { group in
            for (api, client) in calls {
                group.addTask {
                    let started = ContinuousClock.now
                    let result = await client.call(
                        api, phoneNumber: number, specifiedDate: event.customer?.enrolledAt, correlator: event.id, asOf: now,
                        deadline: deadline)
                    return (api, result, ContinuousClock.now - started)
                }
            }
            // The deadline holds even if a call ignores it.
            group.addTask {
                try? await Task.sleep(until: end + .milliseconds(5))
                return nil
            }
            var results: [OperatorAPI: (Result<SignalValue, SignalFailure>, Duration)] = [:]
            for await item in group {
                guard let (api, result, took) = item else { break }
                results[api] = (result, took)
                if results.count == calls.count { break }
            }
            group.cancelAll()
            return results
        }
        for (api, client) in calls {
            let name = client.configuration.name, price = client.configuration.apis[api] ?? 0
            enrichment.calls += 1
            enrichment.cost += price
            metrics?.called(name, api, price: price)
            guard let (result, took) = results[api] else {
                enrichment.origins[api] = .unknown(reason: SignalFailure.timeout.reason)
                metrics?.failed(name, api, .timeout)
                breakers[name]!.record(success: false)
                continue
            }
            metrics?.took(name, api, took)
            switch result {
            case .success(let value):
                let text = value.jsonText
                enrichment.values[api] = value
                enrichment.texts[api] = text
                enrichment.origins[api] = .fetched(operator: name)
                breakers[name]!.record(success: true)
                let ttl = configuration.cacheTTL[api] ?? .zero
                var until = now.adding(milliseconds: Self.milliseconds(ttl))
                // A line covered by a subscription: the operator pushes any change until it ends.
                if let covered = cache.coveredUntil(number, api, at: now), covered > until { until = covered }
                if until > now { cache.store(value, text: text, api, of: number, until: until, now: now) }
            case .failure(let failure):
                enrichment.origins[api] = .unknown(reason: failure.reason)
                // An answer about the number: kept like a value, so that it is not paid for again.
                if failure.isAnswerAboutTheNumber {
                    let until = now.adding(milliseconds: Self.milliseconds(configuration.cacheTTL[api] ?? .zero))
                    if until > now { cache.store(failure, api, of: number, until: until, now: now) }
                }
                metrics?.failed(name, api, failure)
                if failure.countsAgainstOperator { breakers[name]!.record(success: false) } else { breakers[name]!.record(success: true) }
            }
        }
    }

    static func milliseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
    }
}

/// `/metrics` for the operator calls.
struct EnrichmentMetrics: Sendable {
    let registry: PrometheusCollectorRegistry
    /// Made once: a cache hit is on every enriched request's path.
    let cacheHits: [OperatorAPI: Counter]

    init(_ registry: PrometheusCollectorRegistry) {
        self.registry = registry
        let descriptor = MetricNameDescriptor(
            namespace: "riskloop", metricName: "signal_cache_hits", unitName: "total",
            helpText: "Signals taken from recent answers or notifications instead of a call")
        cacheHits = Dictionary(
            uniqueKeysWithValues: OperatorAPI.allCases.map {
                ($0, registry.makeCounter(descriptor: descriptor, labels: [("api", $0.rawValue)]))
            })
    }

    static var latency: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "riskloop", metricName: "operator_call_duration", unitName: "seconds",
            helpText: "Time of a call to an operator's API, answered or not")
    }
    static let buckets: [Duration] = [
        .milliseconds(5), .milliseconds(10), .milliseconds(20), .milliseconds(50), .milliseconds(100), .milliseconds(150),
        .milliseconds(250), .milliseconds(500), .seconds(1),
    ]

    func called(_ name: String, _ api: OperatorAPI, price: Double) {
        registry.makeCounter(
            descriptor: .init(namespace: "riskloop", metricName: "operator_calls", unitName: "total", helpText: "Calls to operators' APIs"),
            labels: [("operator", name), ("api", api.rawValue)]
        ).increment()
        registry.makeCounter(
            descriptor: .init(
                namespace: "riskloop", metricName: "operator_cost", unitName: "total",
                helpText: "What the operators' calls cost (their prices)"),
            labels: [("operator", name)]
        ).increment(by: price)
    }

    func took(_ name: String, _ api: OperatorAPI, _ duration: Duration) {
        registry.makeDurationHistogram(
            descriptor: Self.latency, labels: [("operator", name), ("api", api.rawValue)], buckets: Self.buckets
        )
        .recordNanoseconds(Self.nanoseconds(duration))
    }

    func failed(_ name: String, _ api: OperatorAPI, _ failure: SignalFailure) {
        let code: String
        switch failure {
        case .operatorError(_, let camara): code = camara
        default: code = failure.reason
        }
        registry.makeCounter(
            descriptor: .init(
                namespace: "riskloop", metricName: "operator_errors", unitName: "total",
                helpText: "Operator calls that gave no answer, by CAMARA error code or reason"),
            labels: [("operator", name), ("api", api.rawValue), ("code", code)]
        ).increment()
    }

    func cacheHit(_ api: OperatorAPI) { cacheHits[api]?.increment() }

    func notified(_ api: OperatorAPI) {
        registry.makeCounter(
            descriptor: .init(
                namespace: "riskloop", metricName: "telco_notifications", unitName: "total",
                helpText: "Subscription events the operators pushed and RiskLoop applied"),
            labels: [("api", api.rawValue)]
        ).increment()
    }

    static func nanoseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000
    }
}
