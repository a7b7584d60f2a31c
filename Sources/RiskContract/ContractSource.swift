/// A document as the contract decoder reads it: one value at a time, in document order.
///
/// The contract (``Event``, ``Label``) is decoded by one generic reader per type, written once
/// over this protocol, with every validation rule and error message in ``ContractSource``'s
/// extension below. Three sources feed it: the bytes of a JSON line (``ByteSource``, no tree,
/// the fast path), a parsed ``JSONValue`` (``TreeSource``), and the text cells of a CSV record
/// (``TextFieldsSource``). docs/DESIGN.md ("JSON reading") says why there are two JSON sources.
///
/// A source sits on one value. `kind` says what it is without consuming it; exactly one of the
/// reads below then consumes it, and only the one its kind allows.
protocol ContractSource {
    associatedtype Name: ContractMemberName
    associatedtype Text: ContractText

    /// The kind of the value here.
    var kind: JSONKind { mutating get }
    /// Consumes the value, whatever its kind.
    mutating func skip() throws(ContractError)
    /// The value, a boolean.
    mutating func bool() throws(ContractError) -> Bool
    /// The value, a number.
    mutating func number() throws(ContractError) -> Double
    /// The value, a string.
    mutating func text() throws(ContractError) -> Text
    /// The value, an object: calls `member` with the source on each member's value, in order.
    mutating func members(_ member: (inout Self, Name) throws(ContractError) -> Void) throws(ContractError)
    /// The value, an array: calls `element` with the source on each element and its position.
    mutating func elements(_ element: (inout Self, Int) throws(ContractError) -> Void) throws(ContractError)
}

/// The kind of a JSON value.
enum JSONKind {
    case null, bool, number, string, array, object
    /// Bytes that start no JSON value (only ``ByteSource`` sees them): every read of it fails.
    case invalid

    /// For error messages, as ``JSONValue/typeName`` says it.
    var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        case .invalid: "no value"
        }
    }
}

/// A member name that `switch` can match against the contract's names.
protocol ContractMemberName {
    static func ~= (name: StaticString, member: Self) -> Bool
}

extension String: ContractMemberName {
    @inline(__always)
    static func ~= (name: StaticString, member: String) -> Bool {
        guard name.utf8CodeUnitCount == member.utf8.count else { return false }
        var member = member
        return member.withUTF8 { name ~= MemberName(bytes: $0) }
    }
}

/// The text of a string value: held as the source has it until the reader needs a `String`.
protocol ContractText {
    var string: String { get }
    var utf8Count: Int { get }
    /// The text read as an RFC 3339 date-time.
    var timestamp: Timestamp? { get }
}

extension String: ContractText {
    var string: String { self }
    var utf8Count: Int { utf8.count }
    var timestamp: Timestamp? { Timestamp(rfc3339: self) }
}

/// The rules of the contract's value types, each written once: what a string, a count, a
/// timestamp, a vocabulary word or a code must be, and what the error says when it is not.
///
/// Fields are named by their dotted path (`telco.sim_swap.latest_change`), built only when an
/// error needs it. An optional field that is `null` reads as `nil`: unknown.
extension ContractSource {
    /// The document's members, one at a time: the document must be an object.
    mutating func rootMembers(_ member: (inout Self, Name) throws(ContractError) -> Void) throws(ContractError) {
        let root = kind
        guard root == .object else { throw .malformedJSON(reason: "expected a JSON object, got \(root.typeName)") }
        try members(member)
    }

    /// A required member's value: present (the caller knows) and not `null`.
    @inline(__always)
    mutating func required<Value>(
        _ field: @autoclosure () -> String, _ read: (inout Self) throws(ContractError) -> Value?
    ) throws(ContractError) -> Value {
        guard kind != .null, let value = try read(&self) else { throw .wrongType(field: field(), expected: "a value, not null") }
        return value
    }

