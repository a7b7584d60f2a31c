/// A parsed JSON value (RFC 8259), kept in the order it was written.
///
/// RiskLoop parses every event line once into a `JSONValue`; the typed ``Event`` is read from it,
/// and fields outside the contract stay reachable by dotted path (`merchant.mcc`) for feature
/// specs. The parser is hand-written because validation and extraction sit on the ingest and
/// scoring hot paths (hundreds of thousands of lines a second) where Foundation's `JSONDecoder`
/// spends about 18 µs a line; see docs/DESIGN.md.
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    /// Parses exactly one JSON value from `bytes` (surrounding whitespace allowed).
    ///
    /// - Throws: ``ContractError/malformedJSON(reason:)`` with the byte offset of the problem.
    public static func parse(_ bytes: some Collection<UInt8>) throws(ContractError) -> JSONValue {
        let result: Result<JSONValue, ContractError>? = bytes.withContiguousStorageIfAvailable { buffer in
            var parser = JSONParser(buffer)
            return Result { () throws(ContractError) in try parser.parseDocument() }
        }
        if let result { return try result.get() }
        return try parse(Array(bytes))
    }

    /// The member at a dotted path (`telco.sim_swap.latest_change`); `nil` if any step is absent.
    public subscript(path path: String) -> JSONValue? {
        var current = self
        for key in path.split(separator: ".", omittingEmptySubsequences: false) {
            guard case .object(let object) = current, let next = object[String(key)] else { return nil }
            current = next
        }
        return current
    }

    /// Whether two JSON texts hold the same document: equal bytes, or equal values once parsed
    /// (members in any order, `1` equal to `1.0`). Text that does not parse equals only itself.
    /// This is how a retried event is told from another event under the same id.
    public static func sameDocument(_ lhs: String, _ rhs: String) -> Bool {
        if lhs == rhs { return true }
        guard let left = try? parse(Array(lhs.utf8)), let right = try? parse(Array(rhs.utf8)) else { return false }
        return left == right
    }

    /// The JSON type's name, for error messages.
    public var typeName: String { kind.typeName }

    /// The JSON type, as a ``ContractSource`` reports it.
    var kind: JSONKind {
        switch self {
        case .null: .null
        case .bool: .bool
        case .number: .number
        case .string: .string
        case .array: .array
        case .object: .object
        }
    }
}

/// A JSON object: members in document order. Lookup is a linear scan, which beats hashing for
/// the dozen or so members an event object has.
public struct JSONObject: Sendable, Hashable {
    /// One `"key": value` pair. A struct rather than a tuple: tuple arrays make the runtime look up
    /// generic metadata on every parse.
    public struct Member: Sendable, Hashable {
        public var key: String
        public var value: JSONValue

        public init(key: String, value: JSONValue) {
            self.key = key
            self.value = value
        }
    }

    public var members: [Member]

    public init(_ members: [Member] = []) {
        self.members = members
    }

    /// Members by name, the last one winning for repeated names.
    public var dictionary: [String: JSONValue] {
        var members: [String: JSONValue] = [:]
        for member in self.members { members[member.key] = member.value }
        return members
    }

    /// Objects are equal when they map the same names to equal values, in any order.
    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        lhs.dictionary == rhs.dictionary
    }

    public func hash(into hasher: inout Hasher) {
        let members = dictionary
        hasher.combine(members.count)
        for key in members.keys.sorted() {
            hasher.combine(key)
            hasher.combine(members[key])
        }
    }

    /// The value of the member named `key` (the parser refuses repeated names).
    public subscript(key: String) -> JSONValue? {
        members.last(where: { $0.key == key })?.value
    }

}

/// A recursive-descent parser over a byte buffer.
struct JSONParser {
    let bytes: UnsafeBufferPointer<UInt8>
    var index = 0
    var depth = 0
    /// Deeper nesting is refused rather than risking the stack on hostile input.
    static let maximumDepth = 128

    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    mutating func parseDocument() throws(ContractError) -> JSONValue {
        skipWhitespace()
        let value = try parseValue()
        skipWhitespace()
        guard index == bytes.count else { throw fail("unexpected characters after the JSON value") }
        return value
    }

    func fail(_ reason: String) -> ContractError {
        index >= bytes.count
            ? .malformedJSON(reason: "\(reason) (at the end of the text)") : .malformedJSON(reason: "\(reason) at byte \(index + 1)")
    }

    mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    mutating func parseValue() throws(ContractError) -> JSONValue {
        guard index < bytes.count else { throw fail("expected a value") }
        switch bytes[index] {
        case UInt8(ascii: "{"): return .object(try parseObject())
        case UInt8(ascii: "["): return .array(try parseArray())
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
        default: throw fail("expected a value")
        }
    }

    mutating func expectLiteral(_ literal: StaticString) throws(ContractError) {
        let count = literal.utf8CodeUnitCount
        guard index + count <= bytes.count else { throw fail("expected a value") }
        for offset in 0..<count where bytes[index + offset] != literal.utf8Start[offset] {
            throw fail("expected a value")
        }
        index += count
    }

    mutating func enter() throws(ContractError) {
        depth += 1
        guard depth <= Self.maximumDepth else { throw fail("nesting deeper than \(Self.maximumDepth) levels") }
    }

