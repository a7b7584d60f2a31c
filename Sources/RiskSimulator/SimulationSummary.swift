/// Counts that describe a simulation: what the datasheet reports and `simulate` prints.
public struct SimulationSummary: Sendable, Codable, Equatable {
    public struct ScenarioCount: Sendable, Codable, Equatable {
        public var scenario: String
        public var events: Int
        public var attacks: Int
        public var eventsAfterDrift: Int
        /// Attacks that got a fraud label at some time.
        public var reportedAttacks: Int
    }

    public var customers: Int
    public var days: Int
    public var start: String
    public var driftAt: String?
    public var events: Int
    public var eventsByKind: [String: Int]
    /// Share of events that belong to fraud sessions.
    public var fraudRate: Double
    public var scenarios: [ScenarioCount]
    public var lookAlikes: [String: Int]
    public var labels: Int
    /// Label versions by `source/outcome`, e.g. `customer_report/fraud`.
    public var labelsBySource: [String: Int]
    /// Label versions reported after the simulated period ended.
    public var labelsAfterPeriod: Int

    public init(_ simulation: Simulation) {
        let configuration = simulation.configuration
        customers = configuration.customers
        days = configuration.days
        start = configuration.start.rfc3339
        driftAt = configuration.driftAt?.rfc3339
        events = simulation.events.count
        eventsByKind = simulation.events.reduce(into: [:]) { $0[$1.kind.rawValue, default: 0] += 1 }
        let fraudEvents = simulation.truth.filter(\.scenario.isFraud).count
        fraudRate = events == 0 ? 0 : Double(fraudEvents) / Double(events)
        let labelledEvents = Set(simulation.labels.filter { $0.outcome == .fraud }.map(\.eventId))
        scenarios = Scenario.allCases.filter(\.isFraud).map { scenario in
            let truths = simulation.truth.filter { $0.scenario == scenario }
            let attacks = Set(truths.compactMap(\.attackId))
            let reported = Set(truths.filter { labelledEvents.contains($0.eventId) }.compactMap(\.attackId))
            return ScenarioCount(
                scenario: scenario.rawValue, events: truths.count, attacks: attacks.count,
                eventsAfterDrift: truths.filter(\.afterDrift).count, reportedAttacks: reported.count)
        }
        lookAlikes = simulation.truth.reduce(into: [:]) { counts, truth in
            if let lookAlike = truth.lookAlike { counts[lookAlike.rawValue, default: 0] += 1 }
        }
        labels = simulation.labels.count
        labelsBySource = simulation.labels.reduce(into: [:]) { $0["\($1.source)/\($1.outcome.rawValue)", default: 0] += 1 }
        let end = configuration.end
        labelsAfterPeriod = simulation.labels.filter { $0.reportedAt >= end }.count
    }
}

extension Simulation {
    public var summary: SimulationSummary { SimulationSummary(self) }
}
