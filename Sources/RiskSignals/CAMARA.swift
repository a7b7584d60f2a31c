import Foundation
import JWTKit
import RiskContract

/// The CAMARA operator APIs RiskLoop reads, each behind one field of the event's `telco` object
/// (`../shared/CAMARA.md`; the camaraproject API definitions are the reference).
///
/// Every call is a `POST` with a JSON body naming the line by `phoneNumber` (E.164), under
/// `{base_url}/<api>/<version>`.
public enum OperatorAPI: String, CaseIterable, Sendable, Codable, Comparable {
    case simSwap = "sim_swap"
    case deviceSwap = "device_swap"
    case callForwarding = "call_forwarding"
    case roaming
    case reachability
    case numberRecycling = "number_recycling"

    /// The path under the operator's base URL.
    public var path: String {
        switch self {
        case .simSwap: "/sim-swap/v2/retrieve-date"
        case .deviceSwap: "/device-swap/v1/retrieve-date"
        case .callForwarding: "/call-forwarding-signal/v0.4/call-forwardings"
        case .roaming: "/device-roaming-status/v1/retrieve"
        case .reachability: "/device-reachability-status/v1/retrieve"
        case .numberRecycling: "/number-recycling/v0.2/check"
        }
    }

    /// The OAuth scope of the operation.
    public var scope: String {
        switch self {
        case .simSwap: "sim-swap:retrieve-date"
        case .deviceSwap: "device-swap:retrieve-date"
        case .callForwarding: "call-forwarding-signal:call-forwardings:read"
        case .roaming: "device-roaming-status:read"
        case .reachability: "device-reachability-status:read"
        case .numberRecycling: "number-recycling:check"
        }
    }

    /// The member of the event's `telco` object the answer fills.
    public var telcoField: String {
        switch self {
        case .numberRecycling: "number_recycled"
        default: rawValue
        }
    }

    /// Its place in ``allCases``: what orders and hashes it (hashing the raw value, a string, is
    /// what a raw-valued enum would do otherwise, and the signals are looked up on every request).
    var ordinal: Int {
        switch self {
        case .simSwap: 0
        case .deviceSwap: 1
        case .callForwarding: 2
        case .roaming: 3
        case .reachability: 4
        case .numberRecycling: 5
        }
    }

    /// ``allCases``, made once (read on every enriched request).
    static let ordered = allCases

    public static func < (lhs: OperatorAPI, rhs: OperatorAPI) -> Bool { lhs.ordinal < rhs.ordinal }

    public func hash(into hasher: inout Hasher) { hasher.combine(ordinal) }

    /// Whether `telco` carries this API's member.
    public func isCarried(by telco: TelcoSignals) -> Bool {
        switch self {
        case .simSwap: telco.simSwap != nil
        case .deviceSwap: telco.deviceSwap != nil
        case .callForwarding: telco.callForwarding != nil
        case .roaming: telco.roaming != nil
        case .reachability: telco.reachability != nil
        case .numberRecycling: telco.numberRecycled != nil
        }
    }
}

/// What an operator answered, in the contract's terms (the value of one `telco` member).
public enum SignalValue: Sendable, Hashable {
    case swap(SwapSignal)
    case callForwarding([CallForwardingService])
    case roaming(RoamingStatus)
    case reachability(ReachabilityStatus)
    case numberRecycled(Bool)

    /// The value as the event's `telco` member holds it.
    public var json: JSONValue {
        switch self {
        case .swap(let swap):
            var members = [JSONObject.Member(key: "latest_change", value: swap.latestChange.map { .string($0.rfc3339) } ?? .null)]
            if let days = swap.monitoredPeriodDays { members.append(.init(key: "monitored_period_days", value: .number(Double(days)))) }
            return .object(JSONObject(members))
        case .callForwarding(let services): return .array(services.map { .string($0.rawValue) })
        case .roaming(let roaming):
            var members: [JSONObject.Member] = []
            if let flag = roaming.roaming { members.append(.init(key: "roaming", value: .bool(flag))) }
            if let codes = roaming.countryCodes { members.append(.init(key: "country_codes", value: .array(codes.map { .string($0) }))) }
            if let time = roaming.lastStatusTime { members.append(.init(key: "last_status_time", value: .string(time.rfc3339))) }
            return .object(JSONObject(members))
        case .reachability(let reachability):
            var members: [JSONObject.Member] = []
            if let flag = reachability.reachable { members.append(.init(key: "reachable", value: .bool(flag))) }
            if let connectivity = reachability.connectivity {
                members.append(.init(key: "connectivity", value: .array(connectivity.map { .string($0.rawValue) })))
            }
            return .object(JSONObject(members))
        case .numberRecycled(let recycled): return .bool(recycled)
        }
    }

    /// ``json`` as text, keys sorted (as ``RiskContract/JSONLine`` writes it): written once when the
    /// answer arrives, then spliced into every event the cached answer completes.
    public var jsonText: String { JSONLine.text(json) }

