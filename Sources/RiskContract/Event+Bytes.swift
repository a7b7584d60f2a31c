extension Event {
    /// Reads an event straight from its bytes, without building the JSON tree first.
    ///
    /// This is the fast path of ingest and of snapshots whose spec reads only contract fields:
    /// the tree costs about two thirds of the work of reading an event (docs/DESIGN.md). It
    /// decides only the documents it is sure of, and leaves everything else to the tree
    /// (`nil`): any error (so that every message comes from one place), a repeated member (the
    /// tree refuses it by name), a member name with escapes or non-ASCII bytes. When it
    /// returns an event, `Event(json: JSONValue.parse(bytes))` returns the same one.
    static func direct(_ bytes: UnsafeBufferPointer<UInt8>) -> Event? {
        var parser = JSONParser(bytes)
        return try? parser.parseEvent()
    }
}

/// A member name, the bytes between its quotes.
struct MemberName {
    let bytes: UnsafeBufferPointer<UInt8>

    static func ~= (name: StaticString, member: MemberName) -> Bool {
        guard name.utf8CodeUnitCount == member.bytes.count else { return false }
        for offset in 0..<member.bytes.count where name.utf8Start[offset] != member.bytes[offset] { return false }
        return true
    }
}

/// The members already read in one object: a repeated one is left to the tree, which refuses
/// it by name.
struct SeenMembers {
    private var bits: UInt32 = 0
    /// Names outside the contract, rare in events: kept to catch a repeat among them too.
    private var others: [MemberName] = []

    mutating func insert(_ bit: Int) throws(RiskFeaturesError) {
        guard bits & (1 << bit) == 0 else { throw JSONParser.declined }
        bits |= 1 << bit
    }

    mutating func insertOther(_ name: MemberName) throws(RiskFeaturesError) {
        guard !others.contains(where: { $0.bytes.elementsEqual(name.bytes) }) else { throw JSONParser.declined }
        others.append(name)
    }

    func contains(_ bit: Int) -> Bool { bits & (1 << bit) != 0 }
}

extension JSONParser {
    /// Thrown when the direct reader leaves a document to the tree; never shown to anyone.
    static let declined = RiskFeaturesError.malformedJSON(reason: "left to the JSON tree")

    mutating func parseEvent() throws(RiskFeaturesError) -> Event {
        var id: String?
        var occurredAt: Timestamp?
        var customerId: String?
        var kind: EventKind?
        var amount: Double?
        var currency: String?
        var channel: Channel?
        var payee: Payee?
        var device: Device?
        var ip: IPContext?
        var otp: OTPContext?
        var telco: TelcoSignals?
        var seen = SeenMembers()
        skipWhitespace()
        try object { (parser, name) throws(RiskFeaturesError) in
            switch name {
            case "id":
                try seen.insert(0)
                id = try parser.nonEmptyString()
            case "occurred_at":
                try seen.insert(1)
                occurredAt = try parser.timestamp()
                guard occurredAt != nil else { throw Self.declined }
            case "customer_id":
                try seen.insert(2)
                customerId = try parser.nonEmptyString()
            case "kind":
                try seen.insert(3)
                kind = try parser.word()
                guard kind != nil else { throw Self.declined }
            case "amount":
                try seen.insert(4)
                amount = try parser.number()
                if let amount, amount < 0 { throw Self.declined }
            case "currency":
                try seen.insert(5)
                currency = try parser.string()
                if let currency, !currency.isUpperCaseCode(length: 3) { throw Self.declined }
            case "channel":
                try seen.insert(6)
                channel = try parser.word()
            case "payee":
                try seen.insert(7)
                payee = try parser.payee()
            case "device":
                try seen.insert(8)
                device = try parser.device()
            case "ip":
                try seen.insert(9)
                ip = try parser.ipContext()
            case "otp":
                try seen.insert(10)
                otp = try parser.nullable { (parser) throws(RiskFeaturesError) in
                    var channel: OTPChannel?
                    var seen = SeenMembers()
                    try parser.object { (parser, name) throws(RiskFeaturesError) in
                        switch name {
                        case "channel":
                            try seen.insert(0)
                            channel = try parser.word()
                        default:
                            try seen.insertOther(name)
                            _ = try parser.parseValue()
                        }
                    }
                    return OTPContext(channel: channel)
                }
            case "telco":
                try seen.insert(11)
                telco = try parser.telco()
            default:
                try seen.insertOther(name)
                _ = try parser.parseValue()
            }
        }
        skipWhitespace()
        guard index == bytes.count, let id, let occurredAt, let customerId, let kind else { throw Self.declined }
        return Event(
            id: id, occurredAt: occurredAt, customerId: customerId, kind: kind, amount: amount, currency: currency,
            channel: channel, payee: payee, device: device, ip: ip, otp: otp, telco: telco)
    }

