import AsyncHTTPClient
import Foundation
import JWTKit
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import RiskContract
import Synchronization

/// Why a signal is unknown: an operator's answer that is no answer, or a call not made.
public enum SignalFailure: Error, Sendable, Hashable {
    /// Not back within the request's deadline.
    case timeout
    /// The operator answered with a CAMARA error: its status and code (`404 IDENTIFIER_NOT_FOUND`).
    case operatorError(status: Int, code: String)
    /// No connection, or the connection broke.
    case unreachable
    /// An answer that is not the API's shape.
    case badAnswer
    /// The operator's circuit is open after repeated failures: not called.
    case circuitOpen
    /// This operator's agreed rate is used up this second: not called.
    case rateLimited
    /// No configured operator serves the number, or it does not offer the API.
    case notOffered
    /// The event does not say what the call needs (Number Recycling needs `customer.enrolled_at`).
    case missingInput(String)
    /// Not called: its answer could not change the decision (cost-aware acquisition).
    case notNeeded

    /// The reason as the decision log and the metrics name it.
    public var reason: String {
        switch self {
        case .timeout: "timeout"
        case .operatorError(let status, let code): "\(status) \(code)"
        case .unreachable: "unreachable"
        case .badAnswer: "bad_answer"
        case .circuitOpen: "circuit_open"
        case .rateLimited: "rate_limited"
        case .notOffered: "not_offered"
        case .missingInput(let field): "missing \(field)"
        case .notNeeded: "not_needed"
        }
    }

    /// Whether the failure is the operator's answer that the line has no such signal (`404
    /// IDENTIFIER_NOT_FOUND`, `422 SERVICE_NOT_APPLICABLE` and other 404s and 422s): cached like a
    /// value for the API's time to live.
    var isAnswerAboutTheNumber: Bool {
        if case .operatorError(let status, _) = self { return status == 404 || status == 422 }
        return false
    }

    /// Whether the failure says the operator is unwell (it counts towards opening its circuit).
    /// A 404 or 422 is an answer about the number, not a fault of the operator.
    var countsAgainstOperator: Bool {
        switch self {
        case .timeout, .unreachable, .badAnswer: true
        case .operatorError(let status, _): status >= 500 || status == 429
        default: false
        }
    }
}

/// Calls one operator's CAMARA APIs over HTTP (AsyncHTTPClient), authenticated with OAuth 2.0
/// client credentials and `private_key_jwt` client assertions (ES256, signed by JWTKit).
public final class OperatorClient: Sendable {
    public let configuration: OperatorConfiguration.Operator
    let http: HTTPClient
    let tokens: AccessTokens
    /// Sends `x-riskloop-as-of` with each call: the stub operator then answers as of that
    /// (simulated) time. Only `riskloop demo` sets it; a real operator ignores the header.
    let sendsAsOf: Bool
    /// Answers shared with other clients asking the same questions (``SharedAnswers``).
    let shared: SharedAnswers?

    public init(
        _ configuration: OperatorConfiguration.Operator, http: HTTPClient, sendsAsOf: Bool = false, shared: SharedAnswers? = nil
    ) throws {
        self.configuration = configuration
        self.http = http
        self.sendsAsOf = sendsAsOf
        self.shared = shared
        tokens = try AccessTokens(configuration, http: http)
    }

