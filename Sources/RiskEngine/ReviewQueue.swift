import Foundation
import RiskContract
import RiskScoring
import RiskStore

/// The analysts' review queue: what `GET /v1/cases`, `POST /v1/cases/{id}/resolve` and
/// `riskloop cases` call, so that a case is read and resolved by one path.
///
/// ```swift
/// let queue = ReviewQueue(store: store) { label in scorer.observe(label) }
/// let file = try await queue.caseFile(7)
/// try await queue.resolve(7, outcome: .fraud, note: "customer confirmed", actor: "api-key:alice", at: now)
/// ```
public struct ReviewQueue: Sendable {
    /// How far back a case looks for the customer's usual behaviour.
    public static let usualBehaviourDays = 30.0

    public let store: any Store
    /// Called with each resolution's label once it is committed (the serving scorers observe it).
    private let resolved: @Sendable (Label) -> Void

    public init(store: any Store, resolved: @escaping @Sendable (Label) -> Void = { _ in }) {
        self.store = store
        self.resolved = resolved
    }

    /// The cases `filter` selects, oldest opened first.
    public func cases(_ filter: CaseFilter) async throws(EngineError) -> [ReviewCase] {
        try await storeCall { () async throws(StoreError) in try await store.cases(filter) }
    }

    /// Everything an analyst needs to decide a case: the case, the event as received, the rules
    /// that changed the decision, the telco signals and where each came from, the event's label
    /// versions so far, and the customer's usual behaviour over the 30 days before the event.
    ///
    /// - Throws: ``EngineError/store(_:)`` with ``RiskStore/StoreError/notFound(what:)`` for an unknown case.
    public func caseFile(_ id: Int64) async throws(EngineError) -> CaseFile {
        guard let (reviewCase, payload) = try await storeCall({ () async throws(StoreError) in try await store.reviewCase(id: id) })
        else { throw .store(.notFound(what: "case \(id)")) }
        let event: ParsedEvent
        do {
            event = try ParsedEvent(jsonLine: Array(payload.utf8))
        } catch {
            throw .badInput(
                file: "store: events", line: nil, column: reviewCase.eventId, reason: "the stored event does not read: \(error)")
        }
        guard let policy = try await store.recordedPolicy(reviewCase.policyVersion) else {
            // Every decision's policy is recorded before it is logged: the store is inconsistent,
            // not the case unknown.
            throw .badInput(
                file: "store: policies", line: nil, column: reviewCase.policyVersion,
                reason: "decision \(reviewCase.decisionId) names a policy the store does not hold")
        }
        // A rule reads the event and the score only, so the recorded policy gives the rules that
        // applied exactly.
        let rules = policy.decide(probability: reviewCase.score, event: event).rules
        let since = reviewCase.occurredAt.adding(days: -Self.usualBehaviourDays)
        let history = try await storeCall { () async throws(StoreError) in
            try await store.events(customerId: reviewCase.customerId, from: since, to: reviewCase.occurredAt)
        }
        let labels = try await storeCall { () async throws(StoreError) in try await store.labelVersions(eventId: reviewCase.eventId) }
        return CaseFile(
            reviewCase: reviewCase, event: event.json ?? .null, rules: rules, signals: CaseFile.Signal.all(in: event.json),
            labels: labels,
            usual: UsualBehaviour(days: Self.usualBehaviourDays, history: history.compactMap(\.event.event), event: event.event!))
    }

    /// Resolves an open case: a label version (source `analyst`, reported `at`, `actor` recorded
    /// on the case and in the audit log) the feedback loop learns from, then told to the scorers.
    ///
    /// - Throws: ``EngineError/invalidOptions(option:reason:)`` for an empty note;
    ///   ``EngineError/store(_:)``: not found for an unknown case, a conflict for one already resolved.
    @discardableResult
    public func resolve(_ id: Int64, outcome: Outcome, note: String, actor: String, at: Timestamp) async throws(EngineError) -> ReviewCase {
        guard !note.isEmpty else { throw .invalidOptions(option: "note", reason: "a resolution needs a note: what the analyst found") }
        let (reviewCase, label) = try await storeCall { () async throws(StoreError) in
            try await store.resolveCase(id: id, outcome: outcome, note: note, actor: actor, at: at)
        }
        resolved(label)
        return reviewCase
    }

    /// Records how a step-up ended; a failed or abandoned one opens a case when `opensCase`.
    public func stepUpEnded(eventId: String, outcome: StepUpOutcome, opensCase: Bool, at: Timestamp) async throws(EngineError)
        -> ReviewCase?
    {
        try await storeCall { () async throws(StoreError) in
            try await store.recordStepUpOutcome(eventId: eventId, outcome: outcome, opensCase: opensCase, at: at)
        }
    }

    /// The queue in counts.
    public func statistics() async throws(EngineError) -> CaseStatistics {
        try await storeCall { () async throws(StoreError) in try await store.caseStatistics() }
    }
}

/// A case as an analyst reads it (`GET /v1/cases/{id}`, `riskloop cases show`).
public struct CaseFile: Sendable, Encodable {
    public var reviewCase: ReviewCase
    /// The event's JSON as stored.
    public var event: JSONValue
    /// The policy's rules that changed the decision (by name).
    public var rules: [String]
    public var signals: [Signal]
    /// The event's label versions so far, in report order.
    public var labels: [Label]
    public var usual: UsualBehaviour

