/// One customer action the bank wants scored: the event of ARCHITECTURE.md §5.1.
///
/// `id`, `occurred_at`, `customer_id` and `kind` are required; every other field is optional,
/// and a missing (or `null`) field means *unknown*, never *safe*. Reading validates types,
/// vocabularies, timestamps and ranges, and names the offending field in a
/// ``RiskFeaturesError``. Fields the contract does not name are ignored here; the parsed
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
    public var telco: TelcoSignals?

    public init(
        id: String, occurredAt: Timestamp, customerId: String, kind: EventKind, amount: Double? = nil,
        currency: String? = nil, channel: Channel? = nil, payee: Payee? = nil, device: Device? = nil,
        ip: IPContext? = nil, otp: OTPContext? = nil, telco: TelcoSignals? = nil
    ) {
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
        case id, kind, amount, currency, channel, payee, device, ip, otp, telco
        case occurredAt = "occurred_at"
        case customerId = "customer_id"
    }

    /// Reads and validates an event from its parsed JSON object.
    public init(json: JSONValue) throws(RiskFeaturesError) {
        let fields = try JSONFields(root: json)
        id = try fields.requiredString("id")
        occurredAt = try fields.requiredTimestamp("occurred_at")
        customerId = try fields.requiredString("customer_id")
        kind = try fields.requiredVocabulary("kind")
        amount = try fields.number("amount")
        if let amount, amount < 0 {
            throw .invalidValue(field: "amount", value: "\(amount)", reason: "must not be negative")
        }
        currency = try fields.string("currency")
        if let currency, !currency.isUpperCaseCode(length: 3) {
            throw .invalidValue(field: "currency", value: "\"\(currency)\"", reason: "must be an ISO 4217 code of three upper-case letters")
        }
        channel = try fields.vocabulary("channel")
        payee = try fields.nested("payee").map { (payee) throws(RiskFeaturesError) in
            Payee(id: try payee.string("id"), new: try payee.bool("new"))
        }
        device = try fields.nested("device").map { (device) throws(RiskFeaturesError) in
            Device(
                id: try device.string("id"), newForCustomer: try device.bool("new_for_customer"), os: try device.string("os"),
                rooted: try device.bool("rooted"))
        }
        ip = try fields.nested("ip").map { (ip) throws(RiskFeaturesError) in
            IPContext(country: try ip.countryCode("country"), hosting: try ip.bool("hosting"))
        }
        otp = try fields.nested("otp").map { (otp) throws(RiskFeaturesError) in OTPContext(channel: try otp.vocabulary("channel")) }
        telco = try fields.nested("telco").map(TelcoSignals.init(fields:))
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

extension JSONFields {
    /// An ISO 3166-1 alpha-2 code.
    func countryCode(_ key: String) throws(RiskFeaturesError) -> String? {
        guard let code = try string(key) else { return nil }
        guard code.isUpperCaseCode(length: 2) else {
            throw .invalidValue(
                field: field(key), value: "\"\(code)\"", reason: "must be an ISO 3166-1 alpha-2 code of two upper-case letters")
        }
        return code
    }
}

extension String {
    func isUpperCaseCode(length: Int) -> Bool {
        utf8.count == length && utf8.allSatisfy { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") }
    }
}
