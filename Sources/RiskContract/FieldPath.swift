/// A dotted path into an event or record, compiled once: contract fields are read from the
/// typed event, anything else from the JSON tree.
///
/// ```swift
/// let forwarding = FieldPath("telco.call_forwarding")
/// forwarding.read(parsed)  // .array([.string("unconditional")]) or nil when unknown
/// ```
public struct FieldPath: Sendable {
    public let path: String
    let reader: FieldReader

    public init(_ path: String) {
        self.path = path
        reader = FieldReader(path)
    }

    /// The value at the path as JSON (timestamps as RFC 3339 strings; an object when the path
    /// names one), `nil` when absent; `null` when present and null.
    public func read(_ parsed: ParsedEvent) -> JSONValue? {
        switch reader.read(parsed) {
        case .missing: container(parsed)
        case .null: .null
        case .bool(let flag): .bool(flag)
        case .number(let number): .number(number)
        case .string(let text): .string(text)
        case .strings(let list): .array(list.map(JSONValue.string))
        case .time(let time): .string(time.rfc3339)
        }
    }

    /// Whether the value at the path is `value`, as `read(parsed) == value` says, but without
    /// building a JSON value for a string, number, boolean or null.
    public func equals(_ parsed: ParsedEvent, _ value: JSONValue) -> Bool {
        switch (value, reader.read(parsed)) {
        case (.string(let expected), .string(let text)): text == expected
        case (.number(let expected), .number(let number)): number == expected
        case (.bool(let expected), .bool(let flag)): flag == expected
        case (.null, .null): true
        // A timestamp reads back as its text; a list or an object is compared as JSON.
        case (.string, .time), (.array, _), (.object, _): read(parsed) == value
        // A scalar against another kind, a list, or nothing.
        default: false
        }
    }

    /// The number at the path; `nil` when absent or not a number. Reads no JSON value.
    public func number(_ parsed: ParsedEvent) -> Double? {
        if case .number(let number) = reader.read(parsed) { number } else { nil }
    }

    /// The instant at the path (an RFC 3339 string); `nil` when absent or not a timestamp. Reads
    /// the typed event's timestamp as it is, without writing and parsing it again.
    public func timestamp(_ parsed: ParsedEvent) -> Timestamp? {
        if case .time(let time) = reader.read(parsed) { time } else { nil }
    }

    /// Whether the list at the path holds the string `value`; `nil` when the path holds no list
    /// (absent, or another kind of value). The contract's lists (call forwarding, connectivity,
    /// roaming countries) are searched in place, without building an array.
    public func listContains(_ parsed: ParsedEvent, _ value: String) -> Bool? {
        reader.listContains(parsed, value)
    }

    /// Whether reading the path needs the event's JSON tree: it names neither a contract field
    /// nor one of the contract's objects, so an event parsed without its tree
    /// (`ParsedEvent(jsonLine:keepingJSON: false)`) reads as lacking it.
    public var needsJSON: Bool {
        reader.needsJSON && Self.contractObjects[path] == nil
    }

    /// The contract's objects, and whether a typed event holds each: what ``container(_:)``
    /// reads when the event has no JSON tree.
    private static let contractObjects: [String: @Sendable (Event) -> Bool] = [
        "payee": { $0.payee != nil },
        "device": { $0.device != nil },
        "ip": { $0.ip != nil },
        "otp": { $0.otp != nil },
        "telco": { $0.telco != nil },
        "telco.sim_swap": { $0.telco?.simSwap != nil },
        "telco.device_swap": { $0.telco?.deviceSwap != nil },
        "telco.roaming": { $0.telco?.roaming != nil },
        "telco.reachability": { $0.telco?.reachability != nil },
        "telco.ss7": { $0.telco?.ss7 != nil },
    ]

    /// An object at the path (`telco`, `telco.roaming`): present or not. Features read values only,
    /// but a policy asks whether a whole signal is known.
    private func container(_ parsed: ParsedEvent) -> JSONValue? {
        if let json = parsed.json { return json[path: path] }
        guard let event = parsed.event, let holds = Self.contractObjects[path], holds(event) else { return nil }
        return .object(JSONObject())
    }
}