    @inline(__always)
    private mutating func expect(_ kind: JSONKind, _ field: () -> String, _ expected: String) throws(ContractError) {
        guard self.kind == kind else { throw .wrongType(field: field(), expected: expected) }
    }

    /// The value when it is of `kind`: `nil` for `null`, the wrong type named otherwise.
    @inline(__always)
    private mutating func optional<Value>(
        _ kind: JSONKind, _ field: () -> String, _ expected: String, _ read: (inout Self) throws(ContractError) -> Value
    ) throws(ContractError) -> Value? {
        switch self.kind {
        case kind: return try read(&self)
        case .null:
            try skip()
            return nil
        default: throw .wrongType(field: field(), expected: expected)
        }
    }

    /// The text of a string within ``ContractLimits/maximumFieldCharacters``.
    @inline(__always)
    private mutating func limitedText(_ field: () -> String) throws(ContractError) -> Text? {
        try optional(.string, field, "a string") { (source) throws(ContractError) in
            let text = try source.text()
            // At most 4 bytes a character: short text needs no count.
            if text.utf8Count > ContractLimits.maximumFieldCharacters { try ContractLimits.check(text.string, field: field()) }
            return text
        }
    }

    @inline(__always)
    mutating func string(_ field: @autoclosure () -> String) throws(ContractError) -> String? {
        try limitedText(field)?.string
    }

    /// A required string, which must not be empty.
    @inline(__always)
    mutating func requiredString(_ field: @autoclosure () -> String) throws(ContractError) -> String {
        let text = try required(field(), { (source) throws(ContractError) in try source.string(field()) })
        guard !text.isEmpty else { throw .invalidValue(field: field(), value: "\"\"", reason: "must not be empty") }
        return text
    }

    @inline(__always)
    mutating func bool(_ field: @autoclosure () -> String) throws(ContractError) -> Bool? {
        try optional(.bool, field, "true or false") { (source) throws(ContractError) in try source.bool() }
    }

    @inline(__always)
    mutating func number(_ field: @autoclosure () -> String) throws(ContractError) -> Double? {
        try optional(.number, field, "a number") { (source) throws(ContractError) in try source.number() }
    }

    /// A number that must not be negative (an amount).
    @inline(__always)
    mutating func nonNegative(_ field: @autoclosure () -> String) throws(ContractError) -> Double? {
        guard let number = try number(field()) else { return nil }
        guard number >= 0 else { throw .invalidValue(field: field(), value: "\(number)", reason: "must not be negative") }
        return number
    }

    /// A whole, non-negative number up to ``ContractLimits/maximumCount``.
    @inline(__always)
    mutating func count(_ field: @autoclosure () -> String) throws(ContractError) -> Int? {
        guard let number = try number(field()) else { return nil }
        guard number == number.rounded() else { throw .wrongType(field: field(), expected: "an integer") }
        let limit = Double(ContractLimits.maximumCount)
        guard number >= 0, number <= limit else {
            let text = abs(number) <= limit ? String(Int(number)) : String(number)
            let reason = number < 0 ? "must not be negative" : "must be at most \(ContractLimits.maximumCount)"
            throw .invalidValue(field: field(), value: text, reason: reason)
        }
        return Int(number)
    }

    @inline(__always)
    mutating func timestamp(_ field: @autoclosure () -> String) throws(ContractError) -> Timestamp? {
        guard let text = try limitedText(field) else { return nil }
        guard let timestamp = text.timestamp else {
            throw .invalidValue(field: field(), value: "\"\(text.string)\"", reason: "not an RFC 3339 date-time")
        }
        return timestamp
    }

    @inline(__always)
    mutating func requiredTimestamp(_ field: @autoclosure () -> String) throws(ContractError) -> Timestamp {
        try required(field(), { (source) throws(ContractError) in try source.timestamp(field()) })
    }

