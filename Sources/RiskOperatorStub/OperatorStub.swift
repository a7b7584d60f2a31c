import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import JWTKit
import Logging
import NIOFoundationCompat
import RiskContract
import RiskSignals
import ServiceLifecycle
import Synchronization

/// A mobile operator for tests, the demo and benchmarks: the CAMARA APIs RiskLoop reads and an
/// OAuth 2.0 token endpoint (client credentials with `private_key_jwt`), with CAMARA's request
/// and response shapes, answering from an ``OperatorView``.
///
/// Faults can be injected (``Faults``): latency, a fixed error for some APIs, a random share of
/// `503 UNAVAILABLE`, a rate limit (`429 TOO_MANY_REQUESTS`) and a quota (`429 QUOTA_EXCEEDED`).
///
/// A request may carry `x-riskloop-as-of` (RFC 3339): the stub then answers as of that time
/// instead of now, so a replay of simulated days sees the operator as it was then. A real
/// operator has no such header; RiskLoop sends it only in `riskloop demo`.
public final class OperatorStub: Sendable {
    public struct Faults: Sendable, Equatable {
        /// Added before every API answer (not the token endpoint's).
        public var latency: Duration = .zero
        /// Every call of these APIs is answered with this status and CAMARA code.
        public var failing: [OperatorAPI: CAMARA.ErrorInfo] = [:]
        /// This share of calls, at random, is answered `503 UNAVAILABLE`.
        public var errorRate = 0.0
        /// Calls beyond this many a second are answered `429 TOO_MANY_REQUESTS`.
        public var rateLimitPerSecond: Int?
        /// Calls beyond this many in all are answered `429 QUOTA_EXCEEDED`.
        public var quota: Int?

        public init() {}
    }

    public let view: OperatorView
    /// Registered clients: their id and the public key their assertions are signed with.
    let clients: [String: JWTKeyCollection]
    public let tokenLifetime: Duration
    /// SIM and device swaps older than this many days are answered `null` with `monitoredPeriod`.
    public let monitoredPeriodDays: Int?
    private let faults: Mutex<Faults>
    private let state = Mutex(State())

    /// A subscription the stub holds: where and with which token to push its line's events.
    public struct Held: Sendable, Equatable {
        public var id: String
        public var api: OperatorAPI
        public var phoneNumber: String
        public var sink: String
        public var sinkToken: String
        public var types: [String]
        public var expires: Timestamp
    }

    struct State {
        var subscriptions: [Held] = []
        var tokens: [String: (client: String, scopes: Set<String>, expires: ContinuousClock.Instant)] = [:]
        var assertionIds: Set<String> = []
        var calls: [OperatorAPI: Int] = [:]
        var tokensIssued = 0
        var second: (start: ContinuousClock.Instant, count: Int) = (.now, 0)
    }

    public init(
        view: OperatorView, clients: [String: ES256PublicKey], tokenLifetime: Duration = .seconds(3_600), monitoredPeriodDays: Int? = nil,
        faults: Faults = Faults()
    ) async {
        self.view = view
        var collections: [String: JWTKeyCollection] = [:]
        for (id, key) in clients {
            let collection = JWTKeyCollection()
            await collection.add(ecdsa: key)
            collections[id] = collection
        }
        self.clients = collections
        self.tokenLifetime = tokenLifetime
        self.monitoredPeriodDays = monitoredPeriodDays
        self.faults = Mutex(faults)
    }

    /// Changes the injected faults from here on.
    public func inject(_ faults: Faults) { self.faults.withLock { $0 = faults } }

    /// The subscriptions created so far.
    public var subscriptions: [Held] { state.withLock { $0.subscriptions } }

    /// Calls answered so far, per API (whatever the answer), and tokens issued.
    public var calls: [OperatorAPI: Int] { state.withLock { $0.calls } }
    public var tokensIssued: Int { state.withLock { $0.tokensIssued } }

    /// The token endpoint's path.
    public static let tokenPath = "/oauth/token"

