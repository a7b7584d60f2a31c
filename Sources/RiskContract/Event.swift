/// One customer action the bank wants scored: the event of ARCHITECTURE.md §5.1.
///
/// `id`, `occurred_at`, `customer_id` and `kind` are required; every other field is optional,
/// and a missing (or `null`) field means *unknown*, never *safe*. Reading validates types,
/// vocabularies, timestamps and ranges, and names the offending field in a
/// ``ContractError``. Fields the contract does not name are ignored here; the parsed
/// ``JSONValue`` and the stored raw line keep them, so feature specs can name them by dotted path.
///
/// ```swift
/// let event = try Event.decode(jsonLine: Array(#"{"id":"e1","occurred_at":"2026-03-01T02:14:07Z","customer_id":"c1","kind":"login"}"#.utf8))
/// event.kind  // .login
/// ```
public struct Event: Sendable, Hashable, Encodable {
    public var id: String
    public var occurredAt: Timestamp
    public var customerId: String
    public var kind: EventKind
    public var amount: Double?
    /// ISO 4217 code, three upper-case letters.
    public var currency: String?
    public var channel: Channel?
    public var payee: Payee?
    public var device: Device?
    public var ip: IPContext?
    public var otp: OTPContext?
    /// The customer's line and enrolment: what the operators are asked about.
    public var customer: CustomerContext?
    public var telco: TelcoSignals?

    public init(
        id: String, occurredAt: Timestamp, customerId: String, kind: EventKind, amount: Double? = nil,
        currency: String? = nil, channel: Channel? = nil, payee: Payee? = nil, device: Device? = nil,
        ip: IPContext? = nil, otp: OTPContext? = nil, customer: CustomerContext? = nil, telco: TelcoSignals? = nil
    ) {
        self.customer = customer
        self.id = id
        self.occurredAt = occurredAt
        self.customerId = customerId
        self.kind = kind
        self.amount = amount
        self.currency = currency
        self.channel = channel
        self.payee = payee
        self.device = device
        self.ip = ip
        self.otp = otp
        self.telco = telco
    }

    enum CodingKeys: String, CodingKey {
        case id, kind, amount, currency, channel, payee, device, ip, otp, customer, telco
        case occurredAt = "occurred_at"
        case customerId = "customer_id"
    }

    /// Reads and validates an event from its parsed JSON object.
    public init(json: JSONValue) throws(ContractError) {
        var source = TreeSource(value: json)
        self = try Self.read(from: &source)
    }

    /// The event contract, written once for every source: its members in document order, each
    /// by the rule of its type (``ContractSource``); members outside the contract are skipped.
    static func read<Source: ContractSource>(from source: inout Source) throws(ContractError) -> Event {
        var id: String?
        var occurredAt: Timestamp?
        var customerId: String?
        var kind: EventKind?
        var event = Event(id: "", occurredAt: Timestamp(millisecondsSinceEpoch: 0), customerId: "", kind: .login)
        try source.rootMembers { (source, name) throws(ContractError) in
            switch name {
            case "id": id = try source.requiredString("id")
            case "occurred_at": occurredAt = try source.requiredTimestamp("occurred_at")
            case "customer_id": customerId = try source.requiredString("customer_id")
            case "kind": kind = try source.requiredWord("kind")
            case "amount": event.amount = try source.nonNegative("amount")
            case "currency": event.currency = try source.currencyCode("currency")
            case "channel": event.channel = try source.word("channel")
            case "payee":
                event.payee = try source.object("payee", Payee()) { (source, name, payee) throws(ContractError) in
                    switch name {
                    case "id": payee.id = try source.string("payee.id")
                    case "new": payee.new = try source.bool("payee.new")
                    default: try source.skip()
                    }
                }
            case "device":
                event.device = try source.object("device", Device()) { (source, name, device) throws(ContractError) in
                    switch name {
                    case "id": device.id = try source.string("device.id")
                    case "new_for_customer": device.newForCustomer = try source.bool("device.new_for_customer")
                    case "os": device.os = try source.string("device.os")
                    case "rooted": device.rooted = try source.bool("device.rooted")
                    default: try source.skip()
                    }
                }
            case "ip":
                event.ip = try source.object("ip", IPContext()) { (source, name, ip) throws(ContractError) in
                    switch name {
                    case "country": ip.country = try source.countryCode("ip.country")
                    case "hosting": ip.hosting = try source.bool("ip.hosting")
                    default: try source.skip()
                    }
                }
            case "otp":
                event.otp = try source.object("otp", OTPContext()) { (source, name, otp) throws(ContractError) in
                    switch name {
                    case "channel": otp.channel = try source.word("otp.channel")
                    default: try source.skip()
                    }
                }
            case "customer":
                event.customer = try source.object("customer", CustomerContext()) { (source, name, customer) throws(ContractError) in
                    switch name {
                    case "phone_number": customer.phoneNumber = try source.phoneNumber("customer.phone_number")
                    case "enrolled_at": customer.enrolledAt = try source.timestamp("customer.enrolled_at")
                    default: try source.skip()
                    }
                }
            case "telco": event.telco = try TelcoSignals.read(from: &source)
            default: try source.skip()
            }
        }
        guard let id else { throw .missingField(field: "id") }
        guard let occurredAt else { throw .missingField(field: "occurred_at") }
        guard let customerId else { throw .missingField(field: "customer_id") }
        guard let kind else { throw .missingField(field: "kind") }
        event.id = id
        event.occurredAt = occurredAt
        event.customerId = customerId
        event.kind = kind
        return event
    }
}

