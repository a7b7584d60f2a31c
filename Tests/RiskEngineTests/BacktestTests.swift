import Foundation
import RiskContract
import RiskFeatures
import RiskModels
import RiskScoring
import RiskStore
import RiskStoreLocation
import Testing

@testable import RiskEngine

/// A backtest on five hand-made decisions, every number derived by hand.
///
/// The model adds 3 to the log-odds (intercept −2) when unconditional call forwarding is active:
/// forwarded events score σ(1) ≈ 0.731, others σ(−2) ≈ 0.119. The logged policy (step-up 0.2,
/// review 0.5, block 0.9) reviewed the forwarded ones and allowed the others.
@Suite struct BacktestTests {
    static let spec: FeatureSpec = {
        var forwarding = Feature(
            name: "forwarding", kind: .contains, source: "telco.call_forwarding", description: "unconditional call forwarding active")
        forwarding.value = "unconditional"
        return FeatureSpec(name: "backtest-test", features: [forwarding])
    }()

    static func artifact(weight: Double) throws -> ModelArtifact {
        ModelArtifact(
            algorithm: .logisticRegression, createdAt: Timestamp(millisecondsSinceEpoch: 0), featureSpec: spec.jsonValue,
            columns: try FeatureExtractor(spec: spec).columns, logisticRegression: LogisticModel(intercept: -2, weights: [weight, 0, 0]),
            hyperparameters: .init(calibration: .none, holdout: "none"),
            training: .init(
                source: "hand", rows: 0, positives: 0, totalWeight: 0, dataSHA256: "", durationSeconds: 0, holdoutRows: 0,
                calibrationRows: 0),
            metrics: .init(holdout: nil))
    }

    static let logged = DecisionPolicy(version: "logged-1", thresholds: .init(stepUp: 0.2, review: 0.5, block: 0.9))
    /// Stricter: forwarded (0.731) is blocked, the others (0.119) stepped up, and an SMS code
    /// always reviewed.
    static let stricter = DecisionPolicy(
        version: "stricter-1", thresholds: .init(stepUp: 0.1, review: 0.6, block: 0.7),
        rules: [.init(name: "sms-code", when: .equals(path: "otp.channel", value: .string("sms")), atLeast: .review)])

    static let start = Timestamp(year: 2026, month: 3, day: 1)!

    /// e1 forwarded 100 fraud · e2 50 fraud · e3 20 genuine · e4 forwarded 10 unlabelled · e5 SMS code 30 unlabelled.
    static func store() async throws -> (store: any Store, model: ModelArtifact) {
        let store = try await StoreLocation(":memory:").open()
        let model = try artifact(weight: 3)
        try await store.register(ModelRegistration(model), status: .champion, actor: "test")
        try await store.record(logged, actor: "test")
        let rows: [(String, Bool, Double, String?, Int)] = [
            ("e1", true, 100, nil, 1), ("e2", false, 50, nil, 2), ("e3", false, 20, nil, 3), ("e4", true, 10, nil, 4),
            ("e5", false, 30, "sms", 5),
        ]
        try await store.log(
            try rows.map { id, forwarded, amount, otp, hour in
                let time = start.adding(hours: Double(hour))
                let text = """
                    {"id":"\(id)","occurred_at":"\(time.rfc3339)","customer_id":"c\(hour)","kind":"payment","amount":\(amount),\
                    \(otp.map { #""otp":{"channel":"\#($0)"},"# } ?? "")"telco":{"call_forwarding":["\(forwarded ? "unconditional" : "inactive")"]}}
                    """
                let score = 1 / (1 + exp(forwarded ? -1.0 : 2.0))
                return DecisionRecord(
                    event: try Event.decode(jsonLine: Array(text.utf8)), payload: text, decidedAt: time, modelId: model.id,
                    policyVersion: logged.version, score: score, decision: forwarded ? "review" : "allow", reasons: "[]")
            })
        _ = try await store.ingest(
            labels: [("e1", Outcome.fraud), ("e2", .fraud), ("e3", .genuine)].map {
                Label(eventId: $0.0, outcome: $0.1, reportedAt: start.adding(days: 5), source: "chargeback")
            }, source: "test")
        return (store, model)
    }

