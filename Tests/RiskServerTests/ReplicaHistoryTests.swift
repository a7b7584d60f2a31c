import Foundation
import Logging
import RiskContract
import RiskEngine
import RiskFeatures
import RiskModels
import RiskScoring
import RiskStoreLocation
import RiskStoreTesting
import Synchronization
import Testing

@testable import RiskServer
@testable import RiskStore

/// Several servers on one store: each counts the events the others score in its velocity
/// features, once it has followed the shared log.
@Suite struct ReplicaHistoryTests {
    /// Two velocity counts, by customer and by device, weighted so that the score tells both apart:
    /// equal probabilities mean equal features.
    static let champion: ModelArtifact = {
        let spec = try! JSONDecoder().decode(
            FeatureSpec.self,
            from: Data(
                #"""
                {"format": "riskloop.features/1", "name": "replica-test", "version": 1, "features": [
                  {"name": "customer.events_24h", "kind": "aggregate", "key": "customer_id", "function": "count", "window_hours": 24},
                  {"name": "device.events_24h", "kind": "aggregate", "key": "device.id", "function": "count", "window_hours": 24},
                  {"name": "customer.fraud_rate", "kind": "fraud_rate", "key": "customer_id", "window_hours": 720, "label_delay_hours": 0,
                   "prior_rate": 0.01, "prior_weight": 1}
                ]}
                """#.utf8))
        let columns = try! FeatureExtractor(spec: spec).columns
        let weights = columns.indices.map { 0.01 * pow(7, Double($0)) }
        var artifact = ModelArtifact(
            algorithm: .logisticRegression, createdAt: Timestamp(millisecondsSinceEpoch: 0), featureSpec: spec.jsonValue, columns: columns,
            logisticRegression: LogisticModel(intercept: -2, weights: weights), hyperparameters: .init(calibration: .none, holdout: "none"),
            training: .init(
                source: "hand", rows: 0, positives: 0, totalWeight: 0, dataSHA256: "", durationSeconds: 0, holdoutRows: 0,
                calibrationRows: 0),
            metrics: .init(holdout: nil))
        artifact.seal()
        return artifact
    }()

    /// One customer on two devices, a minute apart, sent to the replicas in turn.
    static let events: [ReceivedEvent] = (0..<10).map { index in
        let payload =
            #"{"id":"r\#(index)","occurred_at":"2026-03-01T10:\#(String(format: "%02d", index)):00Z","customer_id":"c1","kind":"login","device":{"id":"d\#(index % 3 == 0 ? 1 : 2)"}}"#
        return ReceivedEvent(parsed: try! ParsedEvent(jsonLine: Array(payload.utf8)), payload: payload)
    }

    static func service(_ store: any Store, replica: String) async throws -> RiskService {
        if try await store.championId() == nil {
            try await Registry(store: store).register(champion, status: .champion, actor: "test", reason: nil)
        }
        return try await RiskService(
            store: store, policy: DecisionPolicy(version: "p", thresholds: .init(stepUp: 0.2, review: 0.5, block: 0.9)), replica: replica,
            logger: Logger(label: "test"))
    }

    static func probability(_ answer: String) throws -> Double {
        try JSONDecoder().decode(RiskScore.self, from: Data(answer.utf8)).probability
    }

    @Test(arguments: Backend.shared)
    func eachReplicaCountsWhatTheOtherScoredOnceItFollowedTheLog(backend: Backend) async throws {
        // The reference: one server alone, every event in turn.
        let alone = try await Self.service(try await Backend.sqliteMemory.open(try TemporaryDirectory()), replica: "alone")
        var expected: [Double] = []
        for event in Self.events { expected.append(try Self.probability(try await alone.score([event], single: true)[0])) }
        #expect(Set(expected).count > 5, "the counts move the score")

        let directory = try TemporaryDirectory()
        let storeA = try await backend.open(directory)
        let a = try await Self.service(storeA, replica: "a")
        let b = try await Self.service(try await backend.openAgain(storeA), replica: "b")
        var got: [Double] = []
        for (index, event) in Self.events.enumerated() {
            let (scoring, other) = index % 2 == 0 ? (a, b) : (b, a)
            got.append(try Self.probability(try await scoring.score([event], single: true)[0]))
            // What the server's log follower does every few milliseconds, here between events.
            let applied = try await other.followLog()
            #expect(applied == 1)
            #expect(try await scoring.followLog() == 0, "a replica's own decisions are in its history already")
        }
        #expect(got == expected)
        // Each decision names its replica and how far its history had read the log.
        let logged = try await SQL.strings(storeA, "SELECT replica || ' ' || history_position FROM decisions ORDER BY id")
        #expect(logged == (0..<10).map { "\($0 % 2 == 0 ? "a" : "b") \($0)" })
    }

    /// The control: without following the log, a replica misses the other's events, so the test
    /// above can fail.
    @Test func withoutFollowingTheLogAReplicaMissesTheOthersEvents() async throws {
        let directory = try TemporaryDirectory()
        let storeA = try await Backend.sqliteFile.open(directory)
        let a = try await Self.service(storeA, replica: "a")
        let b = try await Self.service(try await Backend.sqliteFile.openAgain(storeA), replica: "b")
        let first = try Self.probability(try await a.score([Self.events[0]], single: true)[0])
        let second = try Self.probability(try await b.score([Self.events[1]], single: true)[0])
        let alone = try await Self.service(try await Backend.sqliteMemory.open(try TemporaryDirectory()), replica: "alone")
        _ = try await alone.score([Self.events[0]], single: true)
        let expected = try Self.probability(try await alone.score([Self.events[1]], single: true)[0])
        #expect(first != second || second != expected)
        #expect(second != expected)
    }

    /// A label given to one replica reaches the other's fraud-rate history through the log; the
    /// replica that received it reads it back too, and applying it twice changes nothing.
    @Test(arguments: Backend.shared)
    func aLabelGivenToOneReplicaReachesTheOthersFraudRate(backend: Backend) async throws {
        let fraud = Label(eventId: "r0", outcome: .fraud, reportedAt: Timestamp(year: 2026, month: 3, day: 1, hour: 10)!, source: "analyst")
        let alone = try await Self.service(try await Backend.sqliteMemory.open(try TemporaryDirectory()), replica: "alone")
        _ = try await alone.score([Self.events[0]], single: true)
        _ = try await alone.labels.receive([fraud], source: "api")
        let expected = try Self.probability(try await alone.score([Self.events[1]], single: true)[0])

        let directory = try TemporaryDirectory()
        let storeA = try await backend.open(directory)
        let a = try await Self.service(storeA, replica: "a")
        let b = try await Self.service(try await backend.openAgain(storeA), replica: "b")
        _ = try await a.score([Self.events[0]], single: true)
        _ = try await a.labels.receive([fraud], source: "api")
        try await a.followLog()
        try await b.followLog()
        #expect(try Self.probability(try await b.score([Self.events[1]], single: true)[0]) == expected)
        try await a.followLog()
        #expect(try Self.probability(try await a.score([Self.events[2]], single: true)[0]) != expected, "a counts r0 and r1")
        #expect(try await storeA.logPosition() == LogPosition(decision: 3, label: 1))
    }

    /// Replay of decisions made by two replicas, some before the other's decisions reached them:
    /// each replica's history is rebuilt to the position its decision recorded, and every
    /// decision reproduces — including those a single history in time order would not.
    @Test(arguments: Backend.shared)
    func replayRebuildsEachReplicasHistoryToTheRecordedPosition(backend: Backend) async throws {
        let directory = try TemporaryDirectory()
        let storeA = try await backend.open(directory)
        let a = try await Self.service(storeA, replica: "a")
        let b = try await Self.service(try await backend.openAgain(storeA), replica: "b")
        // (replica, follows the log first): b scores r1 before a's r0 reached it, and so on.
        let plan: [(RiskService, Bool)] = [(a, false), (b, false), (b, true), (a, true), (a, false), (b, false), (a, true), (b, true)]
        var lagged: [Double] = []
        for (index, (service, follows)) in plan.enumerated() {
            if follows { try await service.followLog() }
            lagged.append(try Self.probability(try await service.score([Self.events[index]], single: true)[0]))
        }
        let alone = try await Self.service(try await Backend.sqliteMemory.open(try TemporaryDirectory()), replica: "alone")
        var inOrder: [Double] = []
        for event in Self.events.prefix(plan.count) {
            inOrder.append(try Self.probability(try await alone.score([event], single: true)[0]))
        }
        #expect(lagged != inOrder, "the lag changed some decisions' features")

        let now = RiskService.now
        let replay = try await DecisionReplay(store: storeA).run(from: now.adding(days: -1), to: now.adding(days: 1))
        #expect(replay.decisions == plan.count)
        #expect(replay.differences.isEmpty)
        #expect(replay.reproduced == plan.count)
    }

    /// With `--retrain-every` on every replica, one cycle runs at a time: while another process
    /// holds the retraining lock, a cycle asked of this one is skipped and says why.
    @Test(arguments: Backend.shared)
    func aCycleIsSkippedWhileAnotherReplicaRunsOne(backend: Backend) async throws {
        let directory = try TemporaryDirectory()
        let storeA = try await backend.open(directory)
        let a = try await Self.service(storeA, replica: "a")
        let storeB = try await backend.openAgain(storeA)
        let result = try await storeB.exclusively(.retraining) { () async -> FeedbackLoop.CycleResult? in
            try? await a.retrain(force: true, actor: "test")
        }
        guard case .skipped(let reason)?? = result else {
            Issue.record("expected a skipped cycle, got \(String(describing: result))")
            return
        }
        #expect(reason == FeedbackLoop.anotherCycleRuns)
    }

    /// Two replicas scoring at once while their followers read the log: whatever interleaving
    /// happens, each decision's recorded position says exactly what its history held, so replay
    /// reproduces every decision.
    @Test(arguments: Backend.shared)
    func replayReproducesReplicasScoringWhileTheyFollow(backend: Backend) async throws {
        let directory = try TemporaryDirectory()
        let storeA = try await backend.open(directory)
        let a = try await Self.service(storeA, replica: "a")
        let b = try await Self.service(try await backend.openAgain(storeA), replica: "b")
        let events: [ReceivedEvent] = (0..<60).map { index in
            let payload =
                #"{"id":"s\#(index)","occurred_at":"2026-03-01T11:\#(String(format: "%02d", index)):00Z","customer_id":"c1","kind":"login","device":{"id":"d\#(index % 4)"}}"#
            return ReceivedEvent(parsed: try! ParsedEvent(jsonLine: Array(payload.utf8)), payload: payload)
        }
        let done = Flag()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for service in [a, b] {
                group.addTask {
                    while !done.value.withLock({ $0 }) {
                        try await service.followLog()
                        try await Task.sleep(for: .milliseconds(1))
                    }
                }
            }
            try await withThrowingTaskGroup(of: Void.self) { senders in
                for (offset, service) in [a, b].enumerated() {
                    senders.addTask {
                        for event in events.enumerated().filter({ $0.offset % 2 == offset }).map(\.element) {
                            _ = try await service.score([event], single: true)
                        }
                    }
                }
                try await senders.waitForAll()
            }
            done.value.withLock { $0 = true }
            try await group.waitForAll()
        }
        let now = RiskService.now
        let replay = try await DecisionReplay(store: storeA).run(from: now.adding(days: -1), to: now.adding(days: 1))
        #expect(replay.decisions == events.count)
        #expect(replay.differences.isEmpty, "\(replay.differences.prefix(3))")
    }
}

/// A flag tasks share.
final class Flag: Sendable {
    let value = Mutex(false)
}
