import Benchmark
import Foundation
import RiskContract
import RiskFeatures
import RiskScoring
import RiskSimulator
import Synchronization

/// The embedded scorer with the model trained on the committed sample (default SS7 spec, with
/// history) and the default policy.
///
/// Targets (issue: serving): one event scored (features, model, reasons, decision) in under 5 µs
/// median; a batch at 500,000 events/s or more on both cores.
let benchmarks: @Sendable () -> Void = {
    Benchmark(
        "score one event (features with history, model, 3 reasons, policy)",
        configuration: .init(
            metrics: [.wallClock, .mallocCountTotal], warmupIterations: 1_000, maxDuration: .seconds(10),
            maxIterations: 200_000)
    ) { benchmark, fixture in
        // Events in time order; after the last one, a scorer with empty history starts again
        // (replaying old events into a history that already holds them would not be serving).
        let position = benchmark.currentIteration % fixture.events.count
        if position == 0 { fixture.restart() }
        let scorer = fixture.scorer, event = fixture.events[position]
        benchmark.startMeasurement()
        blackHole(scorer.score(event))
        benchmark.stopMeasurement()
    } setup: {
        try ScoringFixture.make()
    }

    Benchmark(
        "score a batch of 100,000 events",
        configuration: .init(
            metrics: [.wallClock, .peakMemoryResident, .custom("events/s", polarity: .prefersLarger, useScalingFactor: false)],
            warmupIterations: 1, maxDuration: .seconds(30), maxIterations: 10)
    ) { benchmark, fixture in
        // Each batch into a scorer with empty history: the 100,000 events span 30 days.
        fixture.restart()
        let scorer = fixture.scorer
        let start = DispatchTime.now().uptimeNanoseconds
        benchmark.startMeasurement()
        let scores = scorer.score(fixture.events)
        benchmark.stopMeasurement()
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        benchmark.measurement(.custom("events/s", polarity: .prefersLarger, useScalingFactor: false), Int(Double(scores.count) / seconds))
    } setup: {
        try ScoringFixture.make()
    }
}

final class ScoringFixture: Sendable {
    private let model: ServingModel
    private let policy: DecisionPolicy
    private let current: Mutex<Scorer>
    let events: [ParsedEvent]

    init(model: ServingModel, policy: DecisionPolicy, events: [ParsedEvent]) {
        self.model = model
        self.policy = policy
        self.events = events
        current = Mutex(Scorer(model: model, policy: policy))
    }

    var scorer: Scorer { current.withLock { $0 } }

    /// A new scorer with the same model and an empty history.
    func restart() {
        let fresh = Scorer(model: model, policy: policy)
        current.withLock { $0 = fresh }
    }

    static func make() throws -> ScoringFixture {
        let root = URL(filePath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let model = try ServingModel(contentsOf: root.appending(path: "Tests/RiskScoringEmbeddingTests/Resources/ss7-sample-model.json"))
        let policy = try DecisionPolicy.decode(from: Data(contentsOf: root.appending(path: "Models/ss7/policy.json")))
        var configuration = SimulationConfiguration(customers: 2_600, days: 30, seed: 3)
        configuration.driftAt = configuration.midpoint
        let events = try Simulation(configuration).events.prefix(100_000).map {
            try ParsedEvent(jsonLine: JSONLine.encode($0), keepingJSON: false)
        }
        return ScoringFixture(model: model, policy: policy, events: events)
    }
}
