import Foundation
import Hummingbird
import HummingbirdTesting
import RiskContract
import RiskStore
import RiskStoreTesting
import Testing

@testable import RiskServer

/// The review queue over HTTP: who may read and resolve cases, what a case shows, resolution to
/// a label, step-up outcomes, and the queue's gauges.
@Suite struct CaseRoutesTests {
    static func json(_ response: TestResponse) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any])
    }

    static func metric(_ text: String, _ name: String) -> Double? {
        text.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap { $0.split(separator: " ").last.flatMap { Double($0) } }
    }

    @Test(arguments: Backend.allCases)
    func theQueueIsForAnalystsAndAResolutionBecomesALabel(backend: Backend) async throws {
        let fixture = try await Fixture(backend)
        try await fixture.test { client in
            // Forwarded: σ(1) ≈ 0.73, a review, which opens a case; not forwarded: allowed, none.
            try await fixture.score("e1", with: client)
            let beforeE2 = Date()
            try await fixture.score("e2", with: client)
            try await client.execute(
                uri: "/v1/score", method: .post, headers: fixture.headers(.score), body: ByteBuffer(string: event("e3", forwarded: false))
            ) { _ in }
            for role in [APIRole.score, .label] {
                try await client.execute(uri: "/v1/cases", method: .get, headers: fixture.headers(role)) { response in
                    #expect(response.status == .forbidden, "\(role)")
                }
            }
            // An analyst's key reads cases and nothing else.
            try await client.execute(
                uri: "/v1/score", method: .post, headers: fixture.headers(.analyst), body: ByteBuffer(string: event("e9"))
            ) {
                response in
                #expect(response.status == .forbidden)
            }
            try await client.execute(uri: "/v1/models", method: .get, headers: fixture.headers(.analyst)) { response in
                #expect(response.status == .forbidden)
            }
            var id = 0
            for role in [APIRole.analyst, .admin] {
                try await client.execute(uri: "/v1/cases", method: .get, headers: fixture.headers(role)) { response in
                    #expect(response.status == .ok)
                    let cases = try #require(try Self.json(response)["cases"] as? [[String: Any]])
                    #expect(cases.map { $0["event_id"] as? String } == ["e1", "e2"])
                    #expect(cases[0]["trigger"] as? String == "review" && cases[0]["status"] as? String == "open")
                    #expect(cases[0].keys.contains("resolution") && cases[0]["resolution"] is NSNull)
                    id = try #require(cases[0]["id"] as? Int)
                }
            }
            try await client.execute(uri: "/v1/cases/\(id)", method: .get, headers: fixture.headers(.analyst)) { response in
                #expect(response.status == .ok)
                let file = try Self.json(response)
                let reviewCase = try #require(file["case"] as? [String: Any])
                #expect(reviewCase["event_id"] as? String == "e1" && reviewCase["decision"] as? String == "review")
                let reasons = try #require(reviewCase["reasons"] as? [[String: Any]])
                #expect(reasons.first?["text"] as? String == "unconditional call forwarding active")
                #expect((file["event"] as? [String: Any])?["id"] as? String == "e1")
                #expect(file["rules"] as? [String] == [])
                let signals = try #require(file["signals"] as? [[String: Any]])
                #expect(signals.count == TelcoSignals.fieldNames.count)
                let forwarding = try #require(signals.first { $0["name"] as? String == "call_forwarding" })
                #expect(forwarding["value"] as? [String] == ["unconditional"] && forwarding["source"] as? String == "event")
                let swap = try #require(signals.first { $0["name"] as? String == "sim_swap" })
                #expect(swap["value"] is NSNull && swap["source"] as? String == "unknown")
                // Every event of the fixture occurs at the same instant: none is before e1.
                let usual = try #require(file["usual"] as? [String: Any])
                #expect(usual["events"] as? Int == 0 && usual["days"] as? Double == 30)
            }
            // Bad resolutions name their field; nothing is stored.
            for (body, field) in [
                (#"{"outcome":"fraud"}"#, "note"), (#"{"outcome":"fraud","note":""}"#, "note"),
                (#"{"outcome":"maybe","note":"n"}"#, "outcome"),
                ("[1]", nil),
            ] {
                try await client.execute(
                    uri: "/v1/cases/\(id)/resolve", method: .post, headers: fixture.headers(.analyst), body: ByteBuffer(string: body)
                ) { response in
                    #expect(response.status == .badRequest)
                    let error = try errorBody(response)
                    #expect(error.field == field)
                }
            }
            let resolution = #"{"outcome":"fraud","note":"customer did not make this payment"}"#
            try await client.execute(
                uri: "/v1/cases/\(id)/resolve", method: .post, headers: fixture.headers(.analyst), body: ByteBuffer(string: resolution)
            ) { response in
                #expect(response.status == .ok)
                let resolved = try Self.json(response)
                #expect(resolved["status"] as? String == "resolved")
                let detail = try #require(resolved["resolution"] as? [String: Any])
                #expect(detail["outcome"] as? String == "fraud" && detail["resolved_by"] as? String == "api-key:analyst")
            }
            try await client.execute(
                uri: "/v1/cases/\(id)/resolve", method: .post, headers: fixture.headers(.admin), body: ByteBuffer(string: resolution)
            ) { response in
                #expect(response.status == .conflict)
                let error = try errorBody(response)
                #expect(error.code == "case_resolved")
            }
            for (uri, status, code) in [
                ("/v1/cases/999", HTTPResponse.Status.notFound, "unknown_case"), ("/v1/cases/abc", .badRequest, "invalid_parameter"),
                ("/v1/cases?status=bogus", .badRequest, "invalid_parameter"), ("/v1/cases?limit=0", .badRequest, "invalid_parameter"),
                ("/v1/cases?opened_from=yesterday", .badRequest, "invalid_parameter"),
            ] {
                try await client.execute(uri: uri, method: .get, headers: fixture.headers(.analyst)) { response in
                    #expect(response.status == status, "\(uri)")
                    let error = try errorBody(response)
                    #expect(error.code == code, "\(uri)")
                }
            }
            for (query, events) in [("status=resolved", ["e1"]), ("status=all", ["e1", "e2"]), ("", ["e2"]), ("customer_id=nobody", [])] {
                try await client.execute(uri: "/v1/cases?\(query)", method: .get, headers: fixture.headers(.analyst)) { response in
                    let cases = try #require(try Self.json(response)["cases"] as? [[String: Any]])
                    #expect(cases.map { $0["event_id"] as? String } == events, "\(query)")
                }
            }
            try await client.execute(uri: "/metrics", method: .get) { response in
                let text = String(buffer: response.body)
                #expect(Self.metric(text, "riskloop_cases_open") == 1)
                #expect(Self.metric(text, #"riskloop_cases_resolved{outcome="fraud"}"#) == 1)
                #expect(Self.metric(text, #"riskloop_cases_resolved{outcome="genuine"}"#) == 0)
                let age = try #require(Self.metric(text, "riskloop_cases_oldest_open_age_seconds"))
                // No older than the time since e2 was scored (the whole suite on two cores can
                // make that more than a minute).
                #expect(age >= 0 && age <= Date().timeIntervalSince(beforeE2) + 1, "e2's case opened moments ago")
            }
        }
        let labels = try await fixture.store.labelVersions(eventId: "e1")
        #expect(labels.map(\.source) == ["analyst"] && labels.map(\.outcome) == [.fraud])
        let audit = try #require(try await fixture.store.auditEntries().last)
        #expect(audit.action == "case.resolve" && audit.actor == "api-key:analyst" && audit.subject == "e1")
        #expect(audit.reason == "customer did not make this payment")
    }

    @Test(arguments: Backend.allCases)
    func aStepUpTheServiceReportsFailedOpensACase(backend: Backend) async throws {
        let fixture = try await Fixture(backend)
        let text = event("s1", forwarded: false)
        try await fixture.store.log([
            DecisionRecord(
                event: try Event.decode(jsonLine: Array(text.utf8)), payload: text, decidedAt: Timestamp(year: 2026, month: 3, day: 1)!,
                modelId: fixture.champion.id, policyVersion: "policy-9", score: 0.3, decision: "step_up", reasons: "[]")
        ])
        try await fixture.test { client in
            try await fixture.score("e1", with: client)
            func report(_ id: String, _ body: String, _ role: APIRole = .score, _ check: @escaping @Sendable (TestResponse) throws -> Void)
                async throws
            {
                try await client.execute(
                    uri: "/v1/events/\(id)/outcome", method: .post, headers: fixture.headers(role), body: ByteBuffer(string: body)
                ) { response in try check(response) }
            }
            try await report("s1", #"{"step_up":"failed"}"#, .analyst) { #expect($0.status == .forbidden) }
            try await report("s1", #"{"step_up":"maybe"}"#) { response in
                let error = try errorBody(response)
                #expect(response.status == .badRequest && error.field == "step_up")
            }
            try await report("nope", #"{"step_up":"failed"}"#) { response in
                let error = try errorBody(response)
                #expect(response.status == .notFound && error.code == "unknown_event")
            }
            try await report("e1", #"{"step_up":"failed"}"#) { response in
                let error = try errorBody(response)
                #expect(response.status == .conflict && error.code == "step_up_conflict")
            }
            try await report("s1", #"{"step_up":"failed"}"#) { response in
                #expect(response.status == .ok)
                let answer = try Self.json(response)
                #expect(answer["event_id"] as? String == "s1" && answer["step_up"] as? String == "failed")
                let reviewCase = try #require(answer["case"] as? [String: Any])
                #expect(reviewCase["trigger"] as? String == "step_up_failed" && reviewCase["decision"] as? String == "step_up")
            }
            try await report("s1", #"{"step_up":"passed"}"#) { response in
                #expect(response.status == .conflict)
            }
        }
        // e1's case opened when it was scored; s1's when its step-up was reported, after.
        #expect(try await fixture.store.cases(CaseFilter()).map(\.eventId) == ["e1", "s1"])
    }
}
