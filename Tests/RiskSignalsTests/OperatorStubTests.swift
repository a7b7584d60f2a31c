import AsyncHTTPClient
import Foundation
import JWTKit
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import RiskContract
import RiskOperatorStub
import RiskSignals
import Testing

/// The stub's answers on the wire, checked against the CAMARA API definitions' schemas
/// (camaraproject SimSwap, DeviceSwap, CallForwardingSignal, DeviceRoamingStatus,
/// DeviceReachabilityStatus, NumberRecycling): required members, types, nullability, enums.
@Suite struct OperatorStubTests {
    /// A token for every scope, taken as RiskLoop takes it.
    static func token(_ fixture: OperatorFixture, _ url: String) async throws -> String {
        var request = HTTPClientRequest(url: url + OperatorStub.tokenPath)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        let keys = JWTKeyCollection()
        await keys.add(ecdsa: fixture.key)
        struct Claims: JWTPayload {
            var iss: IssuerClaim, sub: SubjectClaim, aud: AudienceClaim, jti: IDClaim, iat: IssuedAtClaim, exp: ExpirationClaim
            func verify(using algorithm: some JWTAlgorithm) throws {}
        }
        let now = Date()
        let assertion = try await keys.sign(
            Claims(
                iss: .init(value: OperatorFixture.clientId), sub: .init(value: OperatorFixture.clientId),
                aud: .init(value: [url + "/oauth/token"]),
                jti: .init(value: UUID().uuidString), iat: .init(value: now), exp: .init(value: now.addingTimeInterval(60))))
        let scopes = OperatorAPI.allCases.map(\.scope).joined(separator: "%20")
        request.body = .bytes(
            ByteBuffer(
                string:
                    "grant_type=client_credentials&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion=\(assertion)&scope=\(scopes)"
            ))
        let response = try await sharedHTTP.execute(request, timeout: .seconds(120))
        let body = try await response.body.collect(upTo: 1 << 16)
        #expect(response.status == .ok)
        let answer = try JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as! [String: Any]
        #expect(answer["token_type"] as? String == "Bearer")
        #expect((answer["expires_in"] as? Int ?? 0) > 0)
        return answer["access_token"] as! String
    }

    static func post(
        _ url: String, _ api: OperatorAPI, token: String?, body: String, correlator: String? = nil, asOf: String? = "2026-03-01T10:00:00Z"
    ) async throws -> (status: Int, json: Any, headers: HTTPHeaders) {
        var request = HTTPClientRequest(url: url + api.path)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let correlator { request.headers.add(name: "x-correlator", value: correlator) }
        if let asOf { request.headers.add(name: "x-riskloop-as-of", value: asOf) }
        request.body = .bytes(ByteBuffer(string: body))
        let response = try await sharedHTTP.execute(request, timeout: .seconds(120))
        let bytes = try await response.body.collect(upTo: 1 << 16)
        #expect(response.headers.first(name: "Content-Type") == "application/json")
        return (
            Int(response.status.code), try JSONSerialization.jsonObject(with: Data(bytes.readableBytesView), options: .fragmentsAllowed),
            response.headers
        )
    }

    /// CAMARA's `ErrorInfo`: exactly `status` (the HTTP status), `code` and `message`.
    static func checkError(_ answer: (status: Int, json: Any, headers: HTTPHeaders), _ status: Int, _ code: String) {
        #expect(answer.status == status)
        let object = answer.json as? [String: Any] ?? [:]
        #expect(Set(object.keys) == ["status", "code", "message"])
        #expect(object["status"] as? Int == status)
        #expect(object["code"] as? String == code)
        #expect(object["message"] is String)
    }

    static func isDateTime(_ value: Any?) -> Bool { (value as? String).flatMap(Timestamp.init(rfc3339:)) != nil }