    @Test func aStricterPolicyAgainstWhatWasDecided() async throws {
        let (store, _) = try await Self.store()
        let report = try await Backtest(store: store).run(
            from: Self.start, to: Self.start.adding(days: 2), candidate: .init(policy: Self.stricter),
            labelsKnownAt: Self.start.adding(days: 10))
        // Logged: e1 reviewed (caught 100), e2 allowed (missed 50), e4 reviewed unlabelled (a false
        // alarm); two reviews in two days.
        var logged = Backtest.Summary()
        (logged.fraudCaught, logged.fraudCaughtAmount, logged.fraudMissed, logged.fraudMissedAmount) = (1, 100, 1, 50)
        (logged.falseAlarms, logged.stepUps, logged.reviewsPerDay) = (1, 0, 1)
        #expect(report.logged == logged)
        // Candidate: e1 and e4 blocked, e2 and e3 stepped up, e5 reviewed by the rule: both frauds
        // caught (150), e4 and e5 false alarms, one review in two days.
        var candidate = Backtest.Summary()
        (candidate.fraudCaught, candidate.fraudCaughtAmount, candidate.fraudMissed, candidate.fraudMissedAmount) = (2, 150, 0, 0)
        (candidate.falseAlarms, candidate.stepUps, candidate.reviewsPerDay) = (2, 2, 0.5)
        #expect(report.candidate == candidate)
        #expect(report.rules == [.init(name: "sms-code", hits: 1, fraud: 0, precision: 0)])
        #expect(report.changed.map(\.eventId) == ["e1", "e2", "e3", "e4", "e5"])
        #expect(report.changed.map(\.candidateDecision) == ["block", "step_up", "step_up", "block", "review"])
        #expect(report.changed.map(\.label) == ["fraud", "fraud", "genuine", nil, nil])
        #expect(abs(report.changed[0].candidateScore - 1 / (1 + exp(-1.0))) < 1e-12)
        #expect(report.decisions == 5 && report.eventsMissing == 0 && report.model == nil && report.policy == "stricter-1")
        #expect(report.weeks.count == 1 && report.weeks[0].days == 2 && report.weeks[0].candidate == candidate)
        // The JSON names the issue's keys.
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = try #require(try JSONSerialization.jsonObject(with: try encoder.encode(report)) as? [String: Any])
        let summary = try #require(json["candidate"] as? [String: Any])
        #expect(
            Set(summary.keys)
                == [
                    "fraud_caught", "fraud_caught_amount", "fraud_missed", "fraud_missed_amount", "false_alarms", "step_ups",
                    "reviews_per_day",
                ])
        #expect(json["note"] as? String == "unlabelled events count as genuine")
    }

    /// A model adding 5 instead of 3: forwarded events score σ(3) ≈ 0.953, blocked by the logged policy.
    @Test func aCandidateModelWithThePolicyAsLogged() async throws {
        let (store, _) = try await Self.store()
        let challenger = try ServingModel(try Self.artifact(weight: 5))
        let report = try await Backtest(store: store).run(
            from: Self.start, to: Self.start.adding(days: 2), candidate: .init(model: challenger),
            labelsKnownAt: Self.start.adding(days: 10))
        #expect(report.changed.map(\.eventId) == ["e1", "e4"] && report.changed.map(\.candidateDecision) == ["block", "block"])
        #expect(report.candidate.fraudCaught == 1 && report.candidate.fraudMissed == 1 && report.candidate.falseAlarms == 1)
        #expect(report.candidate.reviewsPerDay == 0 && report.model == challenger.artifact.id && report.policy == nil)
    }

    @Test func labelsReportedLaterAreNotKnownAndUnlabelledCountsAsGenuine() async throws {
        let (store, _) = try await Self.store()
        let report = try await Backtest(store: store).run(
            from: Self.start, to: Self.start.adding(days: 2), candidate: .init(policy: Self.stricter),
            labelsKnownAt: Self.start.adding(days: 1))
        // No label known yet: nothing caught or missed; every reviewed or blocked event is a false alarm.
        #expect(report.logged.fraudCaught == 0 && report.logged.fraudMissed == 0 && report.logged.falseAlarms == 2)
        #expect(report.candidate.falseAlarms == 3)
    }

    @Test func withoutACandidateNothingRunsAndAnEmptyPeriodHoldsNothing() async throws {
        let (store, _) = try await Self.store()
        await #expect(throws: EngineError.self) {
            try await Backtest(store: store).run(from: Self.start, to: Self.start.adding(days: 2), candidate: .init())
        }
        let empty = try await Backtest(store: store).run(from: Self.start, to: Self.start, candidate: .init(policy: Self.stricter))
        #expect(empty.decisions == 0 && empty.days == 0 && empty.weeks.isEmpty && empty.changed.isEmpty)
    }
}
