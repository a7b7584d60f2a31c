import RiskContract
import Synchronization

/// Where a decision's telco signal came from, or why it is unknown: what the decision log records
/// per signal (`decisions.signals`).
public enum SignalOrigin: Sendable, Hashable {
    /// In the event as the bank sent it.
    case event
    /// A recent answer for the same number, reused within its API's time to live.
    case cache
    /// Fetched for this event from the named operator.
    case fetched(operator: String)
    /// Pushed by the operator (a CAMARA subscription's notification).
    case notification
    /// Not known; the reason (`timeout`, `404 IDENTIFIER_NOT_FOUND`, `circuit_open`, …).
    case unknown(reason: String)
    /// Not known, and not asked again: the operator answered the same line with a 404 or 422
    /// within the API's time to live (an answer about the number, as a value is).
    case cachedUnknown(reason: String)

    /// The origin as the decision log's JSON holds it.
    public var json: JSONValue {
        switch self {
        case .event: .object(JSONObject([.init(key: "source", value: .string("event"))]))
        case .cache: .object(JSONObject([.init(key: "source", value: .string("cache"))]))
        case .notification: .object(JSONObject([.init(key: "source", value: .string("notification"))]))
        case .fetched(let name):
            .object(JSONObject([.init(key: "source", value: .string("operator")), .init(key: "operator", value: .string(name))]))
        case .unknown(let reason):
            .object(JSONObject([.init(key: "source", value: .string("unknown")), .init(key: "reason", value: .string(reason))]))
        case .cachedUnknown(let reason):
            .object(
                JSONObject([
                    .init(key: "source", value: .string("unknown")), .init(key: "reason", value: .string(reason)),
                    .init(key: "cached", value: .bool(true)),
                ]))
        }
    }

    /// Whether a call could still learn the signal: unknown, and not a cached 404 or 422.
    public var isFetchable: Bool {
        if case .unknown = self { return true }
        return false
    }
}

/// Recent answers per number and API, each until its API's time to live ends (by the time the
/// caller gives: the wall clock in a server, event time in a replay). A notification's value is
/// kept like an answer and says so.
final class SignalCache: Sendable {
    struct Entry: Sendable, Equatable {
        /// The value; `nil` for an answer that the line has no such signal (``failure``).
        var value: SignalValue?
        /// `value` as JSON text (``SignalValue/jsonText``), written once when it arrived: a cached
        /// answer completes the stored event with no encoding.
        var text: String
        /// A 404 or 422 answer, kept like a value: asking again within the time to live would pay
        /// for the same answer.
        var failure: SignalFailure?
        var expires: Timestamp
        var pushed: Bool
    }

    private let entries = Mutex<(byNumber: [String: SignalTable<Entry>], writes: Int)>(([:], 0))
    /// Lines covered by a subscription, per API, until when: an answer for them lives that long,
    /// since the operator will push any change.
    private let coverage = Mutex<[String: [OperatorAPI: Timestamp]]>([:])

    func cover(_ number: String, _ api: OperatorAPI, until: Timestamp?) {
        coverage.withLock { $0[number, default: [:]][api] = until }
        guard let until else { return }
        // An answer already held now lives as long as the subscription.
        entries.withLock { state in
            if var entry = state.byNumber[number]?[api], entry.expires < until {
                entry.expires = until
                state.byNumber[number]?[api] = entry
            }
        }
    }

    /// When the subscription covering `number`'s `api` ends, if one covers it at `now`.
    func coveredUntil(_ number: String, _ api: OperatorAPI, at now: Timestamp) -> Timestamp? {
        coverage.withLock { $0[number]?[api] }.flatMap { $0 > now ? $0 : nil }
    }
    /// Expired entries are swept every this many writes, so the cache holds roughly the numbers
    /// seen within the longest time to live.
    static let sweepEvery = 10_000

    /// Reads the number's answers, by API, expired or not (the reader compares
    /// ``Entry/expires`` with its time), under one lock for all of them and without copying them.
    func reading<T>(_ number: String, _ read: (borrowing SignalTable<Entry>?) -> T) -> T {
        entries.withLock { state in read(state.byNumber[number]) }
    }

    /// - Parameter text: `value.jsonText` when the caller has it already.
    func store(
        _ value: SignalValue, text: String? = nil, _ api: OperatorAPI, of number: String, until expires: Timestamp, pushed: Bool = false,
        now: Timestamp
    ) {
        store(Entry(value: value, text: text ?? value.jsonText, expires: expires, pushed: pushed), api, of: number, now: now)
    }

    /// Keeps a 404 or 422 answer about `number` until `expires`.
    func store(_ failure: SignalFailure, _ api: OperatorAPI, of number: String, until expires: Timestamp, now: Timestamp) {
        store(Entry(value: nil, text: "", failure: failure, expires: expires, pushed: false), api, of: number, now: now)
    }

