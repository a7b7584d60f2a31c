import Benchmark
import Foundation
import RiskFeatures
import RiskScoring
import RiskSimulator

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
        let event = fixture.events[benchmark.currentIteration % fixture.events.count]
        benchmark.startMeasurement()
        blackHole(fixture.scorer.score(event))
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
        let start = DispatchTime.now().uptimeNanoseconds
        benchmark.startMeasurement()
        let scores = fixture.scorer.score(fixture.events)
        benchmark.stopMeasurement()
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        benchmark.measurement(.custom("events/s", polarity: .prefersLarger, useScalingFactor: false), Int(Double(scores.count) / seconds))
    } setup: {
        try ScoringFixture.make()
    }
}

struct ScoringFixture: Sendable {
    let scorer: Scorer
    let events: [ParsedEvent]

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
        return ScoringFixture(scorer: Scorer(model: model, policy: policy), events: events)
    }
}
