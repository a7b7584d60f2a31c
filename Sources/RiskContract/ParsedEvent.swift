/// A record parsed once for feature extraction.
///
/// For an event (ARCHITECTURE.md §5.1) it holds the typed contract fields for fast access and the
/// JSON tree for fields outside the contract. Any other record (a CSV row, a card transaction)
/// is read from its JSON tree alone: its time is its `occurred_at` member when that is RFC 3339,
/// its id its `id` member.
public struct ParsedEvent: Sendable {
    /// Held by reference: an event is read by every feature and aggregate and handed from
    /// batch to batch, and a copy is then one reference count, not one per field.
    fileprivate final class Storage: Sendable {
        let event: Event?
        /// Whether `event` is set, asked without touching it: readers project single fields out
        /// of `event` in place (binding the whole event would copy it, a retain per string).
        let hasEvent: Bool
        let json: JSONValue?
        let time: Timestamp?
        let id: String?

        init(event: Event?, json: JSONValue?, time: Timestamp?, id: String?) {
            self.event = event
            hasEvent = event != nil
            self.json = json
            self.time = time
            self.id = id
        }
    }

    fileprivate let storage: Storage

    public var event: Event? { storage.event }
    /// The whole object; `nil` for events built in code, whose extra fields then read as missing.
    public var json: JSONValue? { storage.json }
    /// When it happened: clock features, time-since features and aggregates need it.
    public var time: Timestamp? { storage.time }
    public var id: String? { storage.id }

    public init(event: Event, json: JSONValue? = nil) {
        storage = Storage(event: event, json: json, time: event.occurredAt, id: event.id)
    }

    /// Parses and validates one event JSON line.
    ///
    /// - Parameter keepingJSON: keep the JSON tree for fields outside the contract; without it
    ///   (``FeatureExtractor/needsJSON`` false, and the decision policy's `needsJSON` false when
    ///   one decides on the event) the event is read straight from the bytes, with no tree at
    ///   all, and a field outside the contract reads as absent.
    public init(jsonLine bytes: some Collection<UInt8>, keepingJSON: Bool = true) throws(ContractError) {
        guard keepingJSON else {
            self.init(event: try Event.decode(jsonLine: bytes))
            return
        }
        let json = try JSONValue.parse(bytes)
        self.init(event: try Event(json: json), json: json)
    }

    /// A record that is not (necessarily) an event.
    public init(record json: JSONValue) {
        var time: Timestamp?
        if case .string(let text)? = json[path: "occurred_at"] { time = Timestamp(rfc3339: text) }
        let id: String? =
            switch json[path: "id"] {
            case .string(let text)?: text
            case .number(let number)?: JSONValue.wordText(number)
            default: nil
            }
        storage = Storage(event: nil, json: json, time: time, id: id)
    }
}

/// A value read from an event at a dotted path.
package enum FieldValue {
    /// The field is absent: unknown.
    case missing
    /// The field is present and `null`: for a swap signal, "no swap in the monitored period".
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case strings([String])
    case time(Timestamp)
}

