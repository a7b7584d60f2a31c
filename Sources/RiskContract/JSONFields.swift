/// Typed, validated reads of the members of one JSON object, with errors that name the dotted
/// path of the member. The contract types (``Event``, ``Label``) are read through it.
///
/// An optional member that is absent or `null` reads as `nil`: unknown.
struct JSONFields {
    let object: JSONObject
    /// The dotted path of this object; empty at the top level.
    let path: String

    /// Wraps the top-level value, which must be an object.
    init(root value: JSONValue) throws(RiskFeaturesError) {
        guard case .object(let object) = value else { throw .malformedJSON(reason: "expected a JSON object, got \(value.typeName)") }
        self.object = object
        path = ""
    }

    private init(object: JSONObject, path: String) {
        self.object = object
        self.path = path
    }

    func field(_ key: String) -> String { path.isEmpty ? key : path + "." + key }

    /// The member, `nil` when absent or `null`.
    func value(_ key: String) -> JSONValue? {
        guard let value = object[key], value != .null else { return nil }
        return value
    }

    func contains(_ key: String) -> Bool { object[key] != nil }

    func required(_ key: String) throws(RiskFeaturesError) -> JSONValue {
        guard let value = object[key] else { throw .missingField(field: field(key)) }
        guard value != .null else { throw .wrongType(field: field(key), expected: "a value, not null") }
        return value
    }

    func requiredString(_ key: String) throws(RiskFeaturesError) -> String {
        let text = try Self.string(try required(key), field: field(key))
        guard !text.isEmpty else { throw .invalidValue(field: field(key), value: "\"\"", reason: "must not be empty") }
        return text
    }

    func string(_ key: String) throws(RiskFeaturesError) -> String? {
        guard let value = value(key) else { return nil }
        return try Self.string(value, field: field(key))
    }

    func bool(_ key: String) throws(RiskFeaturesError) -> Bool? {
        guard let value = value(key) else { return nil }
        guard case .bool(let flag) = value else { throw .wrongType(field: field(key), expected: "true or false") }
        return flag
    }

    func number(_ key: String) throws(RiskFeaturesError) -> Double? {
        guard let value = value(key) else { return nil }
        guard case .number(let number) = value else { throw .wrongType(field: field(key), expected: "a number") }
        return number
    }

    /// A whole, non-negative number.
    func count(_ key: String) throws(RiskFeaturesError) -> Int? {
        guard let number = try number(key) else { return nil }
        guard number == number.rounded() else { throw .wrongType(field: field(key), expected: "an integer") }
        let limit = Double(ContractLimits.maximumCount)
        let text = abs(number) <= limit ? String(Int(number)) : String(number)
        guard number >= 0 else { throw .invalidValue(field: field(key), value: text, reason: "must not be negative") }
        guard number <= limit else {
            throw .invalidValue(field: field(key), value: text, reason: "must be at most \(ContractLimits.maximumCount)")
        }
        return Int(number)
    }

    func timestamp(_ key: String) throws(RiskFeaturesError) -> Timestamp? {
        guard let value = value(key) else { return nil }
        return try Self.timestamp(value, field: field(key))
    }

    func requiredTimestamp(_ key: String) throws(RiskFeaturesError) -> Timestamp {
        try Self.timestamp(try required(key), field: field(key))
    }

    func vocabulary<Value: ContractEnum>(_ key: String, as type: Value.Type = Value.self) throws(RiskFeaturesError) -> Value? {
        guard let value = value(key) else { return nil }
        return try Value.read(value, field: field(key))
    }

    func requiredVocabulary<Value: ContractEnum>(_ key: String, as type: Value.Type = Value.self) throws(RiskFeaturesError) -> Value {
        try Value.read(try required(key), field: field(key))
    }

    func nested(_ key: String) throws(RiskFeaturesError) -> JSONFields? {
        guard let value = value(key) else { return nil }
        guard case .object(let object) = value else { throw .wrongType(field: field(key), expected: "an object") }
        return JSONFields(object: object, path: field(key))
    }

    /// Each element read by `read`, which gets the element and its path (`telco.call_forwarding[1]`).
    /// The path is built only when `read` asks for it, that is, on the error path.
    func array<Element>(
        _ key: String, _ read: (JSONValue, @autoclosure () -> String) throws(RiskFeaturesError) -> Element
    ) throws(RiskFeaturesError) -> [Element]? {
        guard let value = value(key) else { return nil }
        guard case .array(let elements) = value else { throw .wrongType(field: field(key), expected: "an array") }
        var result: [Element] = []
        result.reserveCapacity(elements.count)
        for (position, element) in elements.enumerated() {
            result.append(try read(element, "\(field(key))[\(position)]"))
        }
        return result
    }

    static func string(_ value: JSONValue, field: @autoclosure () -> String) throws(RiskFeaturesError) -> String {
        guard case .string(let text) = value else { throw .wrongType(field: field(), expected: "a string") }
        try ContractLimits.check(text, field: field())
        return text
    }

    static func timestamp(_ value: JSONValue, field: String) throws(RiskFeaturesError) -> Timestamp {
        let text = try string(value, field: field)
        guard let timestamp = Timestamp(rfc3339: text) else {
            throw .invalidValue(field: field, value: "\"\(text)\"", reason: "not an RFC 3339 date-time")
        }
        return timestamp
    }
}

extension ContractEnum {
    /// Reads the vocabulary word in `value`, naming `field` and the allowed words when it is not one.
    static func read(_ value: JSONValue, field: @autoclosure () -> String) throws(RiskFeaturesError) -> Self {
        let raw = try JSONFields.string(value, field: field())
        guard let word = Self(rawValue: raw) else {
            let allowed = allCases.map(\.rawValue).joined(separator: ", ")
            throw .invalidValue(field: field(), value: "\"\(raw)\"", reason: "must be one of \(allowed)")
        }
        return word
    }
}