    private mutating func payee() throws(RiskFeaturesError) -> Payee? {
        try nullable { (parser) throws(RiskFeaturesError) in
            var payee = Payee()
            var seen = SeenMembers()
            try parser.object { (parser, name) throws(RiskFeaturesError) in
                switch name {
                case "id":
                    try seen.insert(0)
                    payee.id = try parser.string()
                case "new":
                    try seen.insert(1)
                    payee.new = try parser.bool()
                default:
                    try seen.insertOther(name)
                    _ = try parser.parseValue()
                }
            }
            return payee
        }
    }

    private mutating func device() throws(RiskFeaturesError) -> Device? {
        try nullable { (parser) throws(RiskFeaturesError) in
            var device = Device()
            var seen = SeenMembers()
            try parser.object { (parser, name) throws(RiskFeaturesError) in
                switch name {
                case "id":
                    try seen.insert(0)
                    device.id = try parser.string()
                case "new_for_customer":
                    try seen.insert(1)
                    device.newForCustomer = try parser.bool()
                case "os":
                    try seen.insert(2)
                    device.os = try parser.string()
                case "rooted":
                    try seen.insert(3)
                    device.rooted = try parser.bool()
                default:
                    try seen.insertOther(name)
                    _ = try parser.parseValue()
                }
            }
            return device
        }
    }

    private mutating func ipContext() throws(RiskFeaturesError) -> IPContext? {
        try nullable { (parser) throws(RiskFeaturesError) in
            var ip = IPContext()
            var seen = SeenMembers()
            try parser.object { (parser, name) throws(RiskFeaturesError) in
                switch name {
                case "country":
                    try seen.insert(0)
                    ip.country = try parser.countryCode()
                case "hosting":
                    try seen.insert(1)
                    ip.hosting = try parser.bool()
                default:
                    try seen.insertOther(name)
                    _ = try parser.parseValue()
                }
            }
            return ip
        }
    }

    private mutating func telco() throws(RiskFeaturesError) -> TelcoSignals? {
        try nullable { (parser) throws(RiskFeaturesError) in
            var telco = TelcoSignals()
            var seen = SeenMembers()
            try parser.object { (parser, name) throws(RiskFeaturesError) in
                switch name {
                case "sim_swap":
                    try seen.insert(0)
                    telco.simSwap = try parser.swap()
                case "device_swap":
                    try seen.insert(1)
                    telco.deviceSwap = try parser.swap()
                case "call_forwarding":
                    try seen.insert(2)
                    telco.callForwarding = try parser.array { (parser) throws(RiskFeaturesError) in try parser.requiredWord() }
                case "roaming":
                    try seen.insert(3)
                    telco.roaming = try parser.roaming()
                case "reachability":
                    try seen.insert(4)
                    telco.reachability = try parser.reachability()
                case "location_verification":
                    try seen.insert(5)
                    telco.locationVerification = try parser.word()
                case "ss7":
                    try seen.insert(6)
                    telco.ss7 = try parser.ss7()
                default:
                    try seen.insertOther(name)
                    _ = try parser.parseValue()
                }
            }
            return telco
        }
    }

