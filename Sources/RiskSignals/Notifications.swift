import AsyncHTTPClient
import Foundation
import JWTKit
import NIOCore
import RiskContract

/// The sink credentials RiskLoop gives an operator when it subscribes to a line's events: a
/// token per subscription (HS256 under the deployment's notification secret) naming the line,
/// the operator and the APIs, valid until the subscription ends. A notification is accepted only
/// with such a token, and only about the line and APIs the token names.
public struct SinkCredentials: Sendable {
    let keys: JWTKeyCollection

    public init(secret: [UInt8]) async {
        keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
    }

    /// The audience every sink token names.
    static let audience = "riskloop-telco-notifications"

    struct Claims: JWTPayload {
        var sub: SubjectClaim
        var aud: AudienceClaim
        var iat: IssuedAtClaim
        var exp: ExpirationClaim
        var op: String
        var apis: [String]

        func verify(using algorithm: some JWTAlgorithm) throws {
            try exp.verifyNotExpired()
            try aud.verifyIntendedAudience(includes: SinkCredentials.audience)
        }
    }

    /// What a valid token grants.
    public struct Grant: Sendable, Equatable {
        public var phoneNumber: String
        public var operatorName: String
        public var apis: Set<OperatorAPI>
        public var expires: Timestamp
    }

    /// A token for `phoneNumber`'s `apis` at `operatorName`, valid until `expires`.
    public func issue(phoneNumber: String, operatorName: String, apis: Set<OperatorAPI>, expires: Date) async throws -> String {
        try await keys.sign(
            Claims(
                sub: .init(value: phoneNumber), aud: .init(value: [Self.audience]), iat: .init(value: Date()), exp: .init(value: expires),
                op: operatorName, apis: apis.sorted().map(\.rawValue)))
    }

    /// The grant of `token`; `nil` when it is not one of ours, or has expired.
    public func verify(_ token: String) async -> Grant? {
        guard let claims = try? await keys.verify(token, as: Claims.self) else { return nil }
        return Grant(
            phoneNumber: claims.sub.value, operatorName: claims.op, apis: Set(claims.apis.compactMap(OperatorAPI.init(rawValue:))),
            expires: Timestamp(millisecondsSinceEpoch: Int64(claims.exp.value.timeIntervalSince1970 * 1000)))
    }
}

/// A CAMARA subscription event (a CloudEvent), read into what it tells about a line.
public struct TelcoNotification: Sendable, Equatable {
    public var type: String
    public var phoneNumber: String
    public var api: OperatorAPI
    /// The signal's new value; `nil` for an event about the subscription itself.
    public var value: SignalValue?
    /// The subscription ended: the line is no longer covered.
    public var ends: Bool
    public var time: Timestamp

    /// The event types RiskLoop reads, by API.
    public static let prefixes: [(String, OperatorAPI)] = [
        ("org.camaraproject.sim-swap-subscriptions.v0.", .simSwap),
        ("org.camaraproject.device-roaming-status-subscriptions.v0.", .roaming),
        ("org.camaraproject.device-reachability-status-subscriptions.v0.", .reachability),
    ]

