import RiskContract
import RiskFeatures
import RiskScoring

/// Which of an event's missing signals are paid for.
public enum AcquisitionStrategy: String, Sendable, Equatable, CaseIterable {
    /// Every missing signal is asked of the operator.
    case always
    /// A paid call only when its answer could change the decision, jointly over the unknown
    /// signals and the policy's rules (``RiskScoring/Scorer/acquisitionNeed(_:unknown:)``); a
    /// share of events (``OperatorConfiguration/exploreShare``) acquires every signal, so that
    /// training data keeps the signals the model learns from.
    case costAware = "cost_aware"
    /// No call: only what the event, the cache and the notifications know.
    case never
}

extension Enricher {
    /// Whether the event is one of the share that acquires every signal under the cost-aware
    /// strategy: by a hash of its id, so a replay picks the same events.
    public static func explores(_ event: Event, share: Double) -> Bool {
        guard share > 0 else { return false }
        return Double(FNV1a.hash(event.id) % 1_000_000) < share * 1_000_000
    }

    /// Enriches `event` under `strategy`: what is known for free first (the event, the cache,
    /// the notifications), then the calls the strategy pays for. Cost-aware asks `scorer`
    /// whether the unknown signals could change the decision of the event as it stands.
    public func enrich(_ event: ParsedEvent, at now: Timestamp, strategy: AcquisitionStrategy, scorer: Scorer) async -> Enrichment {
        guard let typed = event.event else { return Enrichment() }
        var enrichment = known(typed, at: now)
        enrichment.acquisition = strategy
        let fetchable = fetchable(typed, enrichment)
        guard !fetchable.isEmpty else { return enrichment }
        switch strategy {
        case .never:
            return enrichment
        case .always:
            await acquire(fetchable, for: typed, into: &enrichment, at: now)
        case .costAware:
            if Self.explores(typed, share: configuration.exploreShare) {
                enrichment.explored = true
                await acquire(fetchable, for: typed, into: &enrichment, at: now)
                return enrichment
            }
            await acquireInRounds(fetchable, for: event, into: &enrichment, at: now, scorer: scorer)
        }
        return enrichment
    }

    /// The most rounds of cost-aware calls for one event: one signal a round, the last round
    /// asking every signal still needed.
    public static let acquisitionRounds = 3

    /// Cost-aware calls, a round at a time within the event's one deadline: each round asks
    /// whether the signals still unknown could change the decision, jointly
    /// (``RiskScoring/Scorer/acquisitionNeed(_:unknown:)``), stops when they cannot, and otherwise
    /// calls the one that moves the score most per unit of price
    /// (``RiskScoring/Scorer/mostDecisive(_:among:price:)``); the last round calls every signal
    /// still needed. A signal learnt in one round often settles the others (a SIM swap known
    /// to be old takes its crosses with it).
    func acquireInRounds(
        _ fetchable: Set<OperatorAPI>, for event: ParsedEvent, into enrichment: inout Enrichment, at now: Timestamp, scorer: Scorer
    ) async {
        guard let typed = event.event else { return }
        let end = ContinuousClock.now + configuration.deadline
        let route = configuration.route(typed.customer?.phoneNumber ?? "")
        let prices = Dictionary(uniqueKeysWithValues: (route?.apis ?? [:]).map { ($0.key.telcoField, $0.value) })
        var open = fetchable
        for round in 1...Self.acquisitionRounds {
            let partial = enrichment.values.isEmpty ? event : enrichment.parsed(event)
            let need = scorer.acquisitionNeed(partial, unknown: Set(open.map(\.telcoField)))
            let wanted = open.filter { need.members.contains($0.telcoField) }
            guard !wanted.isEmpty, ContinuousClock.now < end else { return }
            var asked = wanted
            if round < Self.acquisitionRounds, wanted.count > 1,
                let pick = scorer.mostDecisive(
                    partial, among: Set(wanted.map(\.telcoField)),
                    price: { prices[$0] ?? 1 }),
                let api = wanted.first(where: { $0.telcoField == pick })
            {
                asked = [api]
            }
            await acquire(asked, for: typed, into: &enrichment, at: now, until: end)
            open.subtract(asked)
            if open.isEmpty { return }
        }
    }
}

extension Enrichment {
    /// `event` as it is scored and stored: completed by ``parsed(_:)``, its JSON (canonical, as
    /// ``RiskContract/JSONLine`` writes it; `payload`, the JSON as sent, when nothing was
    /// acquired), and ``originsJSON`` as text for the decision log and the answer.
    public func completed(_ event: ParsedEvent, payload: String) -> (event: ParsedEvent, payload: String, signals: String) {
        let signals = String(decoding: JSONLine.encode(originsJSON), as: UTF8.self)
        let completed = parsed(event)
        guard !values.isEmpty, let json = completed.json else { return (event, payload, signals) }
        return (completed, String(decoding: JSONLine.encode(json), as: UTF8.self), signals)
    }

    /// `event` with the acquired values in its `telco` object (itself when nothing was acquired,
    /// or when its tree cannot be had).
    public func parsed(_ event: ParsedEvent) -> ParsedEvent {
        guard !values.isEmpty, let typed = event.event else { return event }
        let tree: JSONValue
        if let json = event.json {
            tree = json
        } else {
            // The typed event as JSON: what the contract reads back identically.
            guard let encoded = try? JSONValue.parse(Array(JSONLine.encode(typed))) else { return event }
            tree = encoded
        }
        guard case .object(let object) = tree else { return event }
        let completed = JSONValue.object(applied(to: object))
        guard let enriched = try? Event(json: completed) else { return event }
        return ParsedEvent(event: enriched, json: completed)
    }
}