    private mutating func swap() throws(RiskFeaturesError) -> SwapSignal? {
        try nullable { (parser) throws(RiskFeaturesError) in
            var latestChange: Timestamp?
            var period: Int?
            var seen = SeenMembers()
            try parser.object { (parser, name) throws(RiskFeaturesError) in
                switch name {
                case "latest_change":
                    try seen.insert(0)
                    latestChange = try parser.timestamp()
                case "monitored_period_days":
                    try seen.insert(1)
                    period = try parser.count()
                default:
                    try seen.insertOther(name)
                    _ = try parser.parseValue()
                }
            }
            // `latest_change` must be present, `null` being the answer "no swap seen".
            guard seen.contains(0) else { throw Self.declined }
            return SwapSignal(latestChange: latestChange, monitoredPeriodDays: period)
        }
    }

    private mutating func roaming() throws(RiskFeaturesError) -> RoamingStatus? {
        try nullable { (parser) throws(RiskFeaturesError) in
            var roaming = RoamingStatus()
            var seen = SeenMembers()
            try parser.object { (parser, name) throws(RiskFeaturesError) in
                switch name {
                case "roaming":
                    try seen.insert(0)
                    roaming.roaming = try parser.bool()
                case "country_codes":
                    try seen.insert(1)
                    roaming.countryCodes = try parser.array { (parser) throws(RiskFeaturesError) in
                        guard let code = try parser.countryCode() else { throw Self.declined }
                        return code
                    }
                case "last_status_time":
                    try seen.insert(2)
                    roaming.lastStatusTime = try parser.timestamp()
                default:
                    try seen.insertOther(name)
                    _ = try parser.parseValue()
                }
            }
            return roaming
        }
    }

    private mutating func reachability() throws(RiskFeaturesError) -> ReachabilityStatus? {
        try nullable { (parser) throws(RiskFeaturesError) in
            var reachability = ReachabilityStatus()
            var seen = SeenMembers()
            try parser.object { (parser, name) throws(RiskFeaturesError) in
                switch name {
                case "reachable":
                    try seen.insert(0)
                    reachability.reachable = try parser.bool()
                case "connectivity":
                    try seen.insert(1)
                    reachability.connectivity = try parser.array { (parser) throws(RiskFeaturesError) in try parser.requiredWord() }
                default:
                    try seen.insertOther(name)
                    _ = try parser.parseValue()
                }
            }
            return reachability
        }
    }

    private mutating func ss7() throws(RiskFeaturesError) -> SS7Signals? {
        try nullable { (parser) throws(RiskFeaturesError) in
            var ss7 = SS7Signals()
            var seen = SeenMembers()
            try parser.object { (parser, name) throws(RiskFeaturesError) in
                switch name {
                case "foreign_location_updates_24h":
                    try seen.insert(0)
                    ss7.foreignLocationUpdates24h = try parser.count()
                case "sri_for_sm_requests_24h":
                    try seen.insert(1)
                    ss7.sriForSmRequests24h = try parser.count()
                default:
                    try seen.insertOther(name)
                    _ = try parser.parseValue()
                }
            }
            return ss7
        }
    }

    // MARK: - Values

    /// The next byte, which must exist.
    private func peek() throws(RiskFeaturesError) -> UInt8 {
        guard index < bytes.count else { throw Self.declined }
        return bytes[index]
    }

    /// `nil` for `null` (which reads as absent), `read` otherwise.
    private mutating func nullable<Value>(_ read: (inout Self) throws(RiskFeaturesError) -> Value?) throws(RiskFeaturesError) -> Value? {
        if try peek() == UInt8(ascii: "n") {
            try expectLiteral("null")
            return nil
        }
        return try read(&self)
    }

