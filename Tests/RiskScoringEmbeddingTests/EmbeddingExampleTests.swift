import Foundation
// RiskFeatures (events) and RiskModels (the artifact) come with RiskScoring: this target declares
// RiskScoring alone, as a service that only scores would.
import RiskContract
import RiskFeatures
import RiskScoring
import Testing

/// The README's embedding example, run: a service loads a model file and a policy, and scores
/// events as JSON arrives, with no database and no web framework.
@Suite struct EmbeddingExampleTests {
    static func resource(_ name: String) -> URL {
        Bundle.module.url(forResource: "Resources/\(name)", withExtension: nil)!
    }

    static let scorer: Scorer = {
        let model = try! ServingModel(contentsOf: resource("ss7-sample-model.json"))
        let policy = try! DecisionPolicy.decode(from: Data(contentsOf: resource("policy.json")))
        return Scorer(model: model, policy: policy)
    }()

    static func event(_ id: String, _ body: String) throws -> ParsedEvent {
        try ParsedEvent(jsonLine: Array((#"{"id":"\#(id)","customer_id":"c-embed-\#(id)","# + body + "}").utf8))
    }

    @Test func aSIMSwapTakeoverScoresFarAboveAnOrdinaryPaymentAndSaysWhy() throws {
        let ordinary = try Self.event(
            "ordinary",
            """
            "occurred_at":"2026-02-10T13:05:00Z","kind":"payment","amount":42.5,"currency":"GBP","channel":"app",\
            "payee":{"id":"p1","new":false},"device":{"id":"d1","new_for_customer":false,"os":"ios","rooted":false},\
            "ip":{"country":"GB","hosting":false},"otp":{"channel":"app"},\
            "telco":{"sim_swap":{"latest_change":null,"monitored_period_days":90},"call_forwarding":["inactive"],\
            "roaming":{"roaming":false,"country_codes":[]},"reachability":{"reachable":true,"connectivity":["DATA","SMS"]},\
            "location_verification":"TRUE","ss7":{"foreign_location_updates_24h":0,"sri_for_sm_requests_24h":1}}
            """)
        let takeover = try Self.event(
            "takeover",
            """
            "occurred_at":"2026-02-10T02:40:00Z","kind":"payment","amount":4800,"currency":"GBP","channel":"web",\
            "payee":{"id":"mule","new":true},"device":{"id":"dx","new_for_customer":true,"os":"android","rooted":true},\
            "ip":{"country":"GB","hosting":true},"otp":{"channel":"sms"},\
            "telco":{"sim_swap":{"latest_change":"2026-02-09T23:40:00Z","monitored_period_days":90},"call_forwarding":["inactive"],\
            "roaming":{"roaming":false,"country_codes":[]},"reachability":{"reachable":true,"connectivity":["DATA","SMS"]},\
            "location_verification":"TRUE","ss7":{"foreign_location_updates_24h":0,"sri_for_sm_requests_24h":2}}
            """)
        let calm = Self.scorer.score(ordinary), alarm = Self.scorer.score(takeover)
        #expect(calm.probability < 0.2 && calm.decision == .allow)
        #expect(alarm.probability > 0.5 && alarm.decision >= .review)
        #expect(alarm.reasons.count == 3)
        // The committed model's largest push for this event: the attacker's never-seen device.
        #expect(alarm.reasons.map(\.text).contains("device never seen for this customer"))
        #expect(alarm.reasons.allSatisfy { $0.contribution > 0 })
        #expect(alarm.modelId.hasPrefix("lr-") && alarm.policyVersion == "ss7-2026-11-23.1")
    }

    @Test func anSMSCodeToAnUnreachableNumberIsSteppedUpWhateverTheScore() throws {
        let redirected = try Self.event(
            "redirected",
            """
            "occurred_at":"2026-02-11T13:05:00Z","kind":"otp_request","otp":{"channel":"sms"},\
            "telco":{"reachability":{"reachable":true,"connectivity":["DATA"]}}
            """)
        let score = Self.scorer.score(redirected)
        #expect(score.decision >= .stepUp)
        if score.probability < 0.2 { #expect(score.rulesApplied == ["sms-otp-to-a-redirected-number"]) }
    }
}