    /// A word of the vocabulary `Word`; the error lists the allowed words.
    @inline(__always)
    mutating func word<Word: ContractEnum>(_ field: @autoclosure () -> String) throws(ContractError) -> Word? {
        guard let text = try limitedText(field)?.string else { return nil }
        guard let word = Word(rawValue: text) else {
            let allowed = Word.allCases.map(\.rawValue).joined(separator: ", ")
            throw .invalidValue(field: field(), value: "\"\(text)\"", reason: "must be one of \(allowed)")
        }
        return word
    }

    @inline(__always)
    mutating func requiredWord<Word: ContractEnum>(_ field: @autoclosure () -> String) throws(ContractError) -> Word {
        try required(field(), { (source) throws(ContractError) -> Word? in try source.word(field()) })
    }

    /// An ISO 4217 currency code: three upper-case letters.
    @inline(__always)
    mutating func currencyCode(_ field: @autoclosure () -> String) throws(ContractError) -> String? {
        try code(field(), length: 3, reason: "must be an ISO 4217 code of three upper-case letters")
    }

    /// An ISO 3166-1 alpha-2 country code: two upper-case letters.
    @inline(__always)
    mutating func countryCode(_ field: @autoclosure () -> String) throws(ContractError) -> String? {
        try code(field(), length: 2, reason: "must be an ISO 3166-1 alpha-2 code of two upper-case letters")
    }

    /// An E.164 phone number, as CAMARA names a line: `+`, then 5 to 15 digits, the first not 0.
    mutating func phoneNumber(_ field: @autoclosure () -> String) throws(ContractError) -> String? {
        guard let number = try string(field()) else { return nil }
        guard PhoneNumber.isE164(number) else {
            throw .invalidValue(field: field(), value: "\"\(number)\"", reason: "must be an E.164 number: +, then 5 to 15 digits")
        }
        return number
    }

    @inline(__always)
    private mutating func code(_ field: @autoclosure () -> String, length: Int, reason: String) throws(ContractError) -> String? {
        guard let code = try string(field()) else { return nil }
        guard code.isUpperCaseCode(length: length) else { throw .invalidValue(field: field(), value: "\"\(code)\"", reason: reason) }
        return code
    }

    /// An object read into `value`, starting from `empty`, one member at a time; `nil` for `null`.
    @inline(__always)
    mutating func object<Value>(
        _ field: @autoclosure () -> String, _ empty: Value, _ member: (inout Self, Name, inout Value) throws(ContractError) -> Void
    ) throws(ContractError) -> Value? {
        try optional(.object, field, "an object") { (source) throws(ContractError) in
            var value = empty
            try source.members { (source, name) throws(ContractError) in try member(&source, name, &value) }
            return value
        }
    }

    /// Each element read by `read`, which gets the element's path (`telco.call_forwarding[1]`)
    /// to name in its errors; `nil` for `null`.
    @inline(__always)
    mutating func array<Element>(
        _ field: @autoclosure () -> String, _ read: (inout Self, _ field: () -> String) throws(ContractError) -> Element
    ) throws(ContractError) -> [Element]? {
        try optional(.array, field, "an array") { (source) throws(ContractError) in
            var elements: [Element] = []
            let path = field()
            try source.elements { (source, position) throws(ContractError) in
                elements.append(try read(&source) { "\(path)[\(position)]" })
            }
            return elements
        }
    }

    /// An array element that must be a string: `null` is the wrong type here, not unknown.
    @inline(__always)
    mutating func element<Value>(
        _ field: () -> String, _ read: (inout Self) throws(ContractError) -> Value?
    ) throws(ContractError) -> Value {
        try expect(.string, field, "a string")
        guard let value = try read(&self) else { throw .wrongType(field: field(), expected: "a string") }
        return value
    }
}

extension String {
    func isUpperCaseCode(length: Int) -> Bool {
        utf8.count == length && utf8.allSatisfy { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") }
    }
}