    private mutating func parseObject() throws(ContractError) -> JSONObject {
        try enter()
        defer { depth -= 1 }
        index += 1
        var members: [JSONObject.Member] = []
        var names: Set<String> = []
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
            index += 1
            return JSONObject(members)
        }
        while true {
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw fail("expected a member name in quotes") }
            let start = index
            let key = try parseString()
            // A scan for the dozen members of an event; a set once an object grows large, so a
            // hostile object of many members costs linear time, not quadratic.
            let repeated: Bool
            if members.count < 16 {
                repeated = members.contains(where: { $0.key == key })
            } else {
                if names.isEmpty { names = Set(members.map(\.key)) }
                repeated = !names.insert(key).inserted
            }
            if repeated {
                index = start
                throw fail("the member name \"\(key)\" appears twice in one object")
            }
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw fail("expected ':' after a member name") }
            index += 1
            skipWhitespace()
            members.append(JSONObject.Member(key: key, value: try parseValue()))
            skipWhitespace()
            guard index < bytes.count else { throw fail("unterminated object") }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
            } else if bytes[index] == UInt8(ascii: "}") {
                index += 1
                return JSONObject(members)
            } else {
                throw fail("expected ',' or '}' in an object")
            }
        }
    }

    private mutating func parseArray() throws(ContractError) -> [JSONValue] {
        try enter()
        defer { depth -= 1 }
        index += 1
        var elements: [JSONValue] = []
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
            index += 1
            return elements
        }
        while true {
            skipWhitespace()
            elements.append(try parseValue())
            skipWhitespace()
            guard index < bytes.count else { throw fail("unterminated array") }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
            } else if bytes[index] == UInt8(ascii: "]") {
                index += 1
                return elements
            } else {
                throw fail("expected ',' or ']' in an array")
            }
        }
    }

    private func longString(at start: Int) -> ContractError {
        .malformedJSON(reason: "the string at byte \(start) is longer than \(ContractLimits.maximumStringBytes) bytes")
    }

    mutating func parseString() throws(ContractError) -> String {
        index += 1  // the opening quote
        let start = index
        // Fast path: no escapes, so the bytes are the string once they are valid UTF-8; pure ASCII,
        // the usual case, needs no validation at all.
        var highBits: UInt8 = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                let slice = UnsafeBufferPointer(rebasing: bytes[start..<index])
                guard slice.count <= ContractLimits.maximumStringBytes else { throw longString(at: start) }
                index += 1
                if highBits & 0x80 == 0 { return String(decoding: slice, as: UTF8.self) }
                guard let text = String(validating: slice, as: UTF8.self) else { throw fail("invalid UTF-8 in a string") }
                return text
            }
            if byte == UInt8(ascii: "\\") { break }
            guard byte >= 0x20 else { throw fail("control character in a string") }
            highBits |= byte
            index += 1
        }
        var decoded = Array(bytes[start..<index])
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                guard decoded.count <= ContractLimits.maximumStringBytes else { throw longString(at: start) }
                index += 1
                guard let text = String(validating: decoded, as: UTF8.self) else { throw fail("invalid UTF-8 in a string") }
                return text
            case UInt8(ascii: "\\"):
                index += 1
                guard index < bytes.count else { throw fail("unterminated string") }
                let escape = bytes[index]
                index += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): decoded.append(escape)
                case UInt8(ascii: "b"): decoded.append(0x08)
                case UInt8(ascii: "f"): decoded.append(0x0C)
                case UInt8(ascii: "n"): decoded.append(0x0A)
                case UInt8(ascii: "r"): decoded.append(0x0D)
                case UInt8(ascii: "t"): decoded.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try parseHex4()
                    if (0xD800...0xDBFF).contains(scalar) {
                        guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                            throw fail("unpaired surrogate in \\u escape")
                        }
                        index += 2
                        let low = try parseHex4()
                        guard (0xDC00...0xDFFF).contains(low) else { throw fail("unpaired surrogate in \\u escape") }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00...0xDFFF).contains(scalar) {
                        throw fail("unpaired surrogate in \\u escape")
                    }
                    guard let unicode = Unicode.Scalar(scalar) else { throw fail("invalid \\u escape") }
                    decoded.append(contentsOf: String(Character(unicode)).utf8)
                default:
                    throw fail("invalid escape in a string")
                }
            default:
                guard byte >= 0x20 else { throw fail("control character in a string") }
                decoded.append(byte)
                index += 1
            }
        }
        throw fail("unterminated string")
    }

    private mutating func parseHex4() throws(ContractError) -> UInt32 {
        guard index + 4 <= bytes.count else { throw fail("invalid \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw fail("invalid \\u escape")
            }
            value = value << 4 | UInt32(digit)
            index += 1
        }
        return value
    }

    mutating func parseNumber() throws(ContractError) -> Double {
        let start = index
        func digits() -> Int {
            let first = index
            while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") { index += 1 }
            return index - first
        }
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard index < bytes.count else { throw fail("invalid number") }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
        } else if digits() == 0 {
            throw fail("invalid number")
        }
        var isInteger = true
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            isInteger = false
            index += 1
            guard digits() > 0 else { throw fail("invalid number: digits expected after '.'") }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            isInteger = false
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard digits() > 0 else { throw fail("invalid number: digits expected in the exponent") }
        }
        let span = UnsafeBufferPointer(rebasing: bytes[start..<index])
        // Small integers, the common case, need no string.
        if isInteger, span.count <= 15 {
            var value: Int64 = 0
            for byte in span where byte != UInt8(ascii: "-") { value = value * 10 + Int64(byte - UInt8(ascii: "0")) }
            return Double(span[0] == UInt8(ascii: "-") ? -value : value)
        }
        guard let value = Double(String(decoding: span, as: UTF8.self)), value.isFinite else {
            throw fail("number out of range")
        }
        return value
    }
}

extension JSONValue {
    /// A number as a word: whole numbers without a fraction, so `3` matches the vocabulary word
    /// "3" and an id written as a number reads as its digits.
    package static func wordText(_ number: Double) -> String {
        number == number.rounded() && abs(number) < 1e15 ? String(Int64(number)) : String(number)
    }
}
