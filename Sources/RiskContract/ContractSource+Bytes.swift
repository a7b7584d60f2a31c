/// A JSON document read straight from its bytes, with no tree: the fast path of ingest and of
/// snapshots whose spec reads only contract fields (docs/DESIGN.md, "JSON reading").
///
/// It decides only the documents it is sure of and leaves everything else to the tree: any
/// error, a repeated member name (the tree refuses it by name), a member name with escapes or
/// non-ASCII bytes, more than ``maximumMembers`` member names in the objects open at once. Every
/// message then comes from the same reader over ``TreeSource``, in the order the tree finds the
/// problems.
struct ByteSource: ContractSource {
    /// Thrown when the bytes are left to the tree; never shown to anyone.
    static let declined = ContractError.malformedJSON(reason: "left to the JSON tree")
    /// Members of the open objects this source checks for repeats; more go to the tree.
    static let maximumMembers = 64

    private var parser: JSONParser
    /// The members read so far in the open objects, innermost last: each name's length and
    /// first bytes (compared before the names themselves), then where each name starts. On the
    /// stack of ``decide(_:_:)``: an event is read with no allocation but its strings.
    private let names: UnsafeMutableBufferPointer<Int>
    private var namesRead = 0

    private init(_ bytes: UnsafeBufferPointer<UInt8>, names: UnsafeMutableBufferPointer<Int>) {
        parser = JSONParser(bytes)
        parser.skipWhitespace()
        self.names = names
    }

    /// A record read by `read` when the bytes hold exactly it, `nil` when they are left to the tree.
    static func decide<Record>(_ bytes: UnsafeBufferPointer<UInt8>, _ read: (inout ByteSource) throws(ContractError) -> Record)
        -> Record?
    {
        withUnsafeTemporaryAllocation(of: Int.self, capacity: 2 * maximumMembers) { names in
            var source = ByteSource(bytes, names: names)
            guard let record = try? read(&source) else { return nil }
            source.parser.skipWhitespace()
            return source.parser.index == bytes.count ? record : nil
        }
    }

    private func peek() throws(ContractError) -> UInt8 {
        guard parser.index < parser.bytes.count else { throw Self.declined }
        return parser.bytes[parser.index]
    }

