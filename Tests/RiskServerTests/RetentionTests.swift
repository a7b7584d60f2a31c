import Foundation
import Logging
import RiskContract
import RiskEngine
import RiskModels
import RiskStoreTesting
import Testing

@testable import RiskServer
@testable import RiskStore

/// Retention through the engine: refused below what the live model reads, training windows of
/// models not retired kept, and a replay of a pruned period saying so instead of differing.
@Suite struct RetentionTests {
    static func day(_ day: Double) -> Timestamp { Timestamp(year: 2026, month: 1, day: 1)!.adding(days: day) }

    /// Events of one customer twice a day for `days` days, scored (and logged) by `service`.
    static func scoreDays(_ days: Int, with service: RiskService) async throws {
        for index in 0..<(2 * days) {
            let payload =
                #"{"id":"t\#(index)","occurred_at":"\#(Self.day(Double(index) / 2).rfc3339)","customer_id":"c1","kind":"login","device":{"id":"d1"}}"#
            _ = try await service.score(
                [ReceivedEvent(parsed: try ParsedEvent(jsonLine: Array(payload.utf8)), payload: payload)], single: true)
        }
    }

    /// A model whose lineage names the training window `[from, to)`.
    static func trained(from: Timestamp, to: Timestamp, intercept: Double) -> ModelArtifact {
        var artifact = ReplicaHistoryTests.champion
        artifact.logisticRegression?.intercept = intercept
        artifact.training.windowStart = from
        artifact.training.windowEnd = to
        artifact.seal()
        return artifact
    }

    @Test(arguments: Backend.allCases)
    func retentionKeepsWhatTheLiveModelAndTheRegistryNeedAndReplaySaysWhatWasPruned(backend: Backend) async throws {
        let scratch = try TemporaryDirectory()
        let store = try await backend.open(scratch)
        let service = try await ReplicaHistoryTests.service(store, replica: "a")
        try await Self.scoreDays(60, with: service)

        // The champion's fraud rate looks back 30 days (720 h, no delay): 10 days is refused.
        await #expect {
            try await Retention(store: store, keepDays: 10).run(asOf: Self.day(60), dryRun: true, actor: "ops")
        } throws: { error in
            guard case .invalidOptions(_, let reason) = error as? EngineError else { return false }
            return reason.contains("customer.fraud_rate") && reason.contains("30 days")
        }

        // A candidate trained on days 5–10 keeps them; a retired one trained on days 12–14 does not.
        let candidate = Self.trained(from: Self.day(5), to: Self.day(10), intercept: -1)
        let retired = Self.trained(from: Self.day(12), to: Self.day(14), intercept: -3)
        try await Registry(store: store).register(candidate, status: .candidate, actor: "test")
        try await Registry(store: store).register(retired, status: .retired, actor: "test")
        let report = try await Retention(store: store, keepDays: 31).run(asOf: Self.day(60), dryRun: false, actor: "ops")
        #expect(report.cutoff == Self.day(29))
        #expect(report.kept.map(\.from) == [Self.day(5)])
        // Days 0–29 hold 58 events; days 5–10 (10 of them) stay.
        #expect(report.events == 48 && report.decisions == 48)
        #expect(try await store.statistics().events == 120 - 48)
        #expect(try await store.models().count == 3, "the registry is never pruned")

        // Replay of every decision left (made just now): the first day after the cutoff counted
        // pruned events in its velocity, and so did the kept window's first.
        let now = RiskService.now
        let replay = try await DecisionReplay(store: store).run(from: now.adding(days: -1), to: now.adding(days: 1))
        #expect(replay.decisions == 72)
        #expect(replay.prunedBefore == Self.day(29).rfc3339)
        #expect(replay.prunedHistory > 0)
        #expect(replay.differences.isEmpty)
        #expect(replay.reproduced + replay.prunedHistory == replay.decisions)
    }
}
