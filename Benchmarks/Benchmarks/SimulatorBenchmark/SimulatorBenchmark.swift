import Benchmark
import Foundation
import RiskSimulator

/// The simulator at scale. Target (issue: foundation): one million events in under 30 s,
/// generated and written as events.jsonl, labels.csv and truth.csv.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .cpuTotal, .peakMemoryResident], warmupIterations: 0, maxDuration: .seconds(120), maxIterations: 2)

    Benchmark("simulate and write about 1,000,000 events (25,000 customers × 30 days)") { benchmark in
        let directory = FileManager.default.temporaryDirectory.appending(path: "riskloop-sim-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        var configuration = SimulationConfiguration(customers: 25_000, days: 30, seed: 1)
        configuration.driftAt = configuration.midpoint
        benchmark.startMeasurement()
        let simulation = try Simulation(configuration)
        try simulation.write(to: directory)
        benchmark.stopMeasurement()
        precondition(simulation.events.count >= 1_000_000, "only \(simulation.events.count) events")
    }
}
