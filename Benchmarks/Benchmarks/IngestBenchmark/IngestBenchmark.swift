import Benchmark
import Foundation
import RiskContract
import RiskFeatures
import RiskSimulator
import RiskStore
import RiskStoreSQLite

/// Bulk ingest into a fresh file database (WAL), the way `riskloop ingest` does it.
///
/// Target (issue: foundation): at least 100,000 events/s, so ingesting the 100,000-event file
/// must take at most 1 s of wall clock. The file is simulated once, with every telco signal
/// (about 670 bytes an event), before the measured iterations.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .cpuTotal, .peakMemoryResident], warmupIterations: 1,
        maxDuration: .seconds(60), maxIterations: 8)

    Benchmark("ingest 100,000 events into a file database") { benchmark, fixture in
        let database = fixture.directory.appending(path: "ingest-\(UUID().uuidString).sqlite").path
        let store = try SQLiteStore(path: database)
        benchmark.startMeasurement()
        let report = try await store.ingestEvents(fromFile: fixture.eventsPath)
        benchmark.stopMeasurement()
        precondition(report.inserted == IngestFixture.eventCount, "ingested \(report.inserted) events")
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: database + suffix) }
    } setup: {
        try IngestFixture.make()
    }

    Benchmark("ingest 10,000 labels (CSV)") { benchmark, fixture in
        let database = fixture.directory.appending(path: "labels-\(UUID().uuidString).sqlite").path
        let store = try SQLiteStore(path: database)
        _ = try await store.ingestEvents(fromFile: fixture.eventsPath)
        benchmark.startMeasurement()
        let report = try await store.ingestLabels(fromFile: fixture.labelsPath)
        benchmark.stopMeasurement()
        precondition(report.inserted > 0)
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: database + suffix) }
    } setup: {
        try IngestFixture.make()
    }
}

struct IngestFixture: Sendable {
    static let eventCount = 100_000
    let directory: URL
    let eventsPath: String
    let labelsPath: String

    /// Simulates enough customers for 100,000 events and keeps exactly that many lines, plus
    /// the labels of those events.
    static func make() throws -> IngestFixture {
        let directory = FileManager.default.temporaryDirectory.appending(path: "riskloop-bench-\(UUID().uuidString)")
        var configuration = SimulationConfiguration(customers: 2_600, days: 30, seed: 1)
        configuration.driftAt = configuration.midpoint
        let simulation = try Simulation(configuration)
        try simulation.write(to: directory)
        let events = Array(simulation.events.prefix(eventCount))
        precondition(events.count == eventCount, "simulated only \(events.count) events")
        var eventBytes: [UInt8] = []
        for event in events {
            eventBytes += JSONLine.encode(event)
            eventBytes.append(UInt8(ascii: "\n"))
        }
        let eventsPath = directory.appending(path: "events-100k.jsonl").path
        try Data(eventBytes).write(to: URL(filePath: eventsPath))
        let kept = Set(events.map(\.id))
        let labels = simulation.labels.filter { kept.contains($0.eventId) }.prefix(10_000)
        let labelsText = ([Label.fieldNames] + labels.map(\.csvFields)).map { $0.joined(separator: ",") }.joined(separator: "\n") + "\n"
        let labelsPath = directory.appending(path: "labels-10k.csv").path
        try Data(labelsText.utf8).write(to: URL(filePath: labelsPath))
        return IngestFixture(directory: directory, eventsPath: eventsPath, labelsPath: labelsPath)
    }
}