    public func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.post(RouterPath(Self.tokenPath)) { request, context in
            try await self.issueToken(request, context)
        }
        for api in OperatorAPI.allCases {
            router.post(RouterPath(api.path)) { request, context in
                await self.answer(api, request, context)
            }
        }
        for (api, subscription) in OperatorConfiguration.subscriptionAPIs {
            router.post(RouterPath(subscription.path)) { request, context in
                await self.subscribe(api, request, context)
            }
        }
        return router
    }

    // MARK: Tokens

    private func oauthError(_ status: HTTPResponse.Status, _ error: String, _ description: String) -> Response {
        let body = #"{"error":"\#(error)","error_description":"\#(description)"}"#
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    func issueToken(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let body = try await request.body.collect(upTo: 1 << 16)
        var form = URLComponents()
        form.percentEncodedQuery = String(buffer: body)
        var fields: [String: String] = [:]
        for item in form.queryItems ?? [] { fields[item.name] = item.value ?? "" }
        guard fields["grant_type"] == "client_credentials" else {
            return oauthError(.badRequest, "unsupported_grant_type", "only client_credentials")
        }
        guard fields["client_assertion_type"] == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            let assertion = fields["client_assertion"]
        else { return oauthError(.badRequest, "invalid_client", "a private_key_jwt client assertion is required") }
        // The client is named by the assertion; its signature is then checked with that client's key.
        guard let unverified = try? await JWTKeyCollection().unverified(assertion, as: CAMARA.ClientAssertion.self),
            let keys = clients[unverified.iss.value]
        else { return oauthError(.unauthorized, "invalid_client", "unknown client") }
        guard let claims = try? await keys.verify(assertion, as: CAMARA.ClientAssertion.self), claims.sub.value == claims.iss.value,
            claims.aud.value.contains(where: { $0.hasSuffix(Self.tokenPath) }),
            claims.exp.value.timeIntervalSince(claims.iat.value) <= 300
        else { return oauthError(.unauthorized, "invalid_client", "the assertion is not valid") }
        let fresh = state.withLock { $0.assertionIds.insert(claims.jti.value).inserted }
        guard fresh else { return oauthError(.unauthorized, "invalid_client", "the assertion was used before") }
        let known = Set(OperatorAPI.allCases.map(\.scope))
        let requested = Set((fields["scope"] ?? "").split(separator: " ").map(String.init))
        guard requested.isSubset(of: known) else { return oauthError(.badRequest, "invalid_scope", "unknown scope") }
        let token = UUID().uuidString
        let lifetime = tokenLifetime
        state.withLock { state in
            state.tokens[token] = (claims.iss.value, requested, .now + lifetime)
            state.tokensIssued += 1
        }
        let body2 =
            #"{"access_token":"\#(token)","token_type":"Bearer","expires_in":\#(lifetime.components.seconds),"scope":"\#(requested.sorted().joined(separator: " "))"}"#
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: body2)))
    }

    // MARK: The APIs

    private func error(_ status: Int, _ code: String, _ message: String, correlator: String?) -> Response {
        let info = CAMARA.ErrorInfo(status: status, code: code, message: message)
        return json(info, status: HTTPResponse.Status(code: status), correlator: correlator)
    }

    private func json(_ value: some Encodable, status: HTTPResponse.Status = .ok, correlator: String?) -> Response {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let correlator { headers[HTTPField.Name("x-correlator")!] = correlator }
        let data = (try? JSONEncoder().encode(value)) ?? Data()
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    func answer(_ api: OperatorAPI, _ request: Request, _ context: BasicRequestContext) async -> Response {
        var request = request
        let correlator = request.headers[HTTPField.Name("x-correlator")!]
        if let correlator, !CAMARA.isCorrelator(correlator) {
            return error(400, "INVALID_ARGUMENT", "x-correlator does not match its pattern", correlator: nil)
        }
        // Authentication first: a call without a valid token learns nothing.
        let presented = request.headers[.authorization].flatMap { $0.hasPrefix("Bearer ") ? String($0.dropFirst(7)) : nil }
        let grant = presented.flatMap { token in state.withLock { $0.tokens[token] } }
        guard let grant, ContinuousClock.now < grant.expires else {
            return error(
                401, "UNAUTHENTICATED", "Request not authenticated due to missing, invalid, or expired credentials.", correlator: correlator
            )
        }
        guard grant.scopes.contains(api.scope) else {
            return error(
                403, "PERMISSION_DENIED", "Client does not have sufficient permissions to perform this action.", correlator: correlator)
        }
        let faults = self.faults.withLock { $0 }
        let counted = state.withLock { state -> (calls: Int, thisSecond: Int) in
            state.calls[api, default: 0] += 1
            let now = ContinuousClock.now
            if now - state.second.start >= .seconds(1) { state.second = (now, 0) }
            state.second.count += 1
            return (state.calls.values.reduce(0, +), state.second.count)
        }
        if faults.latency > .zero { try? await Task.sleep(for: faults.latency) }
        if let quota = faults.quota, counted.calls > quota {
            return error(429, "QUOTA_EXCEEDED", "Out of resource quota.", correlator: correlator)
        }
        if let rate = faults.rateLimitPerSecond, counted.thisSecond > rate {
            return error(429, "TOO_MANY_REQUESTS", "Rate limit reached.", correlator: correlator)
        }
        if let failure = faults.failing[api] {
            return error(failure.status, failure.code, failure.message, correlator: correlator)
        }
        if faults.errorRate > 0, Double.random(in: 0..<1) < faults.errorRate {
            return error(503, "UNAVAILABLE", "Service unavailable.", correlator: correlator)
        }
        // Read with the contract's JSON parser: an object whose phoneNumber and specifiedDate,
        // when present, are strings.
        guard let buffer = try? await request.body.collect(upTo: 1 << 16),
            case .object(let object)? = try? JSONValue.parse(buffer.readableBytesView)
        else {
            return error(
                400, "INVALID_ARGUMENT", "Client specified an invalid argument, request body or query param.", correlator: correlator)
        }
        var body = CAMARA.Request(phoneNumber: nil)
        for (name, value) in [("phoneNumber", object["phoneNumber"]), ("specifiedDate", object["specifiedDate"])] {
            guard let value else { continue }
            guard case .string(let text) = value else {
                return error(400, "INVALID_ARGUMENT", "\(name) must be a string.", correlator: correlator)
            }
            if name == "phoneNumber" { body.phoneNumber = text } else { body.specifiedDate = text }
        }
        guard let number = body.phoneNumber else {
            return error(422, "MISSING_IDENTIFIER", "The device cannot be identified.", correlator: correlator)
        }
        guard PhoneNumber.isE164(number) else {
            return error(400, "INVALID_ARGUMENT", "phoneNumber is not an E.164 number.", correlator: correlator)
        }
        var asOf = Timestamp(millisecondsSinceEpoch: Int64(Date().timeIntervalSince1970 * 1000))
        if let text = request.headers[HTTPField.Name("x-riskloop-as-of")!] {
            guard let time = Timestamp(rfc3339: text) else {
                return error(400, "INVALID_ARGUMENT", "x-riskloop-as-of is not an RFC 3339 date-time.", correlator: correlator)
            }
            asOf = time
        }
        guard let (observation, subscriberSince) = view.state(of: number, at: asOf) else {
            return error(404, "IDENTIFIER_NOT_FOUND", "Device identifier not found.", correlator: correlator)
        }
        let notApplicable = error(
            422, "SERVICE_NOT_APPLICABLE", "The service is not available for the provided identifier.", correlator: correlator)
        let telco = observation.telco
        switch api {
        case .simSwap:
            guard let swap = telco.simSwap else { return notApplicable }
            let (change, period) = monitored(swap, asOf: asOf)
            return json(CAMARA.SwapInfo(.simSwap, latestChange: change, monitoredPeriod: period), correlator: correlator)
        case .deviceSwap:
            guard let swap = telco.deviceSwap else { return notApplicable }
            let (change, period) = monitored(swap, asOf: asOf)
            return json(CAMARA.SwapInfo(.deviceSwap, latestChange: change, monitoredPeriod: period), correlator: correlator)
        case .callForwarding:
            guard let services = telco.callForwarding, !services.isEmpty else { return notApplicable }
            return json(services.map(\.rawValue), correlator: correlator)
        case .roaming:
            guard let roaming = telco.roaming, let flag = roaming.roaming else { return notApplicable }
            let countries = flag ? roaming.countryCodes : nil
            return json(
                CAMARA.RoamingStatusInfo(
                    roaming: flag, countryCode: nil, countryName: countries?.isEmpty == true ? nil : countries,
                    lastStatusTime: roaming.lastStatusTime?.rfc3339), correlator: correlator)
        case .reachability:
            guard let reachability = telco.reachability, let reachable = reachability.reachable else { return notApplicable }
            return json(
                CAMARA.ReachabilityStatusInfo(
                    reachable: reachable, connectivity: reachable ? reachability.connectivity?.map(\.rawValue) : nil, lastStatusTime: nil),
                correlator: correlator)
        case .numberRecycling:
            guard let date = body.specifiedDate, date.count == 10, let day = Timestamp(rfc3339: date + "T00:00:00Z") else {
                return error(400, "INVALID_ARGUMENT", "specifiedDate must be a date (YYYY-MM-DD).", correlator: correlator)
            }
            // Changed after that date: a new subscriber from the next day on.
            let recycled = subscriberSince.map { $0 >= day.adding(days: 1) } ?? false
            return json(CAMARA.NumberRecyclingInfo(phoneNumberRecycled: recycled), correlator: correlator)
        }
    }

    // MARK: Subscriptions

    /// Creates a subscription (CAMARA's subscription APIs: `protocol` HTTP, `sink`, a
    /// `sinkCredential` access token, `types` of this API, the line in `config.subscriptionDetail`)
    /// and pushes its `subscription-started` event to the sink.
    func subscribe(_ api: OperatorAPI, _ request: Request, _ context: BasicRequestContext) async -> Response {
        let presented = request.headers[.authorization].flatMap { $0.hasPrefix("Bearer ") ? String($0.dropFirst(7)) : nil }
        guard let grant = presented.flatMap({ token in state.withLock { $0.tokens[token] } }), ContinuousClock.now < grant.expires else {
            return error(
                401, "UNAUTHENTICATED", "Request not authenticated due to missing, invalid, or expired credentials.", correlator: nil)
        }
        guard let buffer = try? await request.body.collect(upTo: 1 << 16),
            case .object(let body)? = try? JSONValue.parse(buffer.readableBytesView),
            body["protocol"] == .string("HTTP"), case .string(let sink)? = body["sink"], URL(string: sink)?.host != nil,
            case .object(let credential)? = body["sinkCredential"], credential["credentialType"] == .string("ACCESSTOKEN"),
            case .string(let sinkToken)? = credential["accessToken"], case .array(let typeValues)? = body["types"], !typeValues.isEmpty,
            case .object(let config)? = body["config"], case .object(let detail)? = config["subscriptionDetail"]
        else {
            return error(400, "INVALID_ARGUMENT", "Client specified an invalid argument, request body or query param.", correlator: nil)
        }
        let types = typeValues.compactMap { if case .string(let type) = $0 { type } else { nil } }
        let prefix = TelcoNotification.prefixes.first { $0.1 == api }!.0
        guard types.count == typeValues.count, types.allSatisfy({ $0.hasPrefix(prefix) }) else {
            return error(400, "INVALID_ARGUMENT", "types must be events of this API.", correlator: nil)
        }
        var line: JSONObject = detail
        if case .object(let device)? = detail["device"] { line = device }
        guard case .string(let number)? = line["phoneNumber"], PhoneNumber.isE164(number) else {
            return error(422, "MISSING_IDENTIFIER", "The device cannot be identified.", correlator: nil)
        }
        guard view.lines[number] != nil else { return error(404, "IDENTIFIER_NOT_FOUND", "Device identifier not found.", correlator: nil) }
        let now = Timestamp(millisecondsSinceEpoch: Int64(Date().timeIntervalSince1970 * 1000))
        var expires = now.adding(days: 30)
        if case .string(let text)? = config["subscriptionExpireTime"], let time = Timestamp(rfc3339: text) { expires = time }
        let held = Held(
            id: UUID().uuidString, api: api, phoneNumber: number, sink: sink, sinkToken: sinkToken, types: types, expires: expires)
        state.withLock { $0.subscriptions.append(held) }
        var answer = body
        answer.members.removeAll { $0.key == "sinkCredential" }
        answer.members += [
            .init(key: "id", value: .string(held.id)), .init(key: "startsAt", value: .string(now.rfc3339)),
            .init(key: "expiresAt", value: .string(expires.rfc3339)), .init(key: "status", value: .string("ACTIVE")),
        ]
        _ = await deliver(prefix + "subscription-started", to: held, data: [:], at: now)
        return json(JSONValue.object(answer), status: .created, correlator: nil)
    }

    /// Pushes an event of `type` about `phoneNumber` to every subscription that asked for it
    /// (with `data` beside `phoneNumber` and `subscriptionId`).
    ///
    /// - Returns: the HTTP status of each delivery.
    @discardableResult
    public func push(_ type: String, phoneNumber: String, data: [String: JSONValue] = [:], at time: Timestamp) async -> [Int] {
        let targets = state.withLock { $0.subscriptions.filter { $0.phoneNumber == phoneNumber && $0.types.contains(type) } }
        var statuses: [Int] = []
        for held in targets { statuses.append(await deliver(type, to: held, data: data, at: time)) }
        return statuses
    }

    /// Posts one CloudEvent to a subscription's sink with its token; the status, or 0 when it
    /// could not be delivered.
    private func deliver(_ type: String, to held: Held, data: [String: JSONValue], at time: Timestamp) async -> Int {
        var members: [JSONObject.Member] = [.init(key: "subscriptionId", value: .string(held.id))]
        let line = JSONValue.object(JSONObject([.init(key: "phoneNumber", value: .string(held.phoneNumber))]))
        members.append(
            held.api == .simSwap ? .init(key: "phoneNumber", value: .string(held.phoneNumber)) : .init(key: "device", value: line))
        for (key, value) in data.sorted(by: { $0.key < $1.key }) { members.append(.init(key: key, value: value)) }
        let event = JSONValue.object(
            JSONObject([
                .init(key: "id", value: .string(UUID().uuidString)), .init(key: "source", value: .string("riskloop-operator-stub")),
                .init(key: "type", value: .string(type)), .init(key: "specversion", value: .string("1.0")),
                .init(key: "datacontenttype", value: .string("application/json")), .init(key: "time", value: .string(time.rfc3339)),
                .init(key: "data", value: .object(JSONObject(members))),
            ]))
        var request = HTTPClientRequest(url: held.sink)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/cloudevents+json")
        request.headers.add(name: "Authorization", value: "Bearer \(held.sinkToken)")
        request.body = .bytes(ByteBuffer(bytes: (try? JSONEncoder().encode(event)) ?? Data()))
        guard let response = try? await HTTPClient.shared.execute(request, timeout: .seconds(60)) else { return 0 }
        _ = try? await response.body.collect(upTo: 1 << 16)
        return Int(response.status.code)
    }

    /// A swap as answered at `asOf`: `null` with the monitored period when it is older than that.
    private func monitored(_ swap: SwapSignal, asOf: Timestamp) -> (String?, Int?) {
        let period = monitoredPeriodDays ?? swap.monitoredPeriodDays
        guard let change = swap.latestChange, change <= asOf else { return (nil, period) }
        if let period, change < asOf.adding(days: -Double(period)) { return (nil, period) }
        return (change.rfc3339, period)
    }
}

