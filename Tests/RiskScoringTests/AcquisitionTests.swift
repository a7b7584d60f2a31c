import Foundation
import RiskContract
import RiskFeatures
import RiskModels
import Testing

@testable import RiskScoring

/// Whether an unknown signal is worth a call, on the hand-made model: every number derived by hand.
///
/// Weights: `sim_swap_age=<24h` +2, `forwarding=true` +3, the cross `sim_swap_age=<24h&payee.new=true`
/// +1.5; intercept −2. Thresholds: step-up 0.2 (log-odds −1.386), review 0.5 (0), block 0.9 (2.197).
@Suite struct AcquisitionTests {
    static let scorer = Scorer(
        model: try! ServingModel(
            Handmade.artifact(
                weights: Handmade.weights(["sim_swap_age=<24h": 2, "forwarding=true": 3, "sim_swap_age=<24h&payee.new=true": 1.5]),
                intercept: -2)),
        policy: Handmade.policy)

    @Test func bothUnknownCanRaiseAnAllowToABlock() throws {
        // Now: −2 → 0.119, allow. A swap under 24 h with forwarding and a new payee: −2 + 2 + 3 + 1.5 = 4.5 → 0.989, block.
        let need = Self.scorer.acquisitionNeed(try Handmade.event(#""payee":{"new":true}"#), unknown: ["sim_swap", "call_forwarding"])
        #expect(need.decision == .allow)
        #expect(need.possible == [.allow, .stepUp, .review, .block])
        #expect(need.members == ["sim_swap", "call_forwarding"])
    }

    @Test func aSignalWhoseBestCaseStaysUnderTheNextThresholdIsNotWorthACall() throws {
        // Forwarding known inactive, payee not new: the swap can add at most 2: −2 + 2 = 0 → 0.5, review; so it is worth it …
        let worth = Self.scorer.acquisitionNeed(
            try Handmade.event(#""payee":{"new":false},"telco":{"call_forwarding":["inactive"]}"#), unknown: ["sim_swap"])
        #expect(worth.possible == [.allow, .stepUp, .review])
        #expect(worth.members == ["sim_swap"])
        // … but with a lower weight it is not: intercept −4, the swap reaches −2 → 0.119, still allow.
        let low = Scorer(
            model: try ServingModel(
                Handmade.artifact(weights: Handmade.weights(["sim_swap_age=<24h": 2, "forwarding=true": 3]), intercept: -4)),
            policy: Handmade.policy)
        let need = low.acquisitionNeed(
            try Handmade.event(#""payee":{"new":false},"telco":{"call_forwarding":["inactive"]}"#), unknown: ["sim_swap"])
        #expect(need.decision == .allow)
        #expect(need.possible == [.allow])
        #expect(need.members.isEmpty)
        #expect(!need.canChange)
    }

    @Test func aSignalTheModelDoesNotReadIsNeverWorthACall() throws {
        let need = Self.scorer.acquisitionNeed(try Handmade.event(#""payee":{"new":true}"#), unknown: ["roaming"])
        #expect(need.possible == [.allow])
        #expect(need.members.isEmpty)
    }

    @Test func aRuleTheSignalLeavesUndecidedMakesItWorthACall() throws {
        let rule = DecisionPolicy.Rule(
            name: "sms-while-roaming",
            when: .all([.equals(path: "otp.channel", value: .string("sms")), .equals(path: "telco.roaming.roaming", value: .bool(true))]),
            atLeast: .stepUp)
        var policy = Handmade.policy
        policy.rules = [rule]
        let scorer = Scorer(model: Self.scorer.model, policy: policy)
        // An SMS code: the rule may hold once roaming is known, raising allow to step-up.
        let sms = scorer.acquisitionNeed(
            try Handmade.event(#""otp":{"channel":"sms"},"telco":{"call_forwarding":["inactive"]}"#), unknown: ["roaming"])
        #expect(sms.possible == [.allow, .stepUp])
        #expect(sms.members == ["roaming"])
        // An app code: the rule's other condition is false, whatever roaming says.
        let app = scorer.acquisitionNeed(
            try Handmade.event(#""otp":{"channel":"app"},"telco":{"call_forwarding":["inactive"]}"#), unknown: ["roaming"])
        #expect(app.possible == [.allow])
        #expect(app.members.isEmpty)
    }

    @Test func theHistoryIsNotTouched() throws {
        let scorer = Scorer(model: Self.scorer.model, policy: Handmade.policy)
        let event = try Handmade.event(#""payee":{"new":true}"#)
        let before = scorer.score(event)
        _ = scorer.acquisitionNeed(event, unknown: ["sim_swap", "call_forwarding"])
        #expect(scorer.score(event) == before)
    }
}