    /// Reads a CloudEvent (`specversion` 1.0, `id`, `source`, `type`, `time`, `data`).
    ///
    /// - Throws: ``NotificationError/invalid(field:reason:)`` naming the member.
    public init(cloudEvent: JSONValue, receivedAt now: Timestamp) throws(NotificationError) {
        guard case .object(let event) = cloudEvent else { throw .invalid(field: nil, reason: "a CloudEvent is a JSON object") }
        func text(_ name: String) throws(NotificationError) -> String {
            guard case .string(let value)? = event[name], !value.isEmpty else {
                throw .invalid(field: name, reason: "must be a non-empty string")
            }
            return value
        }
        guard try text("specversion") == "1.0" else { throw .invalid(field: "specversion", reason: "must be 1.0") }
        _ = try text("id")
        _ = try text("source")
        let type = try text("type")
        guard let (prefix, api) = Self.prefixes.first(where: { type.hasPrefix($0.0) }) else {
            throw .invalid(field: "type", reason: "not a SIM swap, roaming or reachability subscription event")
        }
        var time = now
        if event["time"] != nil {
            guard let parsed = Timestamp(rfc3339: try text("time")) else {
                throw .invalid(field: "time", reason: "not an RFC 3339 date-time")
            }
            time = parsed
        }
        guard case .object(let data)? = event["data"] else { throw .invalid(field: "data", reason: "must be an object") }
        var phone: String?
        if case .string(let number)? = data["phoneNumber"] { phone = number }
        if case .object(let device)? = data["device"], case .string(let number)? = device["phoneNumber"] { phone = number }
        guard let phone, PhoneNumber.isE164(phone) else {
            throw .invalid(field: "data.phoneNumber", reason: "the line must be named by an E.164 phoneNumber (or device.phoneNumber)")
        }
        var countries: [String] = []
        if case .array(let names)? = data["countryName"] {
            countries = names.compactMap { if case .string(let code) = $0, code.count == 2 { code } else { nil } }
        }
        let name = String(type.dropFirst(prefix.count))
        var value: SignalValue?
        var ends = false
        switch (api, name) {
        case (.simSwap, "swapped"): value = .swap(SwapSignal(latestChange: time.truncatedToSecond))
        case (.roaming, "roaming-on"), (.roaming, "roaming-change-country"):
            value = .roaming(RoamingStatus(roaming: true, countryCodes: countries, lastStatusTime: time.truncatedToSecond))
        case (.roaming, "roaming-off"):
            value = .roaming(RoamingStatus(roaming: false, countryCodes: [], lastStatusTime: time.truncatedToSecond))
        case (.roaming, "roaming-status"):
            guard case .bool(let roaming)? = data["roaming"] else { throw .invalid(field: "data.roaming", reason: "must be true or false") }
            value = .roaming(
                RoamingStatus(roaming: roaming, countryCodes: roaming ? countries : [], lastStatusTime: time.truncatedToSecond))
        case (.reachability, "reachability-data"): value = .reachability(ReachabilityStatus(reachable: true, connectivity: [.data]))
        case (.reachability, "reachability-sms"): value = .reachability(ReachabilityStatus(reachable: true, connectivity: [.sms]))
        case (.reachability, "reachability-disconnected"): value = .reachability(ReachabilityStatus(reachable: false, connectivity: []))
        case (_, "subscription-started"), (_, "subscription-updated"): break
        case (_, "subscription-ends"), (_, "subscription-ended"): ends = true
        default: throw .invalid(field: "type", reason: "\(type) is not an event RiskLoop reads")
        }
        self.type = type
        phoneNumber = phone
        self.api = api
        self.value = value
        self.ends = ends
        self.time = time
    }
}

public enum NotificationError: Error, Sendable, Equatable {
    /// No sink token, or not one RiskLoop issued, or expired, or for another line or API.
    case unauthenticated(String)
    case invalid(field: String?, reason: String)
}

extension Enricher {
    /// Applies a notification the operator pushed under `grant`: the line is covered by a
    /// subscription until the grant expires (cached answers of its API live that long), and a
    /// new value is known from now on without a call.
    ///
    /// - Throws: ``NotificationError/unauthenticated(_:)`` when the grant is for another line or API.
    public func receive(_ notification: TelcoNotification, grant: SinkCredentials.Grant, at now: Timestamp) throws(NotificationError) {
        guard grant.phoneNumber == notification.phoneNumber else {
            throw .unauthenticated("the sink token was issued for another line")
        }
        guard grant.apis.contains(notification.api) else {
            throw .unauthenticated("the sink token does not cover \(notification.api.rawValue)")
        }
        if notification.ends {
            cache.cover(notification.phoneNumber, notification.api, until: nil)
            return
        }
        cache.cover(notification.phoneNumber, notification.api, until: grant.expires)
        if let value = notification.value {
            cache.store(value, notification.api, of: notification.phoneNumber, until: grant.expires, pushed: true, now: now)
        }
        metrics?.notified(notification.api)
    }
}

