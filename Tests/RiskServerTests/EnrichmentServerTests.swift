import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import JWTKit
import NIOCore
import RiskContract
import RiskOperatorStub
import RiskSignals
import RiskStoreTesting
import Testing

@testable import RiskServer

/// `serve --operators`: events naming the customer's line get their missing telco signals from a
/// stub operator over HTTP before scoring; the decision log keeps what was fetched and where
/// every signal came from.
@Suite struct EnrichmentServerTests {
    static let forwarded = "+447700900001"
    static let calm = "+447700900002"

    static func stub(faults: OperatorStub.Faults = .init()) async throws -> (OperatorStub, URL, ES256PrivateKey) {
        let at = Timestamp(rfc3339: "2026-03-01T09:00:00Z")!
        let view = OperatorView(lines: [
            forwarded: .init(observations: [.init(at: at, telco: TelcoSignals(callForwarding: [.unconditional]))]),
            calm: .init(observations: [.init(at: at, telco: TelcoSignals(callForwarding: [.inactive]))]),
        ])
        let key = ES256PrivateKey()
        let directory = FileManager.default.temporaryDirectory.appending(path: "riskloop-enrich-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try key.pemRepresentation.write(to: directory.appending(path: "client.pem"), atomically: true, encoding: .utf8)
        return (await OperatorStub(view: view, clients: ["bank": key.publicKey], faults: faults), directory, key)
    }

    static func configuration(_ directory: URL, baseURL: String) throws -> OperatorConfiguration {
        let file = directory.appending(path: "operators.json")
        try """
        {"deadline_ms": 30000, "operators": [{"name": "stub", "prefixes": ["+44"], "base_url": "\(baseURL)",
          "token_url": "\(baseURL)/oauth/token", "client_id": "bank", "credentials_file": "client.pem",
          "apis": {"call_forwarding": {"price": 0.03}, "sim_swap": {"price": 0.04}}}]}
        """.write(to: file, atomically: true, encoding: .utf8)
        return try OperatorConfiguration.read(from: file)
    }

    static func event(_ id: String, phone: String) -> String {
        #"{"id":"\#(id)","occurred_at":"2026-03-01T10:00:00Z","customer_id":"c1","kind":"payment","customer":{"phone_number":"\#(phone)"}}"#
    }

    static func object(_ buffer: ByteBuffer) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(buffer.readableBytesView)) as! [String: Any]
    }

    @Test(arguments: Backend.allCases)
    func anEventWithoutTelcoIsDecidedOnWhatItsOperatorSays(backend: Backend) async throws {
        let (stub, directory, _) = try await Self.stub()
        try await stub.whileServing { url in
            let fixture = try await Fixture(backend, operators: try Self.configuration(directory, baseURL: url))
            try await fixture.test { client in
                let sent = Self.event("e1", phone: Self.forwarded)
                let first = try await client.execute(
                    uri: "/v1/score", method: .post, headers: fixture.headers(.score), body: ByteBuffer(string: sent)
                ) { response in
                    #expect(response.status == .ok)
                    let answer = try Self.object(response.body)
                    // Forwarding from the operator: σ(−2 + 3) = 0.73, a review.
                    #expect(answer["decision"] as? String == "review")
                    let signals = answer["signals"] as! [String: Any]
                    // Cost-aware (the default): the forwarding answer could raise the decision, so it is asked.
                    #expect(signals["acquisition"] as? String == "cost_aware")
                    #expect(signals["call_forwarding"] as? [String: String] == ["source": "operator", "operator": "stub"])
                    // The model reads no SIM swap: not worth a call.
                    #expect(signals["sim_swap"] as? [String: String] == ["source": "unknown", "reason": "not_needed"])
                    #expect(signals["roaming"] as? [String: String] == ["source": "unknown", "reason": "not_needed"])
                    return String(buffer: response.body)
                }
                // The stored event is what was scored: the operator's answer is in its telco object.
                let payload = try await SQL.strings(fixture.store, "SELECT payload FROM events WHERE id = 'e1'")
                let stored = try Event(json: try JSONValue.parse(Array(payload[0].utf8)))
                #expect(stored.telco?.callForwarding == [.unconditional])
                #expect(stored.customer?.phoneNumber == Self.forwarded)
                let origins = try await SQL.strings(fixture.store, "SELECT signals FROM decisions WHERE event_id = 'e1'")
                let logged = try JSONSerialization.jsonObject(with: Data(origins[0].utf8)) as! [String: Any]
                #expect(logged["call_forwarding"] as? [String: String] == ["source": "operator", "operator": "stub"])
                // The same event sent again, as first sent, is a retry: the first answer, nothing new logged.
                try await client.execute(uri: "/v1/score", method: .post, headers: fixture.headers(.score), body: ByteBuffer(string: sent))
                {
                    response in
                    #expect(response.status == .ok)
                    #expect(String(buffer: response.body) == first)
                }
                #expect(try await fixture.count("decisions") == 1)
                #expect(stub.calls[.callForwarding] == 1)
                // A line the operator says is not forwarded: allowed.
                try await client.execute(
                    uri: "/v1/score", method: .post, headers: fixture.headers(.score),
                    body: ByteBuffer(string: Self.event("e2", phone: Self.calm))
                ) { response in
                    let answer = try Self.object(response.body)
                    #expect(answer["decision"] as? String == "allow")
                }
                try await client.execute(uri: "/metrics", method: .get, headers: fixture.headers(.admin)) { response in
                    let text = String(buffer: response.body)
                    #expect(text.contains(#"riskloop_operator_calls_total{operator="stub",api="call_forwarding"} 2"#))
                }
            }
        }
    }

    @Test func aFailingOperatorFailsNoRequestAndEverySignalIsUnknownWithItsReason() async throws {
        var faults = OperatorStub.Faults()
        faults.errorRate = 1
        let (stub, directory, _) = try await Self.stub(faults: faults)
        try await stub.whileServing { url in
            let fixture = try await Fixture(.sqliteMemory, operators: try Self.configuration(directory, baseURL: url))
            try await fixture.test { client in
                for index in 0..<3 {
                    try await client.execute(
                        uri: "/v1/score", method: .post, headers: fixture.headers(.score),
                        body: ByteBuffer(string: Self.event("e\(index)", phone: Self.forwarded))
                    ) { response in
                        #expect(response.status == .ok)
                        let answer = try Self.object(response.body)
                        // Unknown, never safe: the model sees no forwarding and says so in the log.
                        let signals = answer["signals"] as! [String: Any]
                        #expect(signals["call_forwarding"] as? [String: String] == ["source": "unknown", "reason": "503 UNAVAILABLE"])
                    }
                }
            }
            let payload = try await SQL.strings(fixture.store, "SELECT payload FROM events WHERE id = 'e0'")
            #expect(!payload[0].contains("telco"), "nothing acquired, the event is stored as sent")
        }
    }
}

