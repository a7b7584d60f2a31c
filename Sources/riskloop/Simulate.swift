import ArgumentParser
import Foundation
import RiskContract
import RiskFeatures
import RiskSimulator

extension RiskLoop {
    struct Simulate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Simulate bank customers, their events with telco signals, fraud and late labels.",
            discussion: """
                Writes three files into --out: events.jsonl (one event per line, ordered by time), \
                labels.csv (every label version, ordered by reported_at; some arrive after the \
                period, some fraud is never reported) and truth.csv (what really happened behind \
                each event: scenario, look-alike pattern, attack, before or after the drift; for \
                evaluation only, never for training).

                Fraud follows three scenarios from real SS7 cases: SS7 interception, SIM swap and \
                call forwarding. Genuine customers travel, replace phones, forward calls to \
                voicemail, add payees and bank at night, so no single signal separates fraud. From \
                --drift-date on, fraudsters avoid the signals that got them caught: they strike in \
                office hours, take smaller amounts, suppress the roaming flag and wait days after \
                a SIM swap.

                The same options and seed always give the same bytes.
                """)

        @Option(help: "Number of customers.")
        var customers = 1_000

        @Option(help: "Number of days to simulate.")
        var days = 30

        @Option(help: ArgumentHelp("First day (YYYY-MM-DD, UTC).", valueName: "date"))
        var start = "2026-01-05"

        @Option(help: "Random seed: the same seed gives the same files.")
        var seed: UInt64 = 42

        @Option(help: ArgumentHelp("Target share of events that belong to fraud sessions.", valueName: "rate"))
        var fraudRate = 0.01

        @Option(
            help: ArgumentHelp(
                "Day from which fraudsters change tactics (YYYY-MM-DD; default: the middle of the period).", valueName: "date"))
        var driftDate: String?

        @Flag(help: "Keep fraudsters' tactics fixed over the whole period.")
        var noDrift = false

        @Option(help: ArgumentHelp("Share of genuine events that customers confirm (confirmed_genuine labels).", valueName: "rate"))
        var genuineConfirmationRate = 0.05

        @Option(help: ArgumentHelp("Share of attacks that are never reported.", valueName: "rate"))
        var unreportedFraudRate = 0.12

        @Option(help: ArgumentHelp("Directory to write the files into.", valueName: "directory"))
        var out = "."

        @OptionGroup var output: OutputOptions

        func validate() throws {
            guard Self.parseDay(start) != nil else { throw ValidationError("--start: '\(start)' is not a date YYYY-MM-DD") }
            if let driftDate, Self.parseDay(driftDate) == nil {
                throw ValidationError("--drift-date: '\(driftDate)' is not a date YYYY-MM-DD")
            }
            if noDrift, driftDate != nil { throw ValidationError("--no-drift and --drift-date exclude each other") }
            try CLIError.mapping { try simulationConfiguration().validate() }
        }

        func run() async throws {
            let progress = ProgressLine(enabled: !output.json && isatty(STDERR_FILENO) == 1)
            progress.update("simulating \(customers.grouped) customers over \(days) days…")
            let simulation = try CLIError.mapping { try Simulation(simulationConfiguration()) }
            progress.update("writing \(simulation.events.count.grouped) events…")
            try CLIError.mapping { try simulation.write(to: URL(filePath: out)) }
            progress.finish()
            let summary = simulation.summary
            if output.json {
                try output.printJSON(summary)
            } else {
                print(Self.render(summary, directory: out, seconds: progress.elapsedSeconds))
            }
        }

        func simulationConfiguration() -> SimulationConfiguration {
            var configuration = SimulationConfiguration(
                customers: customers, days: days, start: Self.parseDay(start) ?? SimulationConfiguration.defaultStart,
                seed: seed, fraudRate: fraudRate, genuineConfirmationRate: genuineConfirmationRate,
                unreportedFraudRate: unreportedFraudRate)
            if !noDrift { configuration.driftAt = driftDate.flatMap(Self.parseDay) ?? configuration.midpoint }
            return configuration
        }

        static func parseDay(_ text: String) -> Timestamp? {
            Timestamp(rfc3339: text + "T00:00:00Z")
        }

        static func render(_ summary: SimulationSummary, directory: String, seconds: Double) -> String {
            var lines = [
                "Simulated \(summary.customers.grouped) customers over \(summary.days) days from \(summary.start)"
                    + (summary.driftAt.map { ", tactics drift at \($0)" } ?? ", no drift")
                    + String(format: " (%.1f s)", seconds),
                "  events    \(summary.events.grouped)   fraud share \(String(format: "%.2f%%", summary.fraudRate * 100))",
                "  labels    \(summary.labels.grouped) versions, \(summary.labelsAfterPeriod.grouped) reported after the period",
                "",
                "  scenario           attacks   events   after drift   reported attacks",
            ]
            for scenario in summary.scenarios {
                lines.append(
                    "  " + scenario.scenario.padding(toLength: 17, withPad: " ", startingAt: 0)
                        + String(
                            format: "%8d %8d %13d %18d", scenario.attacks, scenario.events, scenario.eventsAfterDrift,
                            scenario.reportedAttacks))
            }
            lines.append("")
            lines.append("  look-alikes (genuine events that share fraud signals):")
            for (name, count) in summary.lookAlikes.sorted(by: { $0.key < $1.key }) {
                lines.append("    " + name.padding(toLength: 16, withPad: " ", startingAt: 0) + count.grouped)
            }
            lines.append("")
            lines.append("Wrote \(directory)/events.jsonl, labels.csv, truth.csv")
            return lines.joined(separator: "\n")
        }
    }
}
