import Foundation

/// Which mobile operators RiskLoop asks, and how: the JSON file `riskloop serve --operators`
/// reads (docs/operators.md documents every member).
///
/// ```json
/// {
///   "deadline_ms": 150,
///   "cache_ttl_seconds": {"sim_swap": 300, "call_forwarding": 300, "roaming": 600},
///   "operators": [{
///     "name": "uk-mno", "prefixes": ["+44"], "base_url": "https://api.operator.example",
///     "token_url": "https://api.operator.example/oauth/token", "client_id": "bank-42",
///     "credentials_file": "bank-42.pem", "key_id": "2026-11",
///     "apis": {"sim_swap": {"price": 0.04}, "call_forwarding": {"price": 0.03}},
///     "rate_limit_per_second": 200
///   }]
/// }
/// ```
public struct OperatorConfiguration: Sendable, Equatable {
    /// One request's time for all its operator calls together.
    public var deadline: Duration
    /// How long an answer is reused for the same number, per API.
    public var cacheTTL: [OperatorAPI: Duration]
    public var operators: [Operator]
    /// Which missing signals are paid for (`acquisition`; default cost-aware).
    public var acquisition: AcquisitionStrategy
    /// Under the cost-aware strategy, the share of events that acquire every signal (`explore_share`,
    /// default 0.02), flagged `explore` in the decision log.
    public var exploreShare: Double
    /// Pushed notifications (`notifications`): the secret sink tokens are signed with, and the
    /// URL operators post to (this server's `POST /v1/telco/notifications`).
    public var notifications: Notifications?

    public struct Notifications: Sendable, Equatable {
        public var secret: [UInt8]
        public var sinkURL: String

        public init(secret: [UInt8], sinkURL: String) {
            self.secret = secret
            self.sinkURL = sinkURL
        }
    }

    /// The subscription API of each API that has one (CAMARA's subscription APIs of SIM Swap,
    /// Device Roaming Status and Device Reachability Status), and the event types asked for.
    public static let subscriptionAPIs: [OperatorAPI: (path: String, types: [String])] = [
        .simSwap: ("/sim-swap-subscriptions/v0.3/subscriptions", ["org.camaraproject.sim-swap-subscriptions.v0.swapped"]),
        .roaming: (
            "/device-roaming-status-subscriptions/v0.7/subscriptions",
            [
                "org.camaraproject.device-roaming-status-subscriptions.v0.roaming-on",
                "org.camaraproject.device-roaming-status-subscriptions.v0.roaming-off",
                "org.camaraproject.device-roaming-status-subscriptions.v0.roaming-change-country",
            ]
        ),
        .reachability: (
            "/device-reachability-status-subscriptions/v0.7/subscriptions",
            [
                "org.camaraproject.device-reachability-status-subscriptions.v0.reachability-data",
                "org.camaraproject.device-reachability-status-subscriptions.v0.reachability-sms",
                "org.camaraproject.device-reachability-status-subscriptions.v0.reachability-disconnected",
            ]
        ),
    ]

    /// The longest a SIM swap or call-forwarding answer may be reused: both change in the minutes
    /// an attack takes.
    public static let longestVolatileTTL = Duration.seconds(300)
    public static let defaultDeadline = Duration.milliseconds(150)
    public static let defaultCacheTTL: [OperatorAPI: Duration] = [
        .simSwap: .seconds(300), .deviceSwap: .seconds(3_600), .callForwarding: .seconds(300), .roaming: .seconds(600),
        .reachability: .seconds(60), .numberRecycling: .seconds(86_400),
    ]

    public struct Operator: Sendable, Equatable {
        public var name: String
        /// E.164 prefixes this operator serves (`+44`); `+` serves every number (an aggregator).
        public var prefixes: [String]
        public var baseURL: String
        public var tokenURL: String
        public var clientId: String
        /// The PEM of the ES256 private key that signs the client assertions.
        public var privateKeyPEM: String
        public var keyId: String?
        /// The APIs this operator offers, with the price of one call.
        public var apis: [OperatorAPI: Double]
        /// At most this many calls a second leave for this operator (its agreed rate).
        public var rateLimitPerSecond: Double?
        /// Consecutive failures that open the circuit, and how long it then stays open.
        public var circuitFailures: Int
        public var circuitOpenFor: Duration

        public init(
            name: String, prefixes: [String], baseURL: String, tokenURL: String, clientId: String, privateKeyPEM: String,
            keyId: String? = nil, apis: [OperatorAPI: Double], rateLimitPerSecond: Double? = nil, circuitFailures: Int = 5,
            circuitOpenFor: Duration = .seconds(30)
        ) {
            self.name = name
            self.prefixes = prefixes
            self.baseURL = baseURL
            self.tokenURL = tokenURL
            self.clientId = clientId
            self.privateKeyPEM = privateKeyPEM
            self.keyId = keyId
            self.apis = apis
            self.rateLimitPerSecond = rateLimitPerSecond
            self.circuitFailures = circuitFailures
            self.circuitOpenFor = circuitOpenFor
        }
    }

