/// One customer action the bank wants scored: the event of ARCHITECTURE.md §5.1.
///
/// `id`, `occurred_at`, `customer_id` and `kind` are required; every other field is optional,
/// and a missing field means *unknown*, never *safe*. Decoding validates types, vocabularies,
/// timestamps and ranges, and names the offending field in a ``RiskFeaturesError``. Fields the
/// contract does not name are ignored here; the store keeps the raw JSON verbatim, so they stay
/// available to feature specs by dotted path.
///
/// ```swift
/// let event = try Event.decode(jsonLine: Array(#"{"id":"e1","occurred_at":"2026-03-01T02:14:07Z","customer_id":"c1","kind":"login"}"#.utf8))
/// event.kind  // .login
/// ```
public struct Event: Sendable, Hashable, Codable {
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

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decodeNonEmptyString(.id)
        occurredAt = try c.decode(Timestamp.self, forKey: .occurredAt)
        customerId = try c.decodeNonEmptyString(.customerId)
        kind = try c.decode(EventKind.self, forKey: .kind)
        amount = try c.decodeIfPresent(Double.self, forKey: .amount)
        if let amount, !(amount.isFinite && amount >= 0) {
            throw c.invalid(.amount, "\(amount)", "must be a finite, non-negative number")
        }
        currency = try c.decodeIfPresent(String.self, forKey: .currency)
        if let currency, !currency.isUpperCaseCode(length: 3) {
            throw c.invalid(.currency, "\"\(currency)\"", "must be an ISO 4217 code of three upper-case letters")
        }
        channel = try c.decodeIfPresent(Channel.self, forKey: .channel)
        payee = try c.decodeIfPresent(Payee.self, forKey: .payee)
        device = try c.decodeIfPresent(Device.self, forKey: .device)
        ip = try c.decodeIfPresent(IPContext.self, forKey: .ip)
        otp = try c.decodeIfPresent(OTPContext.self, forKey: .otp)
        telco = try c.decodeIfPresent(TelcoSignals.self, forKey: .telco)
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
public struct Payee: Sendable, Hashable, Codable {
    public var id: String?
    /// The customer has never paid this beneficiary before.
    public var new: Bool?

    public init(id: String? = nil, new: Bool? = nil) {
        self.id = id
        self.new = new
    }
}

/// The bank's own device fingerprint.
public struct Device: Sendable, Hashable, Codable {
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
public struct IPContext: Sendable, Hashable, Codable {
    /// ISO 3166-1 alpha-2.
    public var country: String?
    /// The address belongs to a hosting provider or VPN.
    public var hosting: Bool?

    public init(country: String? = nil, hosting: Bool? = nil) {
        self.country = country
        self.hosting = hosting
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        country = try c.decodeCountryCodeIfPresent(.country)
        hosting = try c.decodeIfPresent(Bool.self, forKey: .hosting)
    }
}

/// How a step-up one-time code would be delivered.
public struct OTPContext: Sendable, Hashable, Codable {
    public var channel: OTPChannel?

    public init(channel: OTPChannel? = nil) {
        self.channel = channel
    }
}

public enum OTPChannel: String, ContractEnum {
    case sms, voice, app, none
}

extension KeyedDecodingContainer {
    func invalid(_ key: Key, _ value: String, _ reason: String) -> RiskFeaturesError {
        .invalidValue(field: (codingPath + [key]).dottedPath, value: value, reason: reason)
    }

    func decodeNonEmptyString(_ key: Key) throws -> String {
        let value = try decode(String.self, forKey: key)
        guard !value.isEmpty else { throw invalid(key, "\"\"", "must not be empty") }
        return value
    }

    func decodeCountryCodeIfPresent(_ key: Key) throws -> String? {
        let value = try decodeIfPresent(String.self, forKey: key)
        if let value, !value.isUpperCaseCode(length: 2) {
            throw invalid(key, "\"\(value)\"", "must be an ISO 3166-1 alpha-2 code of two upper-case letters")
        }
        return value
    }

    func decodeCountIfPresent(_ key: Key) throws -> Int? {
        let value = try decodeIfPresent(Int.self, forKey: key)
        if let value, value < 0 { throw invalid(key, "\(value)", "must not be negative") }
        return value
    }
}

extension String {
    func isUpperCaseCode(length: Int) -> Bool {
        utf8.count == length && utf8.allSatisfy { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") }
    }
}