/// What the customer did.
public enum EventKind: String, ContractEnum {
    case payment, login
    case payeeAdded = "payee_added"
    case otpRequest = "otp_request"
    case profileChange = "profile_change"
}

/// Where the customer did it.
public enum Channel: String, ContractEnum {
    case web, app, phone, branch
}

/// The beneficiary of a payment.
public struct Payee: Sendable, Hashable, Encodable {
    public var id: String?
    /// The customer has never paid this beneficiary before.
    public var new: Bool?

    public init(id: String? = nil, new: Bool? = nil) {
        self.id = id
        self.new = new
    }
}

/// The bank's own device fingerprint.
public struct Device: Sendable, Hashable, Encodable {
    public var id: String?
    public var newForCustomer: Bool?
    public var os: String?
    public var rooted: Bool?

    public init(id: String? = nil, newForCustomer: Bool? = nil, os: String? = nil, rooted: Bool? = nil) {
        self.id = id
        self.newForCustomer = newForCustomer
        self.os = os
        self.rooted = rooted
    }

    enum CodingKeys: String, CodingKey {
        case id, os, rooted
        case newForCustomer = "new_for_customer"
    }
}

/// The network the request came from.
public struct IPContext: Sendable, Hashable, Encodable {
    /// ISO 3166-1 alpha-2.
    public var country: String?
    /// The address belongs to a hosting provider or VPN.
    public var hosting: Bool?

    public init(country: String? = nil, hosting: Bool? = nil) {
        self.country = country
        self.hosting = hosting
    }
}

/// The customer's mobile line, which the operators' APIs are asked about, and when the customer
/// enrolled with the bank (Number Recycling checks whether the line changed hands since).
public struct CustomerContext: Sendable, Hashable, Encodable {
    /// E.164 (`+447700900123`).
    public var phoneNumber: String?
    public var enrolledAt: Timestamp?

    public init(phoneNumber: String? = nil, enrolledAt: Timestamp? = nil) {
        self.phoneNumber = phoneNumber
        self.enrolledAt = enrolledAt
    }

    enum CodingKeys: String, CodingKey {
        case phoneNumber = "phone_number"
        case enrolledAt = "enrolled_at"
    }
}

/// E.164 numbers, as CAMARA's `PhoneNumber` (`^\+[1-9][0-9]{4,14}$`).
public enum PhoneNumber {
    public static func isE164(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.count >= 6, bytes.count <= 16, bytes[0] == UInt8(ascii: "+"), (UInt8(ascii: "1")...UInt8(ascii: "9")).contains(bytes[1])
        else { return false }
        return bytes.dropFirst(2).allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
    }
}

/// How a step-up one-time code would be delivered.
public struct OTPContext: Sendable, Hashable, Encodable {
    public var channel: OTPChannel?

    public init(channel: OTPChannel? = nil) {
        self.channel = channel
    }
}

public enum OTPChannel: String, ContractEnum {
    case sms, voice, app, none
}
