import ArgumentParser
import Foundation
import JWTKit
import Logging
import RiskOperatorStub
import RiskSignals

extension RiskLoop {
    /// `riskloop operator-stub`: a CAMARA operator answering from a ground-truth file, for tests,
    /// the demo and benchmarks.
    struct OperatorStubCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "operator-stub",
            abstract:
                "Serve a stub mobile operator: the CAMARA APIs RiskLoop reads and an OAuth token endpoint, answering from a truth file.",
            discussion: """
                APIs: POST /sim-swap/v2/retrieve-date, /device-swap/v1/retrieve-date, \
                /call-forwarding-signal/v0.4/call-forwardings, /device-roaming-status/v1/retrieve, \
                /device-reachability-status/v1/retrieve, /number-recycling/v0.2/check; tokens: POST /oauth/token \
                (client credentials, private_key_jwt assertions signed ES256 by a --client key).
                The truth file holds JSON lines {"phone_number", "at", "telco": {...}, "subscriber_since"?}; \
                a line's state at a time is its latest observation at or before it. A request's x-riskloop-as-of \
                header (RFC 3339) answers as of that time instead of now.
                """)

        @Option(help: "Address to listen on.")
        var host = "127.0.0.1"

        @Option(help: "Port to listen on.")
        var port = 9400

        @Option(help: ArgumentHelp("The operator's view of its lines (JSON lines).", valueName: "operator-view.jsonl"))
        var truth: String

        @Option(
            name: .customLong("client"),
            help: ArgumentHelp(
                "A client allowed to take tokens, and the PEM of its ES256 public key (repeatable).", valueName: "ID=KEY.pem"))
        var clients: [String] = []

        @Option(help: ArgumentHelp("Added before every API answer, in milliseconds.", valueName: "ms"))
        var latencyMs = 0.0

        @Option(help: ArgumentHelp("The share of calls answered 503 UNAVAILABLE at random, in [0, 1].", valueName: "share"))
        var errorRate = 0.0

        @Option(
            name: .customLong("fail"),
            help: ArgumentHelp("Answer every call of an API with this CAMARA error (repeatable).", valueName: "API=STATUS:CODE"))
        var failures: [String] = []

        @Option(help: ArgumentHelp("Calls beyond this many a second are answered 429 TOO_MANY_REQUESTS.", valueName: "N"))
        var rateLimit: Int?

        @Option(help: ArgumentHelp("Calls beyond this many in all are answered 429 QUOTA_EXCEEDED.", valueName: "N"))
        var quota: Int?

        @Option(help: ArgumentHelp("Swaps older than this many days are answered null with monitoredPeriod.", valueName: "days"))
        var monitoredPeriodDays: Int?

        @Option(help: ArgumentHelp("How long an access token lives, in seconds.", valueName: "s"))
        var tokenLifetime = 3_600

        /// `--fail API=STATUS:CODE`, parsed; `nil` when malformed.
        static func failure(_ text: String) -> (OperatorAPI, CAMARA.ErrorInfo)? {
            let parts = text.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, let api = OperatorAPI(rawValue: String(parts[0])) else { return nil }
            let answer = parts[1].split(separator: ":", maxSplits: 1)
            guard answer.count == 2, let status = Int(answer[0]), (400...599).contains(status), !answer[1].isEmpty else { return nil }
            return (api, CAMARA.ErrorInfo(status: status, code: String(answer[1]), message: "injected by riskloop operator-stub"))
        }

        func validate() throws {
            guard !clients.isEmpty else { throw ValidationError("name at least one --client ID=KEY.pem") }
            for client in clients where client.split(separator: "=", maxSplits: 1).count != 2 {
                throw ValidationError("--client: '\(client)' is not ID=KEY.pem")
            }
            for failure in failures where Self.failure(failure) == nil {
                let apis = OperatorAPI.allCases.map(\.rawValue).joined(separator: ", ")
                throw ValidationError("--fail: '\(failure)' is not API=STATUS:CODE with API one of \(apis) and STATUS 400–599")
            }
            guard (0...1).contains(errorRate) else { throw ValidationError("--error-rate must be in [0, 1]") }
            guard latencyMs >= 0 else { throw ValidationError("--latency-ms must not be negative") }
            if let rateLimit, rateLimit < 1 { throw ValidationError("--rate-limit must be at least 1") }
            if let quota, quota < 0 { throw ValidationError("--quota must not be negative") }
            if let monitoredPeriodDays, monitoredPeriodDays < 1 { throw ValidationError("--monitored-period-days must be at least 1") }
            guard tokenLifetime >= 1 else { throw ValidationError("--token-lifetime must be at least 1 second") }
        }

        func run() async throws {
            let view = try CLIError.mapping { try OperatorView.read(from: URL(filePath: truth)) }
            var keys: [String: ES256PublicKey] = [:]
            for client in clients {
                let parts = client.split(separator: "=", maxSplits: 1).map(String.init)
                do {
                    keys[parts[0]] = try ES256PublicKey(pem: try String(contentsOfFile: parts[1], encoding: .utf8))
                } catch {
                    throw CLIError.fail("\(parts[1]): not the PEM of an ES256 (P-256) public key: \(error)", status: CLIError.badInput)
                }
            }
            var faults = OperatorStub.Faults()
            faults.latency = .milliseconds(latencyMs)
            faults.errorRate = errorRate
            faults.rateLimitPerSecond = rateLimit
            faults.quota = quota
            for failure in failures {
                let (api, info) = Self.failure(failure)!
                faults.failing[api] = info
            }
            let stub = await OperatorStub(
                view: view, clients: keys, tokenLifetime: .seconds(tokenLifetime), monitoredPeriodDays: monitoredPeriodDays, faults: faults)
            var logger = Logger(label: "riskloop.operator-stub")
            logger.logLevel = .info
            logger.info("serving", metadata: ["lines": "\(view.lines.count)", "port": "\(port)"])
            try await stub.application(host: host, port: port, logger: logger) { url in print("operator stub at \(url)") }.runService()
        }
    }
}