    public init(
        deadline: Duration = Self.defaultDeadline, cacheTTL: [OperatorAPI: Duration] = [:], operators: [Operator],
        acquisition: AcquisitionStrategy = .costAware, exploreShare: Double = 0.02
    ) {
        self.acquisition = acquisition
        self.exploreShare = exploreShare
        self.deadline = deadline
        self.cacheTTL = Self.defaultCacheTTL.merging(cacheTTL) { $1 }
        self.operators = operators
    }

    /// The operator serving `phoneNumber`: the longest matching prefix.
    public func route(_ phoneNumber: String) -> Operator? {
        var best: (operator: Operator, length: Int)?
        for candidate in operators {
            for prefix in candidate.prefixes where phoneNumber.hasPrefix(prefix) && prefix.count > (best?.length ?? -1) {
                best = (candidate, prefix.count)
            }
        }
        return best?.operator
    }

    /// Reads a configuration file; `credentials_file` paths are relative to the file's directory.
    ///
    /// - Throws: ``OperatorConfigurationError`` naming the member.
    public static func read(from url: URL) throws(OperatorConfigurationError) -> OperatorConfiguration {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw .invalid(path: url.path, field: nil, reason: "cannot read the file: \(error.localizedDescription)")
        }
        return try parse(data, path: url.path, directory: url.deletingLastPathComponent())
    }

    static func parse(_ data: Data, path: String, directory: URL) throws(OperatorConfigurationError) -> OperatorConfiguration {
        func fail(_ field: String?, _ reason: String) -> OperatorConfigurationError { .invalid(path: path, field: field, reason: reason) }
        guard let root = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw fail(nil, "not a JSON object")
        }
        let known: Set<String> = ["deadline_ms", "cache_ttl_seconds", "operators", "acquisition", "explore_share", "notifications"]
        if let unknown = root.keys.sorted().first(where: { !known.contains($0) }) {
            throw fail(unknown, "not a member of the configuration")
        }
        var deadline = defaultDeadline
        if let value = root["deadline_ms"] {
            guard let ms = value as? NSNumber, ms.doubleValue > 0, ms.doubleValue <= 60_000 else {
                throw fail("deadline_ms", "must be a number of milliseconds in (0, 60000]")
            }
            deadline = .milliseconds(ms.doubleValue)
        }
        var ttl: [OperatorAPI: Duration] = [:]
        if let value = root["cache_ttl_seconds"] {
            guard let object = value as? [String: Any] else { throw fail("cache_ttl_seconds", "must be an object") }
            for (name, seconds) in object {
                let field = "cache_ttl_seconds.\(name)"
                guard let api = OperatorAPI(rawValue: name) else { throw fail(field, "not an API (\(apiNames))") }
                guard let number = seconds as? NSNumber, number.doubleValue >= 0 else {
                    throw fail(field, "must be a number of seconds, 0 or more")
                }
                let duration = Duration.seconds(number.doubleValue)
                if api == .simSwap || api == .callForwarding, duration > longestVolatileTTL {
                    throw fail(field, "at most 300 seconds: a SIM swap or a call forwarding changes within an attack")
                }
                ttl[api] = duration
            }
        }
        var acquisition = AcquisitionStrategy.costAware
        if let value = root["acquisition"] {
            guard let text = value as? String, let strategy = AcquisitionStrategy(rawValue: text) else {
                throw fail("acquisition", "must be one of \(AcquisitionStrategy.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            acquisition = strategy
        }
        var exploreShare = 0.02
        if let value = root["explore_share"] {
            guard let number = value as? NSNumber, (0...1).contains(number.doubleValue) else {
                throw fail("explore_share", "must be a number in [0, 1]")
            }
            exploreShare = number.doubleValue
        }
        var notifications: Notifications?
        if let value = root["notifications"] {
            guard let object = value as? [String: Any], let secretFile = object["secret_file"] as? String,
                let sink = object["sink_url"] as? String,
                object.count == 2
            else { throw fail("notifications", "must be {\"secret_file\": a path, \"sink_url\": this server's URL}") }
            guard let url = URL(string: sink), ["http", "https"].contains(url.scheme ?? ""), url.host != nil else {
                throw fail("notifications.sink_url", "must be an http or https URL")
            }
            let secretURL = secretFile.hasPrefix("/") ? URL(filePath: secretFile) : directory.appending(path: secretFile)
            guard let secret = try? Data(contentsOf: secretURL), secret.count >= 32 else {
                throw fail("notifications.secret_file", "cannot read at least 32 bytes of secret from \(secretURL.path)")
            }
            notifications = Notifications(secret: Array(secret), sinkURL: sink)
        }
        guard let list = root["operators"] as? [Any], !list.isEmpty else { throw fail("operators", "must be a non-empty array") }
        var operators: [Operator] = []
        for (index, item) in list.enumerated() {
            let at = "operators[\(index)]"
            guard let object = item as? [String: Any] else { throw fail(at, "must be an object") }
            let members: Set<String> = [
                "name", "prefixes", "base_url", "token_url", "client_id", "credentials_file", "key_id", "apis",
                "rate_limit_per_second", "circuit_breaker",
            ]
            if let unknown = object.keys.sorted().first(where: { !members.contains($0) }) {
                throw fail("\(at).\(unknown)", "not a member of an operator")
            }
            func text(_ name: String) throws(OperatorConfigurationError) -> String {
                guard let value = object[name] as? String, !value.isEmpty else { throw fail("\(at).\(name)", "must be a non-empty string") }
                return value
            }
            let name = try text("name")
            if operators.contains(where: { $0.name == name }) { throw fail("\(at).name", "\"\(name)\" names two operators") }
            guard let prefixes = object["prefixes"] as? [String], !prefixes.isEmpty,
                prefixes.allSatisfy({ $0.hasPrefix("+") && $0.dropFirst().allSatisfy(\.isASCII) && $0.dropFirst().allSatisfy(\.isNumber) })
            else { throw fail("\(at).prefixes", "must be a non-empty array of E.164 prefixes (\"+44\"; \"+\" for every number)") }
            let baseURL = try text("base_url"), tokenURL = try text("token_url")
            for (field, value) in [("base_url", baseURL), ("token_url", tokenURL)] {
                guard let url = URL(string: value), ["http", "https"].contains(url.scheme ?? ""), url.host != nil else {
                    throw fail("\(at).\(field)", "must be an http or https URL")
                }
            }
            let keyFile = try text("credentials_file")
            let keyURL = keyFile.hasPrefix("/") ? URL(filePath: keyFile) : directory.appending(path: keyFile)
            guard let pem = try? String(contentsOf: keyURL, encoding: .utf8) else {
                throw fail("\(at).credentials_file", "cannot read \(keyURL.path)")
            }
            guard let apiObject = object["apis"] as? [String: Any], !apiObject.isEmpty else {
                throw fail("\(at).apis", "must name at least one API (\(apiNames))")
            }
            var apis: [OperatorAPI: Double] = [:]
            for (apiName, settings) in apiObject {
                guard let api = OperatorAPI(rawValue: apiName) else { throw fail("\(at).apis.\(apiName)", "not an API (\(apiNames))") }
                guard let settings = settings as? [String: Any], let price = settings["price"] as? NSNumber, price.doubleValue >= 0,
                    settings.count == 1
                else { throw fail("\(at).apis.\(apiName)", "must be {\"price\": a non-negative number}") }
                apis[api] = price.doubleValue
            }
            var rate: Double?
            if let value = object["rate_limit_per_second"] {
                guard let number = value as? NSNumber, number.doubleValue > 0 else {
                    throw fail("\(at).rate_limit_per_second", "must be a positive number")
                }
                rate = number.doubleValue
            }
            var failures = 5, openFor = Duration.seconds(30)
            if let value = object["circuit_breaker"] {
                guard let breaker = value as? [String: Any], let count = breaker["failures"] as? Int, count >= 1,
                    let seconds = breaker["open_seconds"] as? NSNumber, seconds.doubleValue > 0, breaker.count == 2
                else { throw fail("\(at).circuit_breaker", "must be {\"failures\": a count ≥ 1, \"open_seconds\": a positive number}") }
                (failures, openFor) = (count, .seconds(seconds.doubleValue))
            }
            var keyId: String?
            if object["key_id"] != nil { keyId = try text("key_id") }
            operators.append(
                Operator(
                    name: name, prefixes: prefixes, baseURL: baseURL, tokenURL: tokenURL, clientId: try text("client_id"),
                    privateKeyPEM: pem,
                    keyId: keyId, apis: apis, rateLimitPerSecond: rate, circuitFailures: failures, circuitOpenFor: openFor))
        }
        var configuration = OperatorConfiguration(
            deadline: deadline, cacheTTL: ttl, operators: operators, acquisition: acquisition, exploreShare: exploreShare)
        configuration.notifications = notifications
        return configuration
    }

    private static var apiNames: String { OperatorAPI.allCases.map(\.rawValue).joined(separator: ", ") }
}

public enum OperatorConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalid(path: String, field: String?, reason: String)

    public var description: String {
        switch self {
        case .invalid(let path, let field, let reason): "\(path)\(field.map { ", \($0)" } ?? ""): \(reason)"
        }
    }
}
