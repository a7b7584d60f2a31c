import ArgumentParser
import Foundation
import Logging
import RiskSimulator
import RiskStore

extension RiskLoop {
    struct Demo: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the main job end to end on a fresh database under --dir.",
            discussion: """
                Simulates a month of a bank's events with SS7, SIM-swap and call-forwarding fraud, \
                ingests the events and their labels into <dir>/demo.sqlite (recreated on every run) \
                and prints what is there: events, fraud per scenario, and labels known by date. \
                `make demo` runs this after installing what is missing and building.
                """)

        @Option(help: ArgumentHelp("Working directory for the simulated files and the database.", valueName: "directory"))
        var dir = ".riskloop"

        @Option(help: "Number of customers.")
        var customers = 2_000

        @Option(help: "Number of days.")
        var days = 30

        @Option(help: "Random seed.")
        var seed: UInt64 = 42

        func run() throws {
            let dataDirectory = URL(filePath: dir).appending(path: "data")
            let databasePath = URL(filePath: dir).appending(path: "demo.sqlite").path
            var configuration = SimulationConfiguration(customers: customers, days: days, seed: seed)
            configuration.driftAt = configuration.midpoint

            print("1. Simulating \(customers.grouped) customers over \(days) days (seed \(seed))")
            let started = Date()
            let simulation = try CLIError.mapping { try Simulation(configuration) }
            try CLIError.mapping { try simulation.write(to: dataDirectory) }
            print(Simulate.render(simulation.summary, directory: dataDirectory.path, seconds: Date().timeIntervalSince(started)))

            print("\n2. Ingesting into \(databasePath)")
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: databasePath + suffix) }
            let store = try CLIError.mapping { () throws(StoreError) in try Store(path: databasePath, logger: Logger.cli) }
            for (file, noun) in [(Simulation.eventsFileName, "events"), (Simulation.labelsFileName, "labels")] {
                let path = dataDirectory.appending(path: file).path
                let ingestStarted = Date()
                let report = try CLIError.mapping {
                    noun == "events" ? try store.ingestEvents(fromFile: path) : try store.ingestLabels(fromFile: path)
                }
                let seconds = Date().timeIntervalSince(ingestStarted)
                let rate = Int(Double(report.inserted) / max(seconds, 1e-6))
                print(IngestReport.render(report, noun: noun, seconds: seconds) + " — \(rate.grouped) \(noun)/s")
            }

            print("\n3. What the database holds")
            print(Stats.render(try CLIError.mapping { try store.statistics() }, path: databasePath))
        }
    }
}