    /// Sets `api`'s member of `telco` to the value: what reading the event's JSON with the value
    /// in its `telco` object gives (``Enrichment`` checks both ways agree in its tests).
    public func apply(_ api: OperatorAPI, to telco: inout TelcoSignals) {
        switch (api, self) {
        case (.simSwap, .swap(let swap)): telco.simSwap = swap
        case (.deviceSwap, .swap(let swap)): telco.deviceSwap = swap
        case (.callForwarding, .callForwarding(let services)): telco.callForwarding = services
        case (.roaming, .roaming(let roaming)): telco.roaming = roaming
        case (.reachability, .reachability(let reachability)): telco.reachability = reachability
        case (.numberRecycling, .numberRecycled(let recycled)): telco.numberRecycled = recycled
        default: preconditionFailure("\(api.rawValue) cannot hold \(self)")
        }
    }
}

/// The wire shapes of the CAMARA APIs (camelCase, as the API definitions name them).
public enum CAMARA {
    /// The body of every call: the line, and for Number Recycling the date to check from.
    public struct Request: Codable, Sendable, Equatable {
        public var phoneNumber: String?
        /// Number Recycling only: `YYYY-MM-DD`.
        public var specifiedDate: String?

        public init(phoneNumber: String?, specifiedDate: String? = nil) {
            self.phoneNumber = phoneNumber
            self.specifiedDate = specifiedDate
        }
    }

    /// SIM Swap and Device Swap `retrieve-date`: `latestSimChange` (or `latestDeviceChange`) is
    /// required and nullable (null: no swap within `monitoredPeriod` days), so it is written even
    /// when nil.
    public struct SwapInfo: Encodable, Sendable, Equatable {
        public var api: OperatorAPI
        public var latestChange: String?
        public var monitoredPeriod: Int?

        public init(_ api: OperatorAPI, latestChange: String?, monitoredPeriod: Int?) {
            precondition(api == .simSwap || api == .deviceSwap, "a swap answer is SIM Swap's or Device Swap's")
            self.api = api
            self.latestChange = latestChange
            self.monitoredPeriod = monitoredPeriod
        }

        struct Key: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: Key.self)
            try c.encode(latestChange, forKey: Key(stringValue: api == .simSwap ? "latestSimChange" : "latestDeviceChange"))
            try c.encodeIfPresent(monitoredPeriod, forKey: Key(stringValue: "monitoredPeriod"))
        }
    }

    /// The `private_key_jwt` client assertion of OAuth 2.0 client credentials (RFC 7523): the
    /// client names itself (`iss` = `sub`), the token endpoint (`aud`), a fresh `jti`, and a
    /// short life.
    public struct ClientAssertion: JWTPayload {
        public var iss: IssuerClaim
        public var sub: SubjectClaim
        public var aud: AudienceClaim
        public var jti: IDClaim
        public var iat: IssuedAtClaim
        public var exp: ExpirationClaim

        public init(client: String, audience: String, issuedAt: Date, lifetime: TimeInterval) {
            iss = .init(value: client)
            sub = .init(value: client)
            aud = .init(value: [audience])
            jti = .init(value: UUID().uuidString)
            iat = .init(value: issuedAt)
            exp = .init(value: issuedAt.addingTimeInterval(lifetime))
        }

        public func verify(using algorithm: some JWTAlgorithm) throws {
            try exp.verifyNotExpired()
        }
    }

    /// Device Roaming Status `retrieve`.
    public struct RoamingStatusInfo: Codable, Sendable, Equatable {
        public var roaming: Bool
        /// The visited network's mobile country code.
        public var countryCode: Int?
        /// ISO 3166-1 alpha-2 codes of the visited country.
        public var countryName: [String]?
        public var lastStatusTime: String?

        public init(roaming: Bool, countryCode: Int?, countryName: [String]?, lastStatusTime: String?) {
            self.roaming = roaming
            self.countryCode = countryCode
            self.countryName = countryName
            self.lastStatusTime = lastStatusTime
        }
    }

    /// Device Reachability Status `retrieve`.
    public struct ReachabilityStatusInfo: Codable, Sendable, Equatable {
        public var reachable: Bool
        /// `DATA`, `SMS`, or both; absent when not reachable.
        public var connectivity: [String]?
        public var lastStatusTime: String?

        public init(reachable: Bool, connectivity: [String]?, lastStatusTime: String?) {
            self.reachable = reachable
            self.connectivity = connectivity
            self.lastStatusTime = lastStatusTime
        }
    }

    /// Number Recycling `check`.
    public struct NumberRecyclingInfo: Codable, Sendable, Equatable {
        /// The subscriber of the number changed after the specified date.
        public var phoneNumberRecycled: Bool

        public init(phoneNumberRecycled: Bool) {
            self.phoneNumberRecycled = phoneNumberRecycled
        }
    }

    /// Every CAMARA error body.
    public struct ErrorInfo: Codable, Sendable, Equatable, Error {
        public var status: Int
        public var code: String
        public var message: String

        public init(status: Int, code: String, message: String) {
            self.status = status
            self.code = code
            self.message = message
        }
    }

    /// The call-forwarding services the API names.
    public static let callForwardingServices: Set<String> = [
        "inactive", "unconditional", "conditional_busy", "conditional_not_reachable", "conditional_no_answer",
    ]

    /// `^[a-zA-Z0-9-_:;.\/<>{}]{0,256}$`.
    public static func isCorrelator(_ text: String) -> Bool {
        text.utf8.count <= 256
            && text.unicodeScalars.allSatisfy { scalar in
                scalar.isASCII && (CharacterSet.alphanumerics.contains(scalar) || "-_:;./<>{}".unicodeScalars.contains(scalar))
            }
    }
}