    var kind: JSONKind {
        @inline(__always) mutating get {
            guard parser.index < parser.bytes.count else { return .invalid }
            return switch parser.bytes[parser.index] {
            case UInt8(ascii: "{"): .object
            case UInt8(ascii: "["): .array
            case UInt8(ascii: "\""): .string
            case UInt8(ascii: "t"), UInt8(ascii: "f"): .bool
            case UInt8(ascii: "n"): .null
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): .number
            default: .invalid
            }
        }
    }

    mutating func skip() throws(ContractError) {
        // Through the tree parser, so that what is skipped is held to the tree's rules.
        _ = try parser.parseValue()
    }

    mutating func bool() throws(ContractError) -> Bool {
        if try peek() == UInt8(ascii: "t") {
            try parser.expectLiteral("true")
            return true
        }
        try parser.expectLiteral("false")
        return false
    }

    mutating func number() throws(ContractError) -> Double {
        try parser.parseNumber()
    }

    mutating func text() throws(ContractError) -> ByteText {
        let start = parser.index
        if let span = try plainString() { return .plain(span) }
        parser.index = start
        return .decoded(try parser.parseString())
    }

    /// The bytes of a string without escapes, control characters or non-ASCII bytes, which are
    /// then exactly its text; `nil` for any other string (the source is then left inside it).
    private mutating func plainString() throws(ContractError) -> UnsafeBufferPointer<UInt8>? {
        parser.index += 1
        let start = parser.index
        let bytes = parser.bytes
        while parser.index < bytes.count {
            let byte = bytes[parser.index]
            if byte == UInt8(ascii: "\"") {
                guard parser.index - start <= ContractLimits.maximumStringBytes else { throw Self.declined }
                parser.index += 1
                return UnsafeBufferPointer(rebasing: bytes[start..<parser.index - 1])
            }
            guard byte >= 0x20, byte < 0x80, byte != UInt8(ascii: "\\") else { return nil }
            parser.index += 1
        }
        throw Self.declined
    }

    @inline(__always)
    mutating func members(_ member: (inout ByteSource, MemberName) throws(ContractError) -> Void) throws(ContractError) {
        try parser.enter()
        defer { parser.depth -= 1 }
        parser.index += 1
        let first = namesRead
        defer { namesRead = first }
        var filter: UInt64 = 0
        parser.skipWhitespace()
        if try peek() == UInt8(ascii: "}") {
            parser.index += 1
            return
        }
        while true {
            parser.skipWhitespace()
            guard try peek() == UInt8(ascii: "\""), let name = try plainString() else { throw Self.declined }
            try remember(name, from: first, filter: &filter)
            parser.skipWhitespace()
            guard try peek() == UInt8(ascii: ":") else { throw Self.declined }
            parser.index += 1
            parser.skipWhitespace()
            try member(&self, MemberName(bytes: name))
            parser.skipWhitespace()
            switch try peek() {
            case UInt8(ascii: ","): parser.index += 1
            case UInt8(ascii: "}"):
                parser.index += 1
                return
            default: throw Self.declined
            }
        }
    }

    /// Adds `name` to the names of the object whose first is at `first`; a repeat is left to
    /// the tree. `filter` has a bit set for each name's signature seen in the object, so the
    /// names are compared only when a bit is already set.
    @inline(__always)
    private mutating func remember(_ name: UnsafeBufferPointer<UInt8>, from first: Int, filter: inout UInt64) throws(ContractError) {
        guard namesRead < Self.maximumMembers else { throw Self.declined }
        var signature = name.count
        for byte in name.prefix(7) { signature = signature << 8 | Int(byte) }
        let bit: UInt64 = 1 << ((UInt64(bitPattern: Int64(signature)) &* 0x9E37_79B9_7F4A_7C15) >> 58)
        if filter & bit != 0 {
            for position in first..<namesRead where names[position] == signature {
                let start = names[Self.maximumMembers + position]
                if name.count <= 7 || parser.bytes[start..<start + name.count].elementsEqual(name) { throw Self.declined }
            }
        }
        filter |= bit
        names[namesRead] = signature
        names[Self.maximumMembers + namesRead] = name.baseAddress! - parser.bytes.baseAddress!
        namesRead += 1
    }

    mutating func elements(_ element: (inout ByteSource, Int) throws(ContractError) -> Void) throws(ContractError) {
        try parser.enter()
        defer { parser.depth -= 1 }
        parser.index += 1
        parser.skipWhitespace()
        if try peek() == UInt8(ascii: "]") {
            parser.index += 1
            return
        }
        var position = 0
        while true {
            parser.skipWhitespace()
            try element(&self, position)
            position += 1
            parser.skipWhitespace()
            switch try peek() {
            case UInt8(ascii: ","): parser.index += 1
            case UInt8(ascii: "]"):
                parser.index += 1
                return
            default: throw Self.declined
            }
        }
    }
}

/// A member name, the bytes between its quotes (plain printable ASCII).
struct MemberName: ContractMemberName {
    let bytes: UnsafeBufferPointer<UInt8>

    @inline(__always)
    static func ~= (name: StaticString, member: MemberName) -> Bool {
        guard name.utf8CodeUnitCount == member.bytes.count else { return false }
        for offset in 0..<member.bytes.count where name.utf8Start[offset] != member.bytes[offset] { return false }
        return true
    }
}

/// A string value read from bytes: its bytes when they are exactly its text, else decoded.
enum ByteText: ContractText {
    case plain(UnsafeBufferPointer<UInt8>)
    case decoded(String)

    var string: String {
        switch self {
        case .plain(let span): String(decoding: span, as: UTF8.self)
        case .decoded(let text): text
        }
    }

    var utf8Count: Int {
        switch self {
        case .plain(let span): span.count
        case .decoded(let text): text.utf8.count
        }
    }

    var timestamp: Timestamp? {
        switch self {
        case .plain(let span): Timestamp.parse(span)
        case .decoded(let text): Timestamp(rfc3339: text)
        }
    }
}
