import Benchmark
import Foundation
import RiskEngine
import RiskContract
import RiskFeatures
import RiskSimulator

/// Feature extraction with the default SS7 spec (Models/ss7/feature-spec.json).
///
/// Targets (issue: features): from parsed events without aggregates, at least 1,000,000 events/s
/// on one core; JSON lines to vectors with aggregates, at least 200,000 events/s. Each benchmark
/// reports the rate it measured as the custom metric `events/s` (and the wall clock of its
/// 100,000 events).
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .peakMemoryResident, .custom("events/s", polarity: .prefersLarger, useScalingFactor: false)],
        warmupIterations: 1, maxDuration: .seconds(30), maxIterations: 10)

    Benchmark("extract 100,000 parsed events, default spec without aggregates, one core") { benchmark, fixture in
        let extractor = fixture.stateless
        var row = [Double](repeating: 0, count: extractor.columns.count)
        var checksum = 0.0
        let start = DispatchTime.now().uptimeNanoseconds
        benchmark.startMeasurement()
        for event in fixture.events {
            row.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
            extractor.fill(&row, at: 0, event)
            checksum += row[0]
        }
        benchmark.stopMeasurement()
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        benchmark.measurement(
            .custom("events/s", polarity: .prefersLarger, useScalingFactor: false), Int(Double(fixture.events.count) / seconds))
        blackHole(checksum)
    } setup: {
        try FeatureFixture.make()
    }

    Benchmark("JSON lines to vectors, 100,000 events, default spec with aggregates") { benchmark, fixture in
        var profiles = fixture.full.makeProfiles()
        for label in fixture.labels { profiles.observe(label) }
        var rows = 0
        let start = DispatchTime.now().uptimeNanoseconds
        benchmark.startMeasurement()
        try RecordFile.forEachBatch(fixture.path, mode: RecordFile.eventMode(for: fixture.full)) { batch in
            rows += fixture.full.matrix(batch, profiles: &profiles).rows
        }
        benchmark.stopMeasurement()
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        precondition(rows == fixture.events.count)
        benchmark.measurement(.custom("events/s", polarity: .prefersLarger, useScalingFactor: false), Int(Double(rows) / seconds))
    } setup: {
        try FeatureFixture.make()
    }
}

struct FeatureFixture: Sendable {
    let events: [ParsedEvent]
    let labels: [Label]
    let path: String
    let full: FeatureExtractor
    let stateless: FeatureExtractor

    static func make() throws -> FeatureFixture {
        let specPath = URL(filePath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appending(path: "Models/ss7/feature-spec.json")
        let spec = try FeatureSpec.decode(from: Data(contentsOf: specPath))
        var withoutHistory = spec
        withoutHistory.features.removeAll { $0.kind == .aggregate || $0.kind == .fraudRate }
        var configuration = SimulationConfiguration(customers: 2_600, days: 30, seed: 1)
        configuration.driftAt = configuration.midpoint
        let simulation = try Simulation(configuration)
        let events = Array(simulation.events.prefix(100_000))
        var bytes: [UInt8] = []
        for event in events {
            bytes += JSONLine.encode(event)
            bytes.append(UInt8(ascii: "\n"))
        }
        let path = FileManager.default.temporaryDirectory.appending(path: "riskloop-features-\(UUID().uuidString).jsonl").path
        try Data(bytes).write(to: URL(filePath: path))
        let parsed = try events.map { try ParsedEvent(jsonLine: JSONLine.encode($0)) }
        return FeatureFixture(
            events: parsed, labels: simulation.labels, path: path, full: try FeatureExtractor(spec: spec),
            stateless: try FeatureExtractor(spec: withoutHistory))
    }
}
