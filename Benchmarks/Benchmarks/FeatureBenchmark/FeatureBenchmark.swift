import Benchmark
import Foundation
import RiskContract
import RiskEngine
import RiskFeatures
import RiskSimulator

/// Feature extraction with the default SS7 spec (Models/ss7/feature-spec.json), and the two ways
/// an event line is read.
///
/// Targets (issue: features): from parsed events without aggregates, at least 1,000,000 events/s
/// on one core; JSON lines to vectors with aggregates, at least 200,000 events/s. Each benchmark
/// reports the rate it measured as the custom metric `events/s` (and the wall clock of its
/// 100,000 events).
///
/// The event readers (issue: the house): the contract decoder reads a line straight from its
/// bytes, or from the JSON tree when a spec or policy needs fields outside the contract. The
/// byte reader is kept only while these show its gain: one core, line to event, and end to end,
/// JSON lines to vectors with and without the trees.
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
        try linesToVectors(benchmark, fixture, mode: RecordFile.eventMode(for: fixture.full))
    } setup: {
        try FeatureFixture.make()
    }

    Benchmark("JSON lines to vectors, 100,000 events, default spec with aggregates, keeping the JSON trees") { benchmark, fixture in
        try linesToVectors(benchmark, fixture, mode: .events)
    } setup: {
        try FeatureFixture.make()
    }

    Benchmark("JSON lines to events, 100,000 events, one core, straight from the bytes") { benchmark, fixture in
        try linesToEvents(benchmark, fixture) { line throws(ContractError) in try Event.decode(jsonLine: line) }
    } setup: {
        try FeatureFixture.make()
    }

    Benchmark("JSON lines to events, 100,000 events, one core, through the JSON tree") { benchmark, fixture in
        try linesToEvents(benchmark, fixture) { line throws(ContractError) in try Event(json: JSONValue.parse(line)) }
    } setup: {
        try FeatureFixture.make()
    }
}

/// Reads the fixture's file into the full spec's matrix, parsing in `mode`.
private func linesToVectors(_ benchmark: Benchmark, _ fixture: FeatureFixture, mode: RecordFile.Mode) throws {
    var profiles = fixture.full.makeProfiles()
    for label in fixture.labels { profiles.observe(label) }
    var rows = 0
    let start = DispatchTime.now().uptimeNanoseconds
    benchmark.startMeasurement()
    try RecordFile.forEachBatch(fixture.path, mode: mode) { batch in
        rows += fixture.full.matrix(batch, profiles: &profiles).rows
    }
    benchmark.stopMeasurement()
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    precondition(rows == fixture.events.count)
    benchmark.measurement(.custom("events/s", polarity: .prefersLarger, useScalingFactor: false), Int(Double(rows) / seconds))
}

/// Reads every line of the fixture into an event with `read`, on this core.
private func linesToEvents(
    _ benchmark: Benchmark, _ fixture: FeatureFixture, _ read: (ArraySlice<UInt8>) throws(ContractError) -> Event
) throws {
    var checksum = 0
    let start = DispatchTime.now().uptimeNanoseconds
    benchmark.startMeasurement()
    for line in fixture.lines { checksum &+= try read(line).id.utf8.count }
    benchmark.stopMeasurement()
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    benchmark.measurement(
        .custom("events/s", polarity: .prefersLarger, useScalingFactor: false), Int(Double(fixture.lines.count) / seconds))
    blackHole(checksum)
}

struct FeatureFixture: Sendable {
    let events: [ParsedEvent]
    let labels: [Label]
    let path: String
    /// The file's lines, without their newlines.
    let lines: [ArraySlice<UInt8>]
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
        let path = FileManager.default.temporaryDirectory.appending(path: "riskloop-feature-benchmark.jsonl").path
        try Data(bytes).write(to: URL(filePath: path))
        let parsed = try events.map { try ParsedEvent(jsonLine: JSONLine.encode($0)) }
        let lines = bytes.split(separator: UInt8(ascii: "\n"))
        return FeatureFixture(
            events: parsed, labels: simulation.labels, path: path, lines: lines, full: try FeatureExtractor(spec: spec),
            stateless: try FeatureExtractor(spec: withoutHistory))
    }
}
