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
/// The feature language (issue 24): the default spec plus learnt bins, a spread, ratios to the
/// customer's usual and a cross over bins must extract within 10% of the default spec's rate
/// (compare the two "JSON lines to vectors" rates of one run).
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

    Benchmark("JSON lines to vectors, 100,000 events, default spec with aggregates, bins and ratios") { benchmark, fixture in
        try linesToVectors(benchmark, fixture, extractor: fixture.richer, mode: RecordFile.eventMode(for: fixture.richer))
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

/// Reads the fixture's file into the matrix of `extractor` (the full spec's by default), parsing in `mode`.
private func linesToVectors(
    _ benchmark: Benchmark, _ fixture: FeatureFixture, extractor: FeatureExtractor? = nil, mode: RecordFile.Mode
) throws {
    let extractor = extractor ?? fixture.full
    var profiles = extractor.makeProfiles()
    for label in fixture.labels { profiles.observe(label) }
    var rows = 0
    let start = DispatchTime.now().uptimeNanoseconds
    benchmark.startMeasurement()
    try RecordFile.forEachBatch(fixture.path, mode: mode) { batch in
        rows += extractor.matrix(batch, profiles: &profiles).rows
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
    /// The full spec with the feature language's constructs, fitted on the first half of the events.
    let richer: FeatureExtractor

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
        let richer = try Self.richer(spec).fitted(events: parsed, labels: simulation.labels, rows: Array(0..<(parsed.count / 2)))
        return FeatureFixture(
            events: parsed, labels: simulation.labels, path: path, lines: lines, full: try FeatureExtractor(spec: spec),
            stateless: try FeatureExtractor(spec: withoutHistory), richer: try FeatureExtractor(spec: richer))
    }

    /// `spec` plus the amount in decile bins, the customer's usual payment and its spread, the
    /// amount against them (a log ratio, and in bins in standard deviations), the fraud rate in
    /// bins and a cross of the amount's bins with a new payee.
    static func richer(_ spec: FeatureSpec) -> FeatureSpec {
        var spec = spec
        var band = Feature(name: "amount.band", kind: .numeric, source: "amount")
        band.bins = .init(quantiles: 10)
        func usual(_ name: String, _ function: Feature.Function) -> Feature {
            var feature = Feature(name: name, kind: .aggregate)
            (feature.key, feature.function, feature.field, feature.windowHours) = ("customer_id", function, "amount", 720)
            feature.eventKinds = ["payment"]
            return feature
        }
        var ratio = Feature(name: "amount_vs_usual", kind: .ratio, source: "amount")
        ratio.against = "customer.usual_30d"
        ratio.clip = [-5, 5]
        var deviations = Feature(name: "amount_in_sd.band", kind: .ratio, source: "amount")
        (deviations.against, deviations.compare, deviations.spread) = ("customer.usual_30d", .standardDeviations, "customer.spread_30d")
        deviations.bins = .init(edges: [-1, 0, 1, 2, 3, 5])
        var rate = spec.features.first { $0.kind == .fraudRate }!
        rate.name += ".band"
        rate.bins = .init(edges: [0.02, 0.1, 0.3])
        var cross = Feature(name: "band_x_payee", kind: .cross)
        cross.of = ["amount.band", "payee.new"]
        spec.features += [band, usual("customer.usual_30d", .mean), usual("customer.spread_30d", .std), ratio, deviations, rate, cross]
        return spec
    }
}
