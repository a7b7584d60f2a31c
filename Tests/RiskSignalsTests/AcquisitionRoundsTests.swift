import Foundation
import RiskContract
import RiskFeatures
import RiskModels
import RiskOperatorStub
import RiskScoring
import RiskSignals
import Testing

/// Cost-aware acquisition against the stub, on a hand-made model whose numbers are derived by hand.
///
/// Log-odds: −4, +2 for a SIM swap under 24 h, +2 for unconditional forwarding, +3 for both.
/// Step-up from 0.2 (log-odds −1.386). Either signal alone reaches −2 (0.119, allow); both reach
/// +3 (0.953, block). Forwarding costs 0.04 and SIM swap 0.05, so forwarding is asked first.
@Suite struct AcquisitionRoundsTests {
    static let scorer: Scorer = {
        var swap = Feature(name: "sim_swap_age", kind: .timeSince, source: "telco.sim_swap.latest_change", description: "SIM swapped")
        swap.bucketsHours = [24]
        var forwarding = Feature(name: "forwarding", kind: .contains, source: "telco.call_forwarding", description: "forwarded")
        forwarding.value = "unconditional"
        var cross = Feature(name: "swap_x_forwarding", kind: .cross)
        cross.of = ["sim_swap_age", "forwarding"]
        let spec = FeatureSpec(name: "rounds", features: [swap, forwarding, cross])
        let columns = try! FeatureExtractor(spec: spec).columns
        let weights: [String: Double] = ["sim_swap_age=<24h": 2, "forwarding=true": 2, "sim_swap_age=<24h&forwarding=true": 3]
        let artifact = ModelArtifact(
            algorithm: .logisticRegression, createdAt: Timestamp(millisecondsSinceEpoch: 0), featureSpec: spec.jsonValue, columns: columns,
            logisticRegression: LogisticModel(intercept: -4, weights: columns.map { weights[$0] ?? 0 }),
            hyperparameters: .init(calibration: .none, holdout: "none"),
            training: .init(
                source: "hand", rows: 0, positives: 0, totalWeight: 0, dataSHA256: "", durationSeconds: 0, holdoutRows: 0,
                calibrationRows: 0),
            metrics: .init(holdout: nil))
        return Scorer(
            model: try! ServingModel(artifact),
            policy: DecisionPolicy(version: "t", thresholds: .init(stepUp: 0.2, review: 0.5, block: 0.9)))
    }()

    static func price(_ api: OperatorAPI) -> Double { api == .callForwarding ? 0.04 : 0.05 }

    @Test func forwardingKnownInactiveSettlesTheSwapWithoutACall() async throws {
        let fixture = try await OperatorFixture()
        try await fixture.stub.whileServing { url in
            let configuration = try fixture.configuration(baseURL: url, apis: [.simSwap, .callForwarding], price: Self.price)
            let enricher = try Enricher(configuration: configuration, http: sharedHTTP, sendsAsOf: true)
            let event = ParsedEvent(event: OperatorFixture.event(phone: OperatorFixture.quiet))
            // Explore share 2%: this id is not one of them (else every signal would be asked).
            #expect(!Enricher.explores(event.event!, share: configuration.exploreShare))
            let enrichment = await enricher.enrich(event, at: OperatorFixture.now, strategy: .costAware, scorer: Self.scorer)
            #expect(enrichment.origins[.callForwarding] == .fetched(operator: "stub"))
            #expect(enrichment.origins[.simSwap] == .unknown(reason: "not_needed"))
            #expect(enrichment.calls == 1)
            #expect(abs(enrichment.cost - 0.04) < 1e-12)
            #expect(fixture.stub.calls[.simSwap] == nil)
        }
    }

    @Test func forwardingActiveMakesTheSwapWorthASecondRound() async throws {
        let fixture = try await OperatorFixture()
        try await fixture.stub.whileServing { url in
            let configuration = try fixture.configuration(baseURL: url, apis: [.simSwap, .callForwarding], price: Self.price)
            let enricher = try Enricher(configuration: configuration, http: sharedHTTP, sendsAsOf: true)
            let event = ParsedEvent(event: OperatorFixture.event(phone: OperatorFixture.swapped))
            let costAware = await enricher.enrich(event, at: OperatorFixture.now, strategy: .costAware, scorer: Self.scorer)
            #expect(costAware.origins[.callForwarding] == .fetched(operator: "stub"))
            #expect(costAware.origins[.simSwap] == .fetched(operator: "stub"))
            #expect(costAware.calls == 2)
            // Swapped 2.5 h before and forwarded: +3 → 0.953, block.
            #expect(Self.scorer.score(costAware.parsed(event)).decision == .block)
            // Never (with a cache of its own): nothing asked, nothing known.
            let never = await try Enricher(configuration: configuration, http: sharedHTTP, sendsAsOf: true).enrich(
                event, at: OperatorFixture.now, strategy: .never, scorer: Self.scorer)
            #expect(never.calls == 0 && never.values.isEmpty)
            #expect(never.originsJSON[path: "acquisition"] == .string("never"))
        }
    }
}
