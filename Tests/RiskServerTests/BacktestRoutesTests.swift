import Foundation
import Hummingbird
import HummingbirdTesting
import RiskContract
import RiskEngine
import RiskScoring
import RiskStore
import RiskStoreTesting
import Testing

@testable import RiskServer

@Suite struct BacktestRoutesTests {
    /// The fixture's policy reviewed e1 (forwarded, σ(1) ≈ 0.731) and allowed e3 (σ(−2) ≈ 0.119);
    /// the stricter one blocks e1 and steps e3 up. e1 is labelled fraud.
    @Test(arguments: Backend.allCases)
    func anAdminBacktestsAStricterPolicyOverHTTP(backend: Backend) async throws {
        let fixture = try await Fixture(backend)
        let now = RiskService.now
        // Backtests over HTTP name the versions the store holds.
        try await fixture.store.record(
            DecisionPolicy(version: "stricter", thresholds: .init(stepUp: 0.1, review: 0.6, block: 0.7)), actor: "test")
        try await fixture.test { client in
            try await fixture.score("e1", with: client)
            try await client.execute(
                uri: "/v1/score", method: .post, headers: fixture.headers(.score), body: ByteBuffer(string: event("e3", forwarded: false))
            ) { _ in }
            let label = #"{"event_id":"e1","outcome":"fraud","reported_at":"2026-03-02T00:00:00Z","source":"chargeback"}"#
            try await client.execute(uri: "/v1/labels", method: .post, headers: fixture.headers(.label), body: ByteBuffer(string: label)) {
                _ in
            }
            let period = #""from":"\#(now.adding(hours: -1).rfc3339)","to":"\#(now.adding(hours: 1).rfc3339)""#
            let stricter = #""policy":"stricter""#
            try await client.execute(
                uri: "/v1/backtests", method: .post, headers: fixture.headers(.label), body: ByteBuffer(string: "{\(period),\(stricter)}")
            ) { response in
                #expect(response.status == .forbidden)
            }
            for (body, status, field) in [
                ("{\(stricter)}", HTTPResponse.Status.badRequest, "from"), ("{\(period)}", .badRequest, "policy"),
                (#"{\#(period),"model":"nope"}"#, .notFound, "model"), (#"{\#(period),"policy":"nope"}"#, .notFound, "policy"),
                (#"{\#(period),"policy":{"version":"x"}}"#, .badRequest, "policy"),
            ] {
                try await client.execute(
                    uri: "/v1/backtests", method: .post, headers: fixture.headers(.admin), body: ByteBuffer(string: body)
                ) {
                    response in
                    #expect(response.status == status, "\(body)")
                    let error = try errorBody(response)
                    #expect(error.field == field, "\(body)")
                }
            }
            try await client.execute(
                uri: "/v1/backtests", method: .post, headers: fixture.headers(.admin), body: ByteBuffer(string: "{\(period),\(stricter)}")
            ) { response in
                #expect(response.status == .ok)
                let report = try #require(try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any])
                let logged = try #require(report["logged"] as? [String: Any]),
                    candidate = try #require(report["candidate"] as? [String: Any])
                #expect(logged["fraud_caught"] as? Int == 1 && logged["step_ups"] as? Int == 0 && logged["false_alarms"] as? Int == 0)
                #expect(
                    candidate["fraud_caught"] as? Int == 1 && candidate["step_ups"] as? Int == 1 && candidate["false_alarms"] as? Int == 0)
                // Two hours of period: one review (e1) logged is 12 a day; none in the candidate.
                #expect(logged["reviews_per_day"] as? Double == 12 && candidate["reviews_per_day"] as? Double == 0)
                let changed = try #require(report["changed"] as? [[String: Any]])
                #expect(changed.map { $0["event_id"] as? String } == ["e1", "e3"])
                #expect(changed.map { $0["candidate_decision"] as? String } == ["block", "step_up"])
                #expect(report["policy"] as? String == "stricter")
            }
        }
    }
}
