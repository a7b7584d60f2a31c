import Foundation
import GRDB
import RiskContract
import RiskFeatures
import RiskModels
import RiskScoring
import RiskStore
import Testing

@testable import RiskEngine

@Suite struct DecisionReplayTests {
    static let policy = DecisionPolicy(version: "replay-test-1", thresholds: .init(stepUp: 0.05, review: 0.3, block: 0.8))

    /// A week of decisions logged by the demo's replay (labels arriving as reported), from a day-20 champion.
    /// `beforeScoring` may change the stored events first (given the database's path).
    static func loggedWeek(policy: DecisionPolicy = policy, beforeScoring: (String) throws -> Void = { _ in }) async throws
        -> SimulatedStore
    {
        let bank = try await SimulatedStore(days: 28, labelsBefore: SimulatedStore.start.adding(days: 20))
        _ = try await bank.trainChampion(until: 20)
        try beforeScoring(bank.path)
        var retrain = FeedbackLoopTests.policy
        retrain.minNewLabels = 1_000_000
        retrain.intervalHours = 1_000_000
        let loop = FeedbackLoop(store: try await bank.open(), policy: retrain, actor: "test")
        _ = try await FeedbackReplay(loop: loop, policy: policy).run(
            from: bank.day(20), to: bank.day(27), labels: bank.simulation.labels, isFraud: [:])
        return bank
    }

    @Test func everyLoggedDecisionReproducesAndAChangedOneIsReported() async throws {
        let bank = try await Self.loggedWeek()
        defer { bank.remove() }
        let replay = DecisionReplay(store: try await bank.open(), historyDays: FeedbackLoopTests.policy.historyDays)
        let report = try await replay.run(from: bank.day(0), to: bank.day(30))
        let logged = try await DatabaseQueue(path: bank.path).read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM decisions") ?? 0 }
        #expect(logged > 1000)
        #expect(report.decisions == logged && report.reproduced == logged && report.differences.isEmpty)
        #expect(report.maxScoreDifference == 0)
        #expect(report.versions.map(\.policyVersion) == ["replay-test-1"])

        // Two logged decisions altered after the fact: one decision, one score.
        try await DatabaseQueue(path: bank.path).write { db in
            try db.execute(sql: "UPDATE decisions SET decision = CASE decision WHEN 'block' THEN 'allow' ELSE 'block' END WHERE id = 10")
            try db.execute(sql: "UPDATE decisions SET score = score + 1e-9 WHERE id = 20")
        }
        let altered = try await replay.run(from: bank.day(0), to: bank.day(30))
        #expect(altered.differences.map(\.decisionId) == [10, 20])
        #expect(altered.differences[0].reason == "the decision differs")
        #expect(altered.differences[1].reason.hasPrefix("the score differs by"))
        #expect(altered.reproduced == logged - 2)
    }

    /// A rule on a field outside the event contract (which only the event's JSON holds), with a
    /// model whose features all read contract fields: replay must keep each event's JSON for the
    /// policy's sake, or the rule never fires and the decisions it made look changed.
    @Test func aPolicyRuleOnAFieldOutsideTheContractIsReplayedAsDecided() async throws {
        let rule = DecisionPolicy.Rule(
            name: "quasi-cash merchant", when: .equals(path: "merchant.mcc", value: .string("6051")), atLeast: .review)
        let policy = DecisionPolicy(version: "replay-test-json", thresholds: Self.policy.thresholds, rules: [rule])
        #expect(policy.needsJSON && !Self.policy.needsJSON)
        let bank = try await Self.loggedWeek(policy: policy) { path in
            try DatabaseQueue(path: path).write { db in
                try db.execute(
                    sql: """
                        UPDATE events SET payload = json_set(payload, '$.merchant', json('{"mcc":"6051"}'))
                        WHERE kind = 'payment' AND rowid % 3 = 0
                        """)
            }
        }
        defer { bank.remove() }
        let store = try await bank.open()
        let model = try await DecisionReplay(store: store, historyDays: 7).verifiedModel(try #require(try await store.championId()))
        #expect(!model.extractor.needsJSON)
        // The rule raised some decisions when they were made.
        let raised = try await DatabaseQueue(path: bank.path).read { db in
            try Int.fetchOne(
                db,
                sql: """
                    SELECT COUNT(*) FROM decisions d JOIN events e ON e.id = d.event_id
                    WHERE json_extract(e.payload, '$.merchant.mcc') = '6051' AND d.decision = 'review' AND d.score < ?
                    """, arguments: [Self.policy.thresholds.review]) ?? 0
        }
        #expect(raised > 100)
        let report = try await DecisionReplay(store: store, historyDays: FeedbackLoopTests.policy.historyDays).run(
            from: bank.day(0), to: bank.day(30))
        #expect(report.decisions > 1000)
        #expect(report.differences.isEmpty && report.reproduced == report.decisions)
    }

    @Test func anUnrecordedPolicyIsReportedUnlessGivenAndAVersionNamesOnePolicy() async throws {
        let bank = try await Self.loggedWeek()
        defer { bank.remove() }
        let store = try await bank.open()
        // A database from before policies were recorded.
        try await DatabaseQueue(path: bank.path).write { db in try db.execute(sql: "DELETE FROM policies") }
        let missing = try await DecisionReplay(store: store, historyDays: 7).run(from: bank.day(0), to: bank.day(30))
        #expect(missing.reproduced == 0 && missing.differences.count == missing.decisions)
        #expect(missing.differences.first?.reason.contains("'replay-test-1' is not recorded") == true)
        let given = try await DecisionReplay(store: store, historyDays: 7).run(from: bank.day(0), to: bank.day(30), policies: [Self.policy])
        #expect(given.differences.isEmpty && given.reproduced == given.decisions)

        // The same version with other thresholds is refused; the same content is a no-op.
        try await store.record(Self.policy, actor: "test")
        var changed = Self.policy
        changed.thresholds.block = 0.7
        await #expect(throws: EngineError.self) { try await store.record(changed, actor: "test") }
        try await store.record(Self.policy, actor: "test")
        #expect(try await store.auditEntries().filter { $0.action == "policy.record" }.count == 2)  // the replay's and this one
    }
}