    private func store(_ entry: Entry, _ api: OperatorAPI, of number: String, now: Timestamp) {
        entries.withLock { state in
            state.byNumber[number, default: SignalTable()][api] = entry
            state.writes += 1
            guard state.writes % Self.sweepEvery == 0 else { return }
            for (number, apis) in state.byNumber {
                var live = apis
                for (api, entry) in apis where entry.expires <= now { live[api] = nil }
                state.byNumber[number] = live.isEmpty ? nil : live
            }
        }
    }

    var count: Int { entries.withLock { $0.byNumber.values.reduce(0) { $0 + $1.count } } }
}

/// An operator's circuit: after `failures` consecutive failures it opens and the operator is not
/// called for `openFor`; then one trial call is let through, whose success closes it again.
final class CircuitBreaker: Sendable {
    enum State: Equatable {
        case closed(failures: Int)
        case open(until: ContinuousClock.Instant)
        case trial
    }

    let failures: Int
    let openFor: Duration
    private let state = Mutex(State.closed(failures: 0))

    init(failures: Int, openFor: Duration) {
        self.failures = failures
        self.openFor = openFor
    }

    /// Whether a call may go out now (taking the one trial call when the open time is over).
    func admits(now: ContinuousClock.Instant = .now) -> Bool {
        state.withLock { state in
            switch state {
            case .closed: return true
            case .trial: return false
            case .open(let until):
                guard now >= until else { return false }
                state = .trial
                return true
            }
        }
    }

    func record(success: Bool, now: ContinuousClock.Instant = .now) {
        state.withLock { state in
            if success {
                state = .closed(failures: 0)
                return
            }
            switch state {
            case .closed(let count) where count + 1 < failures: state = .closed(failures: count + 1)
            default: state = .open(until: now + openFor)
            }
        }
    }

    var isOpen: Bool {
        state.withLock { if case .closed = $0 { false } else { true } }
    }
}

/// At most `perSecond` calls a second: a token bucket holding one second's worth, and at least
/// one call (a rate under one a second allows a call every `1 / perSecond` seconds).
final class RateLimiter: Sendable {
    let perSecond: Double
    let capacity: Double
    private let bucket: Mutex<(tokens: Double, at: ContinuousClock.Instant)>

    init(perSecond: Double) {
        self.perSecond = perSecond
        capacity = max(1, perSecond)
        bucket = Mutex((capacity, .now))
    }

    func take(now: ContinuousClock.Instant = .now) -> Bool {
        bucket.withLock { bucket in
            let elapsed = now - bucket.at
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
            bucket = (min(capacity, bucket.tokens + seconds * perSecond), now)
            guard bucket.tokens >= 1 else { return false }
            bucket.tokens -= 1
            return true
        }
    }
}

/// One optional value per operator-served signal, held inline: an enrichment's values, texts
/// and origins, filled on every enriched request without an allocation (a dictionary of six
/// costs one, and a hash per access). Reads like a dictionary keyed by ``OperatorAPI``; iterates
/// in ``OperatorAPI/allCases`` order.
public struct SignalTable<Value: Sendable & Equatable>: Sendable, Equatable, Sequence, ExpressibleByDictionaryLiteral {
    private var simSwap: Value?
    private var deviceSwap: Value?
    private var callForwarding: Value?
    private var roaming: Value?
    private var reachability: Value?
    private var numberRecycling: Value?

    public init() {}

    public init(dictionaryLiteral elements: (OperatorAPI, Value)...) {
        for (api, value) in elements { self[api] = value }
    }

    public subscript(api: OperatorAPI) -> Value? {
        @inline(__always) get {
            switch api {
            case .simSwap: simSwap
            case .deviceSwap: deviceSwap
            case .callForwarding: callForwarding
            case .roaming: roaming
            case .reachability: reachability
            case .numberRecycling: numberRecycling
            }
        }
        @inline(__always) set {
            switch api {
            case .simSwap: simSwap = newValue
            case .deviceSwap: deviceSwap = newValue
            case .callForwarding: callForwarding = newValue
            case .roaming: roaming = newValue
            case .reachability: reachability = newValue
            case .numberRecycling: numberRecycling = newValue
            }
        }
    }

    public var count: Int { OperatorAPI.allCases.reduce(0) { $0 + (self[$1] == nil ? 0 : 1) } }
    public var isEmpty: Bool {
        simSwap == nil && deviceSwap == nil && callForwarding == nil && roaming == nil && reachability == nil && numberRecycling == nil
    }

    public struct Iterator: IteratorProtocol {
        let table: SignalTable
        var position = 0

        public mutating func next() -> (key: OperatorAPI, value: Value)? {
            while position < OperatorAPI.ordered.count {
                let api = OperatorAPI.ordered[position]
                position += 1
                if let value = table[api] { return (api, value) }
            }
            return nil
        }
    }

    public func makeIterator() -> Iterator { Iterator(table: self) }

    public static func == (lhs: SignalTable, rhs: SignalTable) -> Bool {
        OperatorAPI.allCases.allSatisfy { lhs[$0] == rhs[$0] }
    }
}