/// A dotted path compiled once: contract fields are read from the typed event, anything else
/// from the JSON tree.
package struct FieldReader: Sendable {
    package enum Known: String, Sendable, CaseIterable {
        case id, kind, amount, currency, channel
        case occurredAt = "occurred_at"
        case customerId = "customer_id"
        case payeeId = "payee.id"
        case payeeNew = "payee.new"
        case deviceId = "device.id"
        case deviceNew = "device.new_for_customer"
        case deviceOS = "device.os"
        case deviceRooted = "device.rooted"
        case ipCountry = "ip.country"
        case ipHosting = "ip.hosting"
        case otpChannel = "otp.channel"
        case simSwap = "telco.sim_swap.latest_change"
        case simSwapPeriod = "telco.sim_swap.monitored_period_days"
        case deviceSwap = "telco.device_swap.latest_change"
        case deviceSwapPeriod = "telco.device_swap.monitored_period_days"
        case callForwarding = "telco.call_forwarding"
        case roaming = "telco.roaming.roaming"
        case roamingCountries = "telco.roaming.country_codes"
        case roamingStatusTime = "telco.roaming.last_status_time"
        case reachable = "telco.reachability.reachable"
        case connectivity = "telco.reachability.connectivity"
        case locationVerification = "telco.location_verification"
        case foreignLocationUpdates = "telco.ss7.foreign_location_updates_24h"
        case sriForSmRequests = "telco.ss7.sri_for_sm_requests_24h"
    }

    /// A contract field read from the typed event, or a path into the JSON tree.
    package enum Path: Sendable {
        case known(Known)
        case json([String])
    }

    package let path: Path

    /// The path is outside the event contract, so reading it needs the JSON tree.
    package var needsJSON: Bool {
        if case .json = path { return true }
        return false
    }

    /// The event kind, read by aggregates that count only some kinds.
    package static let kind = FieldReader("kind")

    package init(_ dotted: String) {
        let keys = dotted.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        path = Known(rawValue: dotted).map(Path.known) ?? .json(keys)
    }

    @inline(__always)
    package func read(_ parsed: ParsedEvent) -> FieldValue {
        let keys: [String]
        switch path {
        case .known(let known):
            if parsed.storage.hasEvent { return Self.read(known, parsed.storage) }
            keys = known.rawValue.split(separator: ".").map(String.init)
        case .json(let path):
            keys = path
        }
        guard var current = parsed.json else { return .missing }
        for key in keys {
            guard case .object(let object) = current, let next = object[key] else { return .missing }
            current = next
        }
        switch current {
        case .null: return .null
        case .bool(let flag): return .bool(flag)
        case .number(let number): return .number(number)
        case .string(let text): return Timestamp(rfc3339: text).map(FieldValue.time) ?? .string(text)
        case .array(let elements):
            return .strings(elements.compactMap { if case .string(let text) = $0 { text } else { nil } })
        case .object: return .missing
        }
    }

    /// Whether the list (or string) at this path holds `value`; `nil` when unknown. Typed lists
    /// are searched in place, without building an array of strings.
    @inline(__always)
    package func contains(_ parsed: ParsedEvent, _ value: String) -> Bool? {
        if let found = typedListContains(parsed, value) { return found }
        switch read(parsed) {
        case .strings(let list): return list.contains(value)
        case .string(let text): return text == value
        default: return nil
        }
    }

    /// Whether the list at this path holds `value`; `nil` when the path holds no list.
    package func listContains(_ parsed: ParsedEvent, _ value: String) -> Bool? {
        if let found = typedListContains(parsed, value) { return found }
        if case .strings(let list) = read(parsed) { return list.contains(value) }
        return nil
    }

    /// A contract list of the typed event searched in place; `nil` for any other path or when
    /// the list is absent.
    @inline(__always)
    private func typedListContains(_ parsed: ParsedEvent, _ value: String) -> Bool? {
        guard case .known(let known) = path, parsed.storage.hasEvent else { return nil }
        let storage = parsed.storage
        switch known {
        case .callForwarding: return storage.event?.telco?.callForwarding.map { $0.contains { $0.rawValue == value } }
        case .connectivity: return storage.event?.telco?.reachability?.connectivity.map { $0.contains { $0.rawValue == value } }
        case .roamingCountries: return storage.event?.telco?.roaming?.countryCodes.map { $0.contains(value) }
        default: return nil
        }
    }

    /// A contract field of the typed event (which `storage` holds). Each case projects its
    /// field out of the stored event in place, without a copy of the event.
    private static func read(_ known: Known, _ storage: ParsedEvent.Storage) -> FieldValue {
        func optional<T>(_ value: T?, _ wrap: (T) -> FieldValue) -> FieldValue { value.map(wrap) ?? .missing }
        switch known {
        case .id: return optional(storage.event?.id, FieldValue.string)
        case .kind: return optional(storage.event?.kind.rawValue, FieldValue.string)
        case .occurredAt: return optional(storage.event?.occurredAt, FieldValue.time)
        case .customerId: return optional(storage.event?.customerId, FieldValue.string)
        case .amount: return optional(storage.event?.amount, FieldValue.number)
        case .currency: return optional(storage.event?.currency, FieldValue.string)
        case .channel: return optional(storage.event?.channel?.rawValue, FieldValue.string)
        case .payeeId: return optional(storage.event?.payee?.id, FieldValue.string)
        case .payeeNew: return optional(storage.event?.payee?.new, FieldValue.bool)
        case .deviceId: return optional(storage.event?.device?.id, FieldValue.string)
        case .deviceNew: return optional(storage.event?.device?.newForCustomer, FieldValue.bool)
        case .deviceOS: return optional(storage.event?.device?.os, FieldValue.string)
        case .deviceRooted: return optional(storage.event?.device?.rooted, FieldValue.bool)
        case .ipCountry: return optional(storage.event?.ip?.country, FieldValue.string)
        case .ipHosting: return optional(storage.event?.ip?.hosting, FieldValue.bool)
        case .otpChannel: return optional(storage.event?.otp?.channel?.rawValue, FieldValue.string)
        case .simSwap: return swap(storage.event?.telco?.simSwap)
        case .simSwapPeriod: return optional(storage.event?.telco?.simSwap?.monitoredPeriodDays) { .number(Double($0)) }
        case .deviceSwap: return swap(storage.event?.telco?.deviceSwap)
        case .deviceSwapPeriod: return optional(storage.event?.telco?.deviceSwap?.monitoredPeriodDays) { .number(Double($0)) }
        case .callForwarding: return optional(storage.event?.telco?.callForwarding) { .strings($0.map(\.rawValue)) }
        case .roaming: return optional(storage.event?.telco?.roaming?.roaming, FieldValue.bool)
        case .roamingCountries: return optional(storage.event?.telco?.roaming?.countryCodes, FieldValue.strings)
        case .roamingStatusTime: return optional(storage.event?.telco?.roaming?.lastStatusTime, FieldValue.time)
        case .reachable: return optional(storage.event?.telco?.reachability?.reachable, FieldValue.bool)
        case .connectivity: return optional(storage.event?.telco?.reachability?.connectivity) { .strings($0.map(\.rawValue)) }
        case .locationVerification: return optional(storage.event?.telco?.locationVerification?.rawValue, FieldValue.string)
        case .foreignLocationUpdates: return optional(storage.event?.telco?.ss7?.foreignLocationUpdates24h) { .number(Double($0)) }
        case .sriForSmRequests: return optional(storage.event?.telco?.ss7?.sriForSmRequests24h) { .number(Double($0)) }
        }
    }

    private static func swap(_ signal: SwapSignal?) -> FieldValue {
        guard let signal else { return .missing }
        return signal.latestChange.map(FieldValue.time) ?? .null
    }
}