/// A subscription an operator created (its answer's members RiskLoop keeps).
public struct Subscription: Sendable, Equatable, Encodable {
    public var operatorName: String
    public var api: OperatorAPI
    public var phoneNumber: String
    public var id: String
    public var status: String
    public var expiresAt: String?

    enum CodingKeys: String, CodingKey {
        case api, id, status
        case operatorName = "operator"
        case phoneNumber = "phone_number"
        case expiresAt = "expires_at"
    }
}

extension OperatorClient {
    /// Asks the operator to push `api`'s events about `phoneNumber` to `sink` until `expires`,
    /// presenting `sinkToken` with each (CAMARA's `sinkCredential`, an access token).
    public func subscribe(
        _ api: OperatorAPI, phoneNumber: String, sink: String, sinkToken: String, expires: Timestamp, deadline: NIODeadline
    ) async -> Result<Subscription, SignalFailure> {
        guard let (path, types) = OperatorConfiguration.subscriptionAPIs[api] else { return .failure(.notOffered) }
        let token: String
        switch await tokens.token(deadline: deadline) {
        case .success(let value): token = value
        case .failure(let failure): return .failure(failure)
        }
        let line: JSONValue = .object(JSONObject([.init(key: "phoneNumber", value: .string(phoneNumber))]))
        let detail: JSONValue =
            api == .simSwap ? line : .object(JSONObject([.init(key: "device", value: line)]))
        let body: JSONValue = .object(
            JSONObject([
                .init(key: "protocol", value: .string("HTTP")), .init(key: "sink", value: .string(sink)),
                .init(
                    key: "sinkCredential",
                    value: .object(
                        JSONObject([
                            .init(key: "credentialType", value: .string("ACCESSTOKEN")),
                            .init(key: "accessToken", value: .string(sinkToken)),
                            .init(key: "accessTokenExpiresUtc", value: .string(expires.rfc3339)),
                            .init(key: "accessTokenType", value: .string("bearer")),
                        ]))),
                .init(key: "types", value: .array(types.map { .string($0) })),
                .init(
                    key: "config",
                    value: .object(
                        JSONObject([
                            .init(key: "subscriptionDetail", value: detail),
                            .init(key: "subscriptionExpireTime", value: .string(expires.rfc3339)),
                        ]))),
            ]))
        var request = HTTPClientRequest(url: configuration.baseURL + path)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        request.body = .bytes(ByteBuffer(bytes: (try? JSONEncoder().encode(body)) ?? Data()))
        do {
            let response = try await http.execute(request, deadline: deadline)
            let bytes = Array(try await response.body.collect(upTo: 1 << 16).readableBytesView)
            guard response.status == .created || response.status == .accepted else {
                return .failure(
                    .operatorError(status: Int(response.status.code), code: Self.errorCode(bytes) ?? "HTTP_\(response.status.code)"))
            }
            guard case .object(let answer)? = try? JSONValue.parse(bytes), case .string(let id)? = answer["id"] else {
                return .failure(.badAnswer)
            }
            var status = "ACTIVATION_REQUESTED", expiresAt: String?
            if case .string(let text)? = answer["status"] { status = text }
            if case .string(let text)? = answer["expiresAt"] { expiresAt = text }
            return .success(
                Subscription(
                    operatorName: configuration.name, api: api, phoneNumber: phoneNumber, id: id, status: status, expiresAt: expiresAt))
        } catch {
            return .failure(NIODeadline.now() >= deadline ? .timeout : .unreachable)
        }
    }
}