extension OperatorStub {
    /// The stub as an application on `host:port` (0: a free port); `running` gets the base URL
    /// once it accepts connections.
    public func application(
        host: String = "127.0.0.1", port: Int = 0, logger: Logger? = nil, running: @escaping @Sendable (String) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        var log = logger ?? Logger(label: "riskloop.operator-stub")
        if logger == nil { log.logLevel = .warning }
        return Application(
            router: router(), configuration: .init(address: .hostname(host, port: port), serverName: "riskloop-operator-stub"),
            onServerRunning: { channel in await running("http://\(host):\(channel.localAddress?.port ?? port)") }, logger: log)
    }

    /// Runs `body` with the stub served on a free local port (its base URL), then shuts the stub
    /// down gracefully.
    public func whileServing<T: Sendable>(_ body: @Sendable (String) async throws -> T) async throws -> T {
        let (urls, continuation) = AsyncStream.makeStream(of: String.self)
        var logger = Logger(label: "riskloop.operator-stub")
        logger.logLevel = .warning
        let group = ServiceGroup(
            configuration: .init(services: [application(logger: logger) { url in continuation.yield(url) }], logger: logger))
        let serving = Task { try await group.run() }
        var iterator = urls.makeAsyncIterator()
        guard let url = await iterator.next() else { throw CancellationError() }
        let result: Result<T, any Error>
        do { result = .success(try await body(url)) } catch { result = .failure(error) }
        await group.triggerGracefulShutdown()
        try await serving.value
        return try result.get()
    }
}