/// Pushed notifications: a subscription at the stub operator, its events delivered over HTTP to
/// the server's `POST /v1/telco/notifications`, and the next score knowing them without a call.
@Suite struct TelcoNotificationTests {
    static let swapped = "org.camaraproject.sim-swap-subscriptions.v0.swapped"

    @Test func aPushedSwapIsKnownAtTheNextScoreWithoutACall() async throws {
        let (stub, directory, _) = try await EnrichmentServerTests.stub()
        try Data((0..<32).map { _ in UInt8.random(in: 0...255) }).write(to: directory.appending(path: "sink.key"))
        try await stub.whileServing { url in
            let file = directory.appending(path: "operators-notified.json")
            try """
            {"deadline_ms": 30000, "notifications": {"secret_file": "sink.key", "sink_url": "http://127.0.0.1:8080/v1/telco/notifications"},
             "operators": [{"name": "stub", "prefixes": ["+44"], "base_url": "\(url)", "token_url": "\(url)/oauth/token",
               "client_id": "bank", "credentials_file": "client.pem", "apis": {"call_forwarding": {"price": 0.03}, "sim_swap": {"price": 0.04}}}]}
            """.write(to: file, atomically: true, encoding: .utf8)
            let configuration = try OperatorConfiguration.read(from: file)
            let fixture = try await Fixture(.sqliteMemory, operators: configuration)
            let sink = try #require(fixture.service.sinkCredentials)
            try await Application(router: buildRouter(fixture.service)).test(.live) { client in
                let port = try #require(client.port)
                let expires = Date().addingTimeInterval(86_400)
                let token = try await sink.issue(
                    phoneNumber: EnrichmentServerTests.forwarded, operatorName: "stub", apis: [.simSwap], expires: expires)
                let operatorClient = try OperatorClient(configuration.operators[0], http: .shared)
                let subscription = try await operatorClient.subscribe(
                    .simSwap, phoneNumber: EnrichmentServerTests.forwarded, sink: "http://127.0.0.1:\(port)/v1/telco/notifications",
                    sinkToken: token, expires: Timestamp(millisecondsSinceEpoch: Int64(expires.timeIntervalSince1970 * 1000)),
                    deadline: .now() + .seconds(30)
                ).get()
                #expect(subscription.status == "ACTIVE")
                #expect(stub.subscriptions.map(\.phoneNumber) == [EnrichmentServerTests.forwarded])
                // The operator pushes a swap; the server takes it.
                let statuses = await stub.push(
                    Self.swapped, phoneNumber: EnrichmentServerTests.forwarded, at: Timestamp(rfc3339: "2026-03-01T09:45:00Z")!)
                #expect(statuses == [204])
                try await client.execute(
                    uri: "/v1/score", method: .post, headers: fixture.headers(.score),
                    body: ByteBuffer(string: EnrichmentServerTests.event("e1", phone: EnrichmentServerTests.forwarded))
                ) { response in
                    let answer = try EnrichmentServerTests.object(response.body)
                    let signals = answer["signals"] as! [String: Any]
                    #expect(signals["sim_swap"] as? [String: String] == ["source": "notification"])
                }
                #expect(stub.calls[.simSwap] == nil, "known from the notification: no call")
                let payload = try await SQL.strings(fixture.store, "SELECT payload FROM events WHERE id = 'e1'")
                let stored = try Event(json: try JSONValue.parse(Array(payload[0].utf8)))
                #expect(stored.telco?.simSwap?.latestChange == Timestamp(rfc3339: "2026-03-01T09:45:00Z"))

                // Refusals: no token, a token RiskLoop did not issue, a token for another line, a malformed event.
                func post(_ token: String?, _ body: String) async throws -> (HTTPResponse.Status, String) {
                    var headers: HTTPFields = [.contentType: "application/cloudevents+json"]
                    if let token { headers[.authorization] = "Bearer \(token)" }
                    return try await client.execute(
                        uri: "/v1/telco/notifications", method: .post, headers: headers, body: ByteBuffer(string: body)
                    ) {
                        ($0.status, String(buffer: $0.body))
                    }
                }
                let event =
                    #"{"id":"n1","source":"op","type":"\#(Self.swapped)","specversion":"1.0","data":{"phoneNumber":"\#(EnrichmentServerTests.forwarded)","subscriptionId":"s"}}"#
                #expect(try await post(nil, event).0 == .unauthorized)
                let stranger = await SinkCredentials(secret: Array(repeating: 1, count: 32))
                let forged = try await stranger.issue(
                    phoneNumber: EnrichmentServerTests.forwarded, operatorName: "stub", apis: [.simSwap], expires: expires)
                #expect(try await post(forged, event).0 == .unauthorized)
                let other = try await sink.issue(
                    phoneNumber: EnrichmentServerTests.calm, operatorName: "stub", apis: [.simSwap], expires: expires)
                #expect(try await post(other, event).0 == .forbidden)
                let malformed = try await post(
                    token, event.replacingOccurrences(of: #""specversion":"1.0""#, with: #""specversion":"0.3""#))
                #expect(malformed.0 == .badRequest)
                #expect(malformed.1.contains(#""field":"specversion""#))
                #expect(try await post(token, event).0 == .noContent)
            }
        }
    }
}