    /// A telco signal of the event, and where it came from.
    public struct Signal: Sendable, Encodable, Equatable {
        public var name: String
        /// `null` when unknown.
        @NullEncoded public var value: JSONValue?
        /// `event` (sent with the event), or `unknown`.
        public var source: String
        /// Why it is unknown, when it is.
        public var reason: String?

        /// Every signal of the contract (`telco.*`), known or not, in the contract's order.
        static func all(in json: JSONValue?) -> [Signal] {
            var telco: JSONObject?
            if case .object(let object)? = json, case .object(let signals)? = object["telco"] { telco = signals }
            return TelcoSignals.fieldNames.map { name in
                if let value = telco?[name], value != .null {
                    return Signal(name: name, value: value, source: "event", reason: nil)
                }
                return Signal(name: name, value: nil, source: "unknown", reason: "not in the event")
            }
        }

    }

    enum CodingKeys: String, CodingKey {
        case event, rules, signals, labels, usual
        case reviewCase = "case"
    }
}

/// A customer's usual behaviour before an event, beside the event itself: what an analyst
/// compares it with.
public struct UsualBehaviour: Sendable, Encodable, Equatable {
    /// The days before the event looked at.
    public var days: Double
    /// The customer's events in those days.
    public var events: Int
    public var amount: Amounts
    public var channels: [Count]
    public var devices: [Count]
    public var payees: [Count]
    /// Whether the event's channel, device and payee appear in those days (`null`: the event has none).
    public var seenBefore: SeenBefore

    /// The amounts of the events that have one.
    public struct Amounts: Sendable, Encodable, Equatable {
        public var count: Int
        /// The median and the 90th percentile (linear interpolation between the sorted amounts,
        /// numpy's default), `null` without amounts.
        @NullEncoded public var median: Double?
        @NullEncoded public var p90: Double?
        @NullEncoded public var max: Double?
        /// This event's amount, and the share of the customer's amounts below it.
        @NullEncoded public var this: Double?
        @NullEncoded public var shareBelow: Double?

        enum CodingKeys: String, CodingKey {
            case count, median, p90, max, this
            case shareBelow = "share_below"
        }
    }

    /// How often a value was seen, most often first (then by value).
    public struct Count: Sendable, Encodable, Equatable {
        public var value: String
        public var count: Int
    }

    public struct SeenBefore: Sendable, Encodable, Equatable {
        @NullEncoded public var channel: Bool?
        @NullEncoded public var device: Bool?
        @NullEncoded public var payee: Bool?

    }

    enum CodingKeys: String, CodingKey {
        case days, events, amount, channels, devices, payees
        case seenBefore = "seen_before"
    }

    /// The behaviour of `history` (the customer's earlier events) beside `event`.
    public init(days: Double, history: [Event], event: Event) {
        self.days = days
        events = history.count
        let amounts = history.compactMap(\.amount).sorted()
        amount = Amounts(
            count: amounts.count, median: Self.quantile(amounts, 0.5), p90: Self.quantile(amounts, 0.9), max: amounts.last,
            this: event.amount,
            shareBelow: event.amount.flatMap { value in
                amounts.isEmpty ? nil : Double(amounts.count { $0 < value }) / Double(amounts.count)
            })
        func counts(_ values: [String]) -> [Count] {
            Dictionary(values.map { ($0, 1) }, uniquingKeysWith: +).map { Count(value: $0.key, count: $0.value) }
                .sorted { ($0.count, $1.value) > ($1.count, $0.value) }
        }
        let channelValues = history.compactMap(\.channel?.rawValue)
        let deviceValues = history.compactMap(\.device?.id)
        let payeeValues = history.compactMap(\.payee?.id)
        channels = counts(channelValues)
        devices = counts(deviceValues)
        payees = counts(payeeValues)
        seenBefore = SeenBefore(
            channel: event.channel.map { channelValues.contains($0.rawValue) }, device: event.device?.id.map(deviceValues.contains),
            payee: event.payee?.id.map(payeeValues.contains))
    }

    /// The `q` quantile of sorted `values` by linear interpolation (numpy's default method).
    static func quantile(_ values: [Double], _ q: Double) -> Double? {
        guard !values.isEmpty else { return nil }
        let position = q * Double(values.count - 1)
        let lower = Int(position.rounded(.down))
        let fraction = position - Double(lower)
        // Exactly on a value: that value (an infinite neighbour must not make it NaN).
        if fraction == 0 { return values[lower] }
        return values[lower] + (values[lower + 1] - values[lower]) * fraction
    }
}

extension Store {
    /// The decision policy recorded under `version`, read and validated; `nil` when none is.
    public func recordedPolicy(_ version: String) async throws(EngineError) -> DecisionPolicy? {
        guard let json = try await storeCall({ () async throws(StoreError) in try await policyJSON(version: version) }) else {
            return nil
        }
        do {
            return try DecisionPolicy.decode(from: Data(json.utf8))
        } catch {
            throw .badInput(file: "store: policies", line: nil, column: version, reason: "the recorded policy does not read: \(error)")
        }
    }
}
