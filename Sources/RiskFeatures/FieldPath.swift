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
        reader.needsJSON && !Self.contractObjects.contains(path)
    }

    /// The contract's objects, whose presence ``container(_:)`` reads from the typed event.
    private static let contractObjects: Set<String> = [
        "payee", "device", "ip", "otp", "telco", "telco.sim_swap", "telco.device_swap", "telco.roaming", "telco.reachability", "telco.ss7",
    ]

    /// An object at the path (`telco`, `telco.roaming`): present or not. Features read values only,
    /// but a policy asks whether a whole signal is known.
    private func container(_ parsed: ParsedEvent) -> JSONValue? {
        if let json = parsed.json { return json[path: path] }
        guard let event = parsed.event else { return nil }
        let telco = event.telco
        let present: Bool? =
            switch path {
            case "payee": event.payee != nil
            case "device": event.device != nil
            case "ip": event.ip != nil
            case "otp": event.otp != nil
            case "telco": telco != nil
            case "telco.sim_swap": telco?.simSwap != nil
            case "telco.device_swap": telco?.deviceSwap != nil
            case "telco.roaming": telco?.roaming != nil
            case "telco.reachability": telco?.reachability != nil
            case "telco.ss7": telco?.ss7 != nil
            default: nil
            }
        return present == true ? .object(JSONObject()) : nil
    }
}
