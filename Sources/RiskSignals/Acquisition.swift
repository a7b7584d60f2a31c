import RiskContract
import RiskFeatures
import RiskScoring
import Synchronization

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

    /// Its place in ``allCases``.
    var ordinal: Int {
        switch self {
        case .always: 0
        case .costAware: 1
        case .never: 2
        }
    }
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
        await enrich(event, from: free(event, at: now, strategy: strategy), at: now, scorer: scorer)
    }

    /// What is known of `event` for free (``known(_:at:)``), under `strategy`; `paid` says whether
    /// the strategy may still call (some signal is unknown and could be fetched). An event with
    /// nothing to pay for is done here, with no suspension.
    public func free(_ event: ParsedEvent, at now: Timestamp, strategy: AcquisitionStrategy) -> (enrichment: Enrichment, paid: Bool) {
        guard let typed = event.event else { return (Enrichment(), false) }
        var enrichment = known(typed, at: now)
        enrichment.acquisition = strategy
        let unknown = OperatorAPI.ordered.contains { enrichment.origins[$0]?.isFetchable == true }
        return (enrichment, strategy != .never && unknown && typed.customer?.phoneNumber != nil)
    }

    /// The calls `free`'s strategy pays for, after ``free(_:at:strategy:)``.
    public func enrich(
        _ event: ParsedEvent, from free: (enrichment: Enrichment, paid: Bool), at now: Timestamp, scorer: Scorer
    ) async -> Enrichment {
        var enrichment = free.enrichment
        guard free.paid, let typed = event.event, let strategy = enrichment.acquisition else { return enrichment }
        let fetchable = fetchable(typed, enrichment)
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
    /// `event` as it is scored and stored, and ``originsText`` for the decision log and the answer.
    ///
    /// The stored JSON is `payload`, the JSON as sent, when nothing was acquired. An event sent
    /// with no `telco` object (the usual case: the bank names the line and leaves the signals to
    /// the operators) keeps its JSON as sent, with a `telco` member of the acquired values added
    /// at its end, each value's text written once when its answer arrived (``texts``); so an event
    /// whose answers are all cached is completed with no encoding. Any other event (one carrying
    /// some signals itself, or JSON with escapes) is written again whole, keys sorted, as
    /// ``RiskContract/JSONLine`` writes it.
    public func completed(_ event: ParsedEvent, payload: String) -> (event: ParsedEvent, payload: String, signals: String) {
        let signals = originsText
        guard !values.isEmpty, var typed = event.event else { return (event, payload, signals) }
        let carriedNone = typed.telco == nil
        complete(&typed)
        let completed = ParsedEvent(event: typed, json: event.json.map(applied(to:)))
        if carriedNone, let spliced = spliced(payload) { return (completed, spliced, signals) }
        let tree: JSONValue
        if let json = event.json {
            tree = json
        } else {
            // The typed event as JSON: what the contract reads back identically.
            guard let sent = event.event, let encoded = try? JSONValue.parse(Array(JSONLine.encode(sent))) else {
                return (completed, payload, signals)
            }
            tree = encoded
        }
        return (completed, JSONLine.text(applied(to: tree)), signals)
    }

    /// `event` with the acquired values in its `telco` object, in the typed event and in its JSON
    /// tree when it has one; members the event carried stay as they were. Itself when nothing was
    /// acquired.
    public func parsed(_ event: ParsedEvent) -> ParsedEvent {
        guard !values.isEmpty, var typed = event.event else { return event }
        complete(&typed)
        return ParsedEvent(event: typed, json: event.json.map(applied(to:)))
    }

    /// Sets each acquired value in `event`'s `telco` object (created when absent), leaving the
    /// members it carried.
    func complete(_ event: inout Event) {
        let sent = event.telco
        var telco = sent ?? TelcoSignals()
        for api in OperatorAPI.ordered {
            guard let value = values[api], !(sent.map(api.isCarried(by:)) ?? false) else { continue }
            value.apply(api, to: &telco)
        }
        event.telco = telco
    }

    /// `json` with the acquired values added to its `telco` object (``applied(to:)``); itself
    /// when it is not an object.
    func applied(to json: JSONValue) -> JSONValue {
        guard case .object(let object) = json else { return json }
        return .object(applied(to: object))
    }

    /// ``originsJSON`` as text, keys sorted as ``RiskContract/JSONLine`` writes them. When every
    /// signal is in the event, the cache or a notification (a cached request) the whole text was
    /// written once, for each such pattern (``Written/constantOrigins``); otherwise it is put
    /// together from members JSONLine wrote once (an origin naming an operator or a reason is
    /// written when it occurs).
    public var originsText: String {
        if let pattern = constantPattern { return Written.constantOrigins[pattern] }
        return writtenOriginsText
    }

    /// The index of this enrichment's origins in ``Written/constantOrigins``: `nil` unless every
    /// signal's origin is `event`, `cache` or `notification`.
    var constantPattern: Int? {
        var pattern = 0
        for api in Written.sortedAPIs.reversed() {
            switch origins[api] {
            case .event?: pattern = pattern * 3
            case .cache?: pattern = pattern * 3 + 1
            case .notification?: pattern = pattern * 3 + 2
            default: return nil
            }
        }
        let strategy = acquisition.map { explored ? AcquisitionStrategy.allCases.count + 1 : $0.ordinal + 1 } ?? 0
        return strategy * Written.patterns + pattern
    }

    var writtenOriginsText: String {
        var text = "{"
        if let acquisition {
            text += explored ? Written.explore : Written.acquisition[acquisition.ordinal]
        }
        for (index, api) in Written.sortedAPIs.enumerated() {
            guard let origin = origins[api] else { continue }
            if text.utf8.count > 1 { text += "," }
            switch origin {
            case .event: text += Written.originMembers[index][0]
            case .cache: text += Written.originMembers[index][1]
            case .notification: text += Written.originMembers[index][2]
            case .fetched, .unknown, .cachedUnknown: text += Written.originMember(api, origin)
            }
        }
        text += "}"
        return text
    }

    /// `payload` (a JSON object) with `"telco":{…}` of every acquired value added at its end, in
    /// one buffer; `nil` when the payload names `"telco"` anywhere (even as `null`), holds an
    /// escape (a key could be spelt with one), or does not end its object where expected.
    func spliced(_ payload: String) -> String? {
        var payload = payload
        return payload.withUTF8 { bytes -> String? in
            let quote = UInt8(ascii: "\""), backslash = UInt8(ascii: "\\")
            let name = Written.telcoName
            var index = 0
            while index < bytes.count {
                let byte = bytes[index]
                if byte == backslash { return nil }
                if byte == quote, index + name.count <= bytes.count, bytes[index..<(index + name.count)].elementsEqual(name) { return nil }
                index += 1
            }
            func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 }
            var end = bytes.count
            while end > 0, isSpace(bytes[end - 1]) { end -= 1 }
            guard end > 1, bytes[end - 1] == UInt8(ascii: "}") else { return nil }
            var last = end - 1
            while last > 0, isSpace(bytes[last - 1]) { last -= 1 }
            let empty = last > 0 && bytes[last - 1] == UInt8(ascii: "{")
            var length = end + Written.telcoKey.utf8.count + 3
            for (index, api) in Written.sortedAPIs.enumerated() where values[api] != nil {
                length += Written.keys[index].utf8.count + (texts[api]?.utf8.count ?? values[api]!.jsonText.utf8.count) + 1
            }
            return String(unsafeUninitializedCapacity: length) { buffer in
                var count = 0
                func write(_ byte: UInt8) {
                    buffer[count] = byte
                    count += 1
                }
                func write(_ text: String) {
                    var text = text
                    text.withUTF8 { utf8 in
                        _ = UnsafeMutableBufferPointer(rebasing: buffer[count..<(count + utf8.count)]).initialize(from: utf8)
                        count += utf8.count
                    }
                }
                _ = UnsafeMutableBufferPointer(rebasing: buffer[0..<(end - 1)]).initialize(from: bytes[0..<(end - 1)])
                count = end - 1
                if !empty { write(UInt8(ascii: ",")) }
                write(Written.telcoKey)
                write(UInt8(ascii: "{"))
                var first = true
                for (index, api) in Written.sortedAPIs.enumerated() {
                    guard let value = values[api] else { continue }
                    if !first { write(UInt8(ascii: ",")) }
                    first = false
                    write(Written.keys[index])
                    write(texts[api] ?? value.jsonText)
                }
                write(UInt8(ascii: "}"))
                write(UInt8(ascii: "}"))
                return count
            }
        }
    }

    /// Pieces of JSON written once by ``RiskContract/JSONLine``.
    enum Written {
        /// The signals in the order of their `telco` member names.
        static let sortedAPIs = OperatorAPI.allCases.sorted { $0.telcoField < $1.telcoField }
        /// `"sim_swap":`, … in ``sortedAPIs``'s order.
        static let keys = sortedAPIs.map { JSONLine.text(JSONValue.string($0.telcoField)) + ":" }
        /// `"telco"`, as a key is found in a payload, and `"telco":`.
        static let telcoName = Array(JSONLine.text(JSONValue.string("telco")).utf8)
        static let telcoKey = String(decoding: telcoName, as: UTF8.self) + ":"
        /// Per signal (``sortedAPIs``'s order): its member for the origins `event`, `cache` and
        /// `notification`.
        static let originMembers = sortedAPIs.map { api in
            [SignalOrigin.event, .cache, .notification].map { member(api.telcoField, $0.json) }
        }
        /// The combinations of `event`, `cache` and `notification` over the six signals.
        static let patterns = sortedAPIs.reduce(1) { count, _ in count * 3 }
        /// ``Enrichment/originsText`` of every enrichment with a constant pattern, by
        /// ``Enrichment/constantPattern``: no strategy, each strategy, then the explore share.
        static let constantOrigins: [String] = (0..<((AcquisitionStrategy.allCases.count + 2) * patterns)).map { index in
            var enrichment = Enrichment()
            let strategy = index / patterns
            if strategy > 0 {
                let count = AcquisitionStrategy.allCases.count
                enrichment.acquisition = strategy <= count ? AcquisitionStrategy.allCases[strategy - 1] : .costAware
                enrichment.explored = strategy > count
            }
            var pattern = index % patterns
            for api in sortedAPIs {
                enrichment.origins[api] = [SignalOrigin.event, .cache, .notification][pattern % 3]
                pattern /= 3
            }
            return enrichment.writtenOriginsText
        }
        /// `"acquisition":"…"` for each strategy (by ``AcquisitionStrategy/ordinal``), and for the
        /// explore share.
        static let acquisition = AcquisitionStrategy.allCases.map { member("acquisition", .string($0.rawValue)) }
        static let explore = member("acquisition", .string("explore"))

        /// An origin naming an operator or a reason, as a member: written once per signal,
        /// operator and reason (up to ``rememberedOrigins`` of them; an operator could send any
        /// code), then remembered.
        static func originMember(_ api: OperatorAPI, _ origin: SignalOrigin) -> String {
            let key = OriginKey(api: api, origin: origin)
            if let written = remembered.withLock({ $0[key] }) { return written }
            let written = member(api.telcoField, origin.json)
            remembered.withLock { if $0.count < rememberedOrigins { $0[key] = written } }
            return written
        }
        struct OriginKey: Hashable {
            var api: OperatorAPI
            var origin: SignalOrigin
        }
        static let rememberedOrigins = 4_096
        static let remembered = Mutex<[OriginKey: String]>([:])

        /// `"key":value` as JSONLine writes it inside an object.
        static func member(_ key: String, _ value: JSONValue) -> String {
            let object = JSONLine.text(JSONValue.object(JSONObject([.init(key: key, value: value)])))
            return String(object.dropFirst().dropLast())
        }
    }
}