    /// One call of `api` about `phoneNumber`, answered by `deadline`.
    ///
    /// - Parameters:
    ///   - specifiedDate: Number Recycling's date (the customer's enrolment).
    ///   - correlator: sent as `x-correlator` (the event id, when it fits the header's pattern).
    ///   - asOf: the time the answer is for (sent only with ``sendsAsOf``).
    public func call(
        _ api: OperatorAPI, phoneNumber: String, specifiedDate: Timestamp? = nil, correlator: String?, asOf: Timestamp,
        deadline: NIODeadline
    ) async -> Result<SignalValue, SignalFailure> {
        guard let shared else {
            return await ask(
                api, phoneNumber: phoneNumber, specifiedDate: specifiedDate, correlator: correlator, asOf: asOf, deadline: deadline)
        }
        let question = SharedAnswers.Question(
            operator: configuration.name, api: api, phoneNumber: phoneNumber, specifiedDate: specifiedDate, asOf: asOf)
        return await shared.answer(question) {
            await self.ask(
                api, phoneNumber: phoneNumber, specifiedDate: specifiedDate, correlator: correlator, asOf: asOf, deadline: deadline)
        }
    }

    /// ``call(_:phoneNumber:specifiedDate:correlator:asOf:deadline:)`` over HTTP.
    func ask(
        _ api: OperatorAPI, phoneNumber: String, specifiedDate: Timestamp?, correlator: String?, asOf: Timestamp, deadline: NIODeadline
    ) async -> Result<SignalValue, SignalFailure> {
        let token: String
        switch await tokens.token(deadline: deadline) {
        case .success(let value): token = value
        case .failure(let failure): return .failure(failure)
        }
        var request = HTTPClientRequest(url: configuration.baseURL + api.path)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        if let correlator, CAMARA.isCorrelator(correlator) { request.headers.add(name: "x-correlator", value: correlator) }
        if sendsAsOf { request.headers.add(name: "x-riskloop-as-of", value: asOf.rfc3339) }
        let body = CAMARA.Request(phoneNumber: phoneNumber, specifiedDate: specifiedDate.map(Self.calendarDate))
        request.body = .bytes(ByteBuffer(bytes: try! JSONEncoder().encode(body)))
        let status: Int, bytes: ByteBuffer
        do {
            let response = try await http.execute(request, deadline: deadline)
            status = Int(response.status.code)
            bytes = try await response.body.collect(upTo: 1 << 16)
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout {
            return .failure(.timeout)
        } catch is CancellationError {
            return .failure(.timeout)
        } catch {
            return .failure(NIODeadline.now() >= deadline || Task.isCancelled ? .timeout : .unreachable)
        }
        // Copied out of the buffer (Data(buffer:) shares NIO's storage, which crashed FoundationEssentials here).
        let data = Array(bytes.readableBytesView)
        guard status == 200 else {
            if status == 401 { await tokens.forget() }
            return .failure(.operatorError(status: status, code: Self.errorCode(data) ?? "HTTP_\(status)"))
        }
        guard let value = Self.decode(api, data) else { return .failure(.badAnswer) }
        return .success(value)
    }

    /// The answer in the contract's terms; `nil` when it is not the API's shape (a required
    /// member missing, a wrong type, a word outside the API's enum). Read with the contract's own
    /// JSON parser.
    static func decode(_ api: OperatorAPI, _ data: [UInt8]) -> SignalValue? {
        guard let value = try? JSONValue.parse(data) else { return nil }
        /// A required, nullable date-time: `.some(nil)` for `null`, `nil` when missing or malformed.
        func time(_ member: JSONValue?) -> Timestamp?? {
            switch member {
            case .null?: return .some(nil)
            case .string(let text)?: return Timestamp(rfc3339: text).map { .some($0) } ?? nil
            default: return nil
            }
        }
        /// An optional member: absent or null is `nil`; present with the wrong type fails.
        func optionalTime(_ member: JSONValue?) -> Timestamp?? {
            member == nil ? .some(nil) : time(member)
        }
        func period(_ member: JSONValue?) -> Int?? {
            switch member {
            case nil, .null?: return .some(nil)
            case .number(let number)? where number >= 0 && number == number.rounded() && number < 1e9: return .some(Int(number))
            default: return nil
            }
        }
        func words(_ member: JSONValue?) -> [String]?? {
            switch member {
            case nil, .null?: return .some(nil)
            case .array(let items)?:
                let texts = items.compactMap { item -> String? in if case .string(let text) = item { text } else { nil } }
                return texts.count == items.count ? .some(texts) : nil
            default: return nil
            }
        }
        switch api {
        case .simSwap, .deviceSwap:
            guard case .object(let object) = value, let change = time(object[api == .simSwap ? "latestSimChange" : "latestDeviceChange"]),
                let days = period(object["monitoredPeriod"])
            else { return nil }
            return .swap(SwapSignal(latestChange: change, monitoredPeriodDays: days))
        case .callForwarding:
            guard let names = words(value) ?? nil, !names.isEmpty else { return nil }
            let services = names.compactMap(CallForwardingService.init(rawValue:))
            return services.count == names.count ? .callForwarding(services) : nil
        case .roaming:
            guard case .object(let object) = value, case .bool(let roaming)? = object["roaming"],
                let countries = words(object["countryName"]),
                (countries ?? []).allSatisfy({ $0.count == 2 && $0.allSatisfy(\.isUppercase) }),
                let last = optionalTime(object["lastStatusTime"])
            else { return nil }
            return .roaming(RoamingStatus(roaming: roaming, countryCodes: countries ?? [], lastStatusTime: last))
        case .reachability:
            guard case .object(let object) = value, case .bool(let reachable)? = object["reachable"],
                let names = words(object["connectivity"])
            else { return nil }
            let connectivity = (names ?? []).compactMap(Connectivity.init(rawValue:))
            guard connectivity.count == (names ?? []).count else { return nil }
            return .reachability(ReachabilityStatus(reachable: reachable, connectivity: connectivity))
        case .numberRecycling:
            guard case .object(let object) = value, case .bool(let recycled)? = object["phoneNumberRecycled"] else { return nil }
            return .numberRecycled(recycled)
        }
    }

    /// The `code` of a CAMARA error body, if the body is one.
    static func errorCode(_ data: [UInt8]) -> String? {
        guard case .object(let object)? = try? JSONValue.parse(data), case .string(let code)? = object["code"] else { return nil }
        return code
    }

    /// `YYYY-MM-DD` (UTC).
    static func calendarDate(_ time: Timestamp) -> String { String(time.rfc3339.prefix(10)) }
}

/// One answer for every client that asks an operator the same question at the same instant:
/// `riskloop demo --operators` computes three acquisition strategies in one pass, each with its
/// own enricher, cache and tally, and the operator would answer each the same. A question is sent
/// once; every client asking it counts its own call. The demo forgets the answers after each
/// chunk of events (``forget()``).
public final class SharedAnswers: Sendable {
    public struct Question: Hashable, Sendable {
        var `operator`: String
        var api: OperatorAPI
        var phoneNumber: String
        var specifiedDate: Timestamp?
        var asOf: Timestamp
    }