    /// Reads an object, calling `member` with the parser at each member's value.
    private mutating func object(_ member: (inout Self, MemberName) throws(RiskFeaturesError) -> Void) throws(RiskFeaturesError) {
        guard try peek() == UInt8(ascii: "{") else { throw Self.declined }
        try enter()
        defer { depth -= 1 }
        index += 1
        skipWhitespace()
        if try peek() == UInt8(ascii: "}") {
            index += 1
            return
        }
        while true {
            skipWhitespace()
            let name = try memberName()
            skipWhitespace()
            guard try peek() == UInt8(ascii: ":") else { throw Self.declined }
            index += 1
            skipWhitespace()
            try member(&self, name)
            skipWhitespace()
            switch try peek() {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "}"):
                index += 1
                return
            default: throw Self.declined
            }
        }
    }

    /// A member name of plain printable ASCII; anything else is left to the tree.
    private mutating func memberName() throws(RiskFeaturesError) -> MemberName {
        guard let span = try plainString() else { throw Self.declined }
        return MemberName(bytes: span)
    }

    /// The bytes of a string without escapes, control characters or non-ASCII bytes, which are
    /// then exactly its text; `nil` for `null`.
    private mutating func plainString() throws(RiskFeaturesError) -> UnsafeBufferPointer<UInt8>? {
        guard try peek() == UInt8(ascii: "\"") else {
            try expectLiteral("null")
            return nil
        }
        index += 1
        let start = index
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                index += 1
                return UnsafeBufferPointer(rebasing: bytes[start..<index - 1])
            }
            guard byte >= 0x20, byte < 0x80, byte != UInt8(ascii: "\\") else { throw Self.declined }
            index += 1
        }
        throw Self.declined
    }

    private mutating func string() throws(RiskFeaturesError) -> String? {
        try nullable { (parser) throws(RiskFeaturesError) in
            guard try parser.peek() == UInt8(ascii: "\"") else { throw Self.declined }
            let text = try parser.parseString()
            // Over the limit: the tree says so, naming the field.
            guard text.utf8.count <= ContractLimits.maximumFieldCharacters else { throw Self.declined }
            return text
        }
    }

    private mutating func nonEmptyString() throws(RiskFeaturesError) -> String {
        guard let text = try string(), !text.isEmpty else { throw Self.declined }
        return text
    }

    private mutating func countryCode() throws(RiskFeaturesError) -> String? {
        guard let span = try plainString() else { return nil }
        guard span.count == 2, span.allSatisfy({ $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") }) else { throw Self.declined }
        return String(decoding: span, as: UTF8.self)
    }

    private mutating func timestamp() throws(RiskFeaturesError) -> Timestamp? {
        guard let span = try plainString() else { return nil }
        guard let timestamp = Timestamp.parse(span) else { throw Self.declined }
        return timestamp
    }

    private mutating func word<Word: ContractEnum>() throws(RiskFeaturesError) -> Word? {
        guard let span = try plainString() else { return nil }
        guard let word = Word(rawValue: String(decoding: span, as: UTF8.self)) else { throw Self.declined }
        return word
    }

    private mutating func requiredWord<Word: ContractEnum>() throws(RiskFeaturesError) -> Word {
        guard let word: Word = try word() else { throw Self.declined }
        return word
    }

    private mutating func bool() throws(RiskFeaturesError) -> Bool? {
        switch try peek() {
        case UInt8(ascii: "t"):
            try expectLiteral("true")
            return true
        case UInt8(ascii: "f"):
            try expectLiteral("false")
            return false
        default:
            try expectLiteral("null")
            return nil
        }
    }

    private mutating func number() throws(RiskFeaturesError) -> Double? {
        switch try peek() {
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default:
            try expectLiteral("null")
            return nil
        }
    }

    /// A whole, non-negative number, as ``JSONFields/count(_:)`` reads it.
    private mutating func count() throws(RiskFeaturesError) -> Int? {
        guard let number = try number() else { return nil }
        guard number == number.rounded(), number >= 0, number <= Double(ContractLimits.maximumCount) else { throw Self.declined }
        return Int(number)
    }

    private mutating func array<Element>(_ element: (inout Self) throws(RiskFeaturesError) -> Element) throws(RiskFeaturesError)
        -> [Element]?
    {
        try nullable { (parser) throws(RiskFeaturesError) in
            guard try parser.peek() == UInt8(ascii: "[") else { throw Self.declined }
            try parser.enter()
            defer { parser.depth -= 1 }
            parser.index += 1
            var elements: [Element] = []
            parser.skipWhitespace()
            if try parser.peek() == UInt8(ascii: "]") {
                parser.index += 1
                return elements
            }
            while true {
                parser.skipWhitespace()
                elements.append(try element(&parser))
                parser.skipWhitespace()
                switch try parser.peek() {
                case UInt8(ascii: ","): parser.index += 1
                case UInt8(ascii: "]"):
                    parser.index += 1
                    return elements
                default: throw Self.declined
                }
            }
        }
    }
}