    @Test func everyAnswerHasItsAPIsShape() async throws {
        let fixture = try await OperatorFixture()
        try await fixture.stub.whileServing { url in
            let token = try await Self.token(fixture, url)
            let line = #"{"phoneNumber":"\#(OperatorFixture.swapped)"}"#
            // SIM Swap and Device Swap: latestSimChange / latestDeviceChange required, date-time or null; monitoredPeriod an integer.
            let sim = try await Self.post(url, .simSwap, token: token, body: line, correlator: "b4333c46-49c0-4f62-80d7-f0ef930f1c46")
            #expect(sim.status == 200)
            #expect(sim.headers.first(name: "x-correlator") == "b4333c46-49c0-4f62-80d7-f0ef930f1c46")
            let simInfo = sim.json as! [String: Any]
            #expect(Set(simInfo.keys).isSubset(of: ["latestSimChange", "monitoredPeriod"]) && simInfo.keys.contains("latestSimChange"))
            #expect(Self.isDateTime(simInfo["latestSimChange"]))
            #expect(simInfo["monitoredPeriod"] is Int)
            let device = try await Self.post(url, .deviceSwap, token: token, body: line).json as! [String: Any]
            #expect(Set(device.keys).isSubset(of: ["latestDeviceChange", "monitoredPeriod"]))
            #expect(device["latestDeviceChange"] is NSNull, "required and nullable: no device change in the monitored period")
            // Call Forwarding Signal: a bare array of at least one service from the enum.
            let forwarding = try await Self.post(url, .callForwarding, token: token, body: line).json as! [String]
            #expect(!forwarding.isEmpty && forwarding.allSatisfy(CAMARA.callForwardingServices.contains))
            // Device Roaming Status: roaming required; countryName a list of ISO codes; lastStatusTime a date-time.
            let roaming = try await Self.post(url, .roaming, token: token, body: line).json as! [String: Any]
            #expect(Set(roaming.keys).isSubset(of: ["roaming", "countryCode", "countryName", "lastStatusTime"]))
            #expect(roaming["roaming"] as? Bool == true)
            #expect(roaming["countryName"] as? [String] == ["FR"])
            #expect(Self.isDateTime(roaming["lastStatusTime"]))
            // Device Reachability Status: reachable required; connectivity from DATA and SMS.
            let reachability = try await Self.post(url, .reachability, token: token, body: line).json as! [String: Any]
            #expect(Set(reachability.keys).isSubset(of: ["reachable", "connectivity", "lastStatusTime"]))
            #expect(reachability["reachable"] as? Bool == true)
            #expect((reachability["connectivity"] as? [String]).map { $0.allSatisfy(["DATA", "SMS"].contains) } == true)
            // Number Recycling: phoneNumberRecycled required, a boolean; specifiedDate required in the request.
            let recycled =
                try await Self.post(
                    url, .numberRecycling, token: token,
                    body: #"{"phoneNumber":"\#(OperatorFixture.swapped)","specifiedDate":"2025-01-15"}"#
                ).json as! [String: Any]
            #expect(Set(recycled.keys) == ["phoneNumberRecycled"])
            #expect(recycled["phoneNumberRecycled"] as? Bool == true)
            Self.checkError(try await Self.post(url, .numberRecycling, token: token, body: line), 400, "INVALID_ARGUMENT")
        }
    }