    private let answers = Mutex<[Question: Task<Result<SignalValue, SignalFailure>, Never>]>([:])
    private let sent = Atomic<Int>(0)

    public init() {}

    /// Questions sent to an operator so far (each once).
    public var questionsSent: Int { sent.load(ordering: .relaxed) }

    /// The answer to `question`: the one already asked (or being asked), else `ask`'s.
    func answer(_ question: Question, ask: @escaping @Sendable () async -> Result<SignalValue, SignalFailure>) async
        -> Result<SignalValue, SignalFailure>
    {
        let task = answers.withLock { answers in
            if let asked = answers[question] { return asked }
            sent.add(1, ordering: .relaxed)
            let task = Task { await ask() }
            answers[question] = task
            return task
        }
        return await task.value
    }

    /// Forgets every answer (they are for the instants asked about).
    public func forget() { answers.withLock { $0.removeAll(keepingCapacity: true) } }

    /// Questions held.
    public var count: Int { answers.withLock { $0.count } }
}

/// The operator's access tokens: one client-credentials token for every API the operator
/// offers, fetched with a fresh `private_key_jwt` assertion and reused until shortly before it
/// expires. Concurrent callers share one fetch.
actor AccessTokens {
    let configuration: OperatorConfiguration.Operator
    let http: HTTPClient
    let keys: JWTKeyCollection
    private var cached: (token: String, refreshAt: ContinuousClock.Instant)?
    private var fetching: Task<Result<(String, Duration), SignalFailure>, Never>?
    /// How long before its expiry a token is replaced.
    static let margin = Duration.seconds(30)
    /// An assertion's lifetime (CAMARA allows at most 300 s).
    static let assertionLifetime: TimeInterval = 60

    init(_ configuration: OperatorConfiguration.Operator, http: HTTPClient) throws {
        self.configuration = configuration
        self.http = http
        signingKey = try ES256PrivateKey(pem: configuration.privateKeyPEM)
        keys = JWTKeyCollection()
    }

    private let signingKey: ES256PrivateKey
    /// Whether ``signingKey`` is in ``keys`` yet (adding is asynchronous: the collection is an actor).
    private var keyAdded = false

    func forget() { cached = nil }

    func token(deadline: NIODeadline) async -> Result<String, SignalFailure> {
        if let cached, ContinuousClock.now < cached.refreshAt { return .success(cached.token) }
        let task: Task<Result<(String, Duration), SignalFailure>, Never>
        if let fetching {
            task = fetching
        } else {
            task = Task { await self.fetch(deadline: deadline) }
            fetching = task
        }
        let result = await task.value
        fetching = nil
        switch result {
        case .success(let (token, lifetime)):
            cached = (token, ContinuousClock.now + max(.zero, lifetime - Self.margin))
            return .success(token)
        case .failure(let failure): return .failure(failure)
        }
    }

    private func fetch(deadline: NIODeadline) async -> Result<(String, Duration), SignalFailure> {
        if !keyAdded {
            await keys.add(ecdsa: signingKey, kid: configuration.keyId.map { JWKIdentifier(string: $0) })
            keyAdded = true
        }
        let now = Date()
        let assertion = CAMARA.ClientAssertion(
            client: configuration.clientId, audience: configuration.tokenURL, issuedAt: now, lifetime: Self.assertionLifetime)
        let signed: String
        do {
            signed = try await keys.sign(assertion, kid: configuration.keyId.map { JWKIdentifier(string: $0) })
        } catch {
            return .failure(.operatorError(status: 401, code: "ASSERTION_NOT_SIGNED"))
        }
        let scopes = configuration.apis.keys.sorted().map(\.scope).joined(separator: " ")
        var form = URLComponents()
        form.queryItems = [
            URLQueryItem(name: "grant_type", value: "client_credentials"),
            URLQueryItem(name: "client_assertion_type", value: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
            URLQueryItem(name: "client_assertion", value: signed),
            URLQueryItem(name: "scope", value: scopes),
        ]
        var request = HTTPClientRequest(url: configuration.tokenURL)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.body = .bytes(ByteBuffer(string: form.percentEncodedQuery ?? ""))
        do {
            let response = try await http.execute(request, deadline: deadline)
            let bytes = try await response.body.collect(upTo: 1 << 16)
            guard response.status == .ok else {
                return .failure(.operatorError(status: Int(response.status.code), code: "TOKEN_REFUSED"))
            }
            guard case .object(let answer)? = try? JSONValue.parse(bytes.readableBytesView),
                case .string(let token)? = answer["access_token"],
                case .string(let type)? = answer["token_type"], type.lowercased() == "bearer"
            else { return .failure(.badAnswer) }
            var lifetime = 300.0
            if case .number(let seconds)? = answer["expires_in"], seconds > 0 { lifetime = seconds }
            return .success((token, .seconds(lifetime)))
        } catch {
            return .failure(NIODeadline.now() >= deadline || Task.isCancelled ? .timeout : .unreachable)
        }
    }
}