    @Test func refusalsFollowCAMARAsCommonErrors() async throws {
        let fixture = try await OperatorFixture()
        try await fixture.stub.whileServing { url in
            let line = #"{"phoneNumber":"\#(OperatorFixture.swapped)"}"#
            Self.checkError(try await Self.post(url, .simSwap, token: nil, body: line), 401, "UNAUTHENTICATED")
            Self.checkError(try await Self.post(url, .simSwap, token: "forged", body: line), 401, "UNAUTHENTICATED")
            let token = try await Self.token(fixture, url)
            Self.checkError(try await Self.post(url, .simSwap, token: token, body: "{}"), 422, "MISSING_IDENTIFIER")
            Self.checkError(
                try await Self.post(url, .simSwap, token: token, body: #"{"phoneNumber":"07700900001"}"#), 400, "INVALID_ARGUMENT")
            Self.checkError(try await Self.post(url, .simSwap, token: token, body: "not json"), 400, "INVALID_ARGUMENT")
            Self.checkError(try await Self.post(url, .simSwap, token: token, body: line, correlator: "has spaces"), 400, "INVALID_ARGUMENT")
            Self.checkError(
                try await Self.post(url, .simSwap, token: token, body: #"{"phoneNumber":"\#(OperatorFixture.unknown)"}"#), 404,
                "IDENTIFIER_NOT_FOUND")
            Self.checkError(
                try await Self.post(url, .roaming, token: token, body: #"{"phoneNumber":"\#(OperatorFixture.bare)"}"#), 422,
                "SERVICE_NOT_APPLICABLE")
            // A swap older than the monitored period is answered null, as of the time asked.
            let later = try await Self.post(url, .simSwap, token: token, body: line, asOf: "2026-09-01T00:00:00Z").json as! [String: Any]
            #expect(later["latestSimChange"] is NSNull)
            #expect(later["monitoredPeriod"] as? Int == 120)
        }
    }

    @Test func rateLimitsAndQuotasAreTooManyRequestsAndQuotaExceeded() async throws {
        var faults = OperatorStub.Faults()
        faults.rateLimitPerSecond = 1
        let fixture = try await OperatorFixture(faults: faults)
        try await fixture.stub.whileServing { url in
            let token = try await Self.token(fixture, url)
            let line = #"{"phoneNumber":"\#(OperatorFixture.swapped)"}"#
            // Three at once against one a second: the first is answered, another refused.
            let answers = try await withThrowingTaskGroup(of: (Int, String).self) { group in
                for _ in 0..<3 {
                    group.addTask {
                        let answer = try await Self.post(url, .simSwap, token: token, body: line)
                        let text = String(decoding: try JSONSerialization.data(withJSONObject: answer.json), as: UTF8.self)
                        return (answer.status, text)
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(answers.contains { $0.0 == 200 })
            let refused = try #require(answers.first { $0.0 == 429 })
            Self.checkError((429, try JSONSerialization.jsonObject(with: Data(refused.1.utf8)), HTTPHeaders()), 429, "TOO_MANY_REQUESTS")
            var quota = OperatorStub.Faults()
            quota.quota = 2
            fixture.stub.inject(quota)
            Self.checkError(try await Self.post(url, .simSwap, token: token, body: line), 429, "QUOTA_EXCEEDED")
        }
    }

    @Test func theTruthFileIsReadAndItsErrorsNameTheLine() throws {
        let directory = FileManager.default.temporaryDirectory.appending(path: "riskloop-view-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let file = directory.appending(path: "view.jsonl")
        try """
        {"phone_number":"+447700900001","at":"2026-03-02T00:00:00Z","telco":{"call_forwarding":["inactive"]}}
        {"phone_number":"+447700900001","at":"2026-03-01T00:00:00Z","telco":{"call_forwarding":["unconditional"]},"subscriber_since":"2020-01-01T00:00:00Z"}
        """.write(to: file, atomically: true, encoding: .utf8)
        let view = try OperatorView.read(from: file)
        let line = try #require(view.lines["+447700900001"])
        #expect(line.observations.map(\.telco.callForwarding) == [[.unconditional], [.inactive]])
        #expect(
            view.state(of: "+447700900001", at: Timestamp(rfc3339: "2026-03-01T12:00:00Z")!)?.observation.telco.callForwarding == [
                .unconditional
            ])
        #expect(
            view.state(of: "+447700900001", at: Timestamp(rfc3339: "2026-03-05T00:00:00Z")!)?.observation.telco.callForwarding == [
                .inactive
            ])
        try """
        {"phone_number":"+447700900001","at":"2026-03-02T00:00:00Z"}
        {"phone_number":"+447700900001","at":"2026-03-02T00:00:00Z","telco":{"call_forwarding":["sideways"]}}
        """.write(to: file, atomically: true, encoding: .utf8)
        #expect(throws: OperatorViewError.self) { try OperatorView.read(from: file) }
        do {
            _ = try OperatorView.read(from: file)
        } catch {
            #expect(error.description.contains("line 2, field telco.call_forwarding[0]"), "\(error)")
        }
    }

    @Test func aConfigurationErrorNamesTheMember() async throws {
        let fixture = try await OperatorFixture()
        func error(_ text: String) -> String {
            let file = fixture.directory.appending(path: "bad-\(UUID().uuidString).json")
            try! text.write(to: file, atomically: true, encoding: .utf8)
            do {
                _ = try OperatorConfiguration.read(from: file)
                return "no error"
            } catch {
                return error.description
            }
        }
        let good = fixture.configurationJSON(baseURL: "http://127.0.0.1:9400")
        #expect(error(good) == "no error")
        #expect(
            error(good.replacingOccurrences(of: "\"deadline_ms\": 30000", with: "\"deadline_ms\": -1")).contains("deadline_ms: must be"))
        #expect(error(good.replacingOccurrences(of: "\"+44\"", with: "\"44\"")).contains("operators[0].prefixes"))
        #expect(
            error(good.replacingOccurrences(of: "client.pem", with: "missing.pem")).contains("operators[0].credentials_file: cannot read"))
        #expect(
            error(good.replacingOccurrences(of: "\"sim_swap\"", with: "\"sim_swop\"")).contains("operators[0].apis.sim_swop: not an API"))
        #expect(error(good.replacingOccurrences(of: "\"name\"", with: "\"nom\"")).contains("operators[0].nom: not a member"))
        #expect(
            error(
                good.replacingOccurrences(
                    of: "\"deadline_ms\": 30000", with: "\"deadline_ms\": 30000, \"cache_ttl_seconds\": {\"sim_swap\": 600}")
            )
            .contains("cache_ttl_seconds.sim_swap: at most 300 seconds"))
        let configuration = try fixture.configuration(baseURL: "http://127.0.0.1:9400")
        #expect(configuration.route("+447700900001")?.name == "stub")
        #expect(configuration.route("+33612345678") == nil)
        #expect(configuration.deadline == .seconds(30))
        #expect(configuration.cacheTTL[.simSwap] == .seconds(300))
    }
}
