import Dispatch
import Foundation
import RiskContract
import RiskFeatures
import Synchronization

/// A simulated bank: customers, their events with telco signals, the fraud among them, and the
/// labels that reach the bank late or never.
///
/// ```swift
/// let simulation = try Simulation(SimulationConfiguration(customers: 1_000, days: 30, seed: 7))
/// try simulation.write(to: URL(filePath: "out"))  // events.jsonl, labels.csv, truth.csv
/// ```
///
/// Deterministic: each customer draws from a generator seeded by the seed and its index, so the
/// same configuration gives the same bytes however many cores run it.
public struct Simulation: Sendable {
    public let configuration: SimulationConfiguration
    /// Every event, ordered by `occurred_at` (ties by customer, then by order in the session).
    public let events: [Event]
    /// What really happened behind each event, in the same order as ``events``.
    public let truth: [GroundTruth]
    /// Every label version, ordered by `reported_at`; some fall after the period, as in life.
    public let labels: [Label]

    public init(_ configuration: SimulationConfiguration) throws(SimulationError) {
        try configuration.validate()
        self.configuration = configuration
        let drafts = Self.generateInParallel(configuration)

        var events: [Event] = []
        var truth: [GroundTruth] = []
        var labels: [Label] = []
        events.reserveCapacity(drafts.count)
        truth.reserveCapacity(drafts.count)
        var attackIds: [Int: Int] = [:]  // (customer, local number) packed → 1-based id in time order
        let idWidth = max(9, String(drafts.count).count)
        for (position, draft) in drafts.enumerated() {
            var event = draft.event
            event.id = "evt_" + (position + 1).zeroPadded(width: idWidth)
            let attackId = draft.attackNumber.map { number in
                let key = draft.customerIndex &* 1_000_000 &+ number
                if let id = attackIds[key] { return id }
                let id = attackIds.count + 1
                attackIds[key] = id
                return id
            }
            events.append(event)
            truth.append(
                GroundTruth(
                    eventId: event.id, scenario: draft.scenario, lookAlike: draft.lookAlike, attackId: attackId,
                    afterDrift: draft.afterDrift))
            for label in draft.labels {
                labels.append(Label(eventId: event.id, outcome: label.outcome, reportedAt: label.reportedAt, source: label.source))
            }
        }
        // Stable: versions of one event reported at the same instant keep their order.
        labels = labels.enumerated().sorted {
            ($0.element.reportedAt, $0.offset) < ($1.element.reportedAt, $1.offset)
        }.map(\.element)
        self.events = events
        self.truth = truth
        self.labels = labels
    }

    private static func generateInParallel(_ configuration: SimulationConfiguration) -> [CustomerHistory.Draft] {
        let chunkCount = min(configuration.customers, ProcessInfo.processInfo.activeProcessorCount * 8)
        let results = Mutex<[[CustomerHistory.Draft]]>(Array(repeating: [], count: chunkCount))
        DispatchQueue.concurrentPerform(iterations: chunkCount) { chunk in
            var drafts: [CustomerHistory.Draft] = []
            for index in stride(from: chunk, to: configuration.customers, by: chunkCount) {
                var history = CustomerHistory(index: index, configuration: configuration)
                drafts.append(contentsOf: history.generate())
            }
            results.withLock { $0[chunk] = drafts }
        }
        var all = results.withLock { $0.flatMap { $0 } }
        all.sort {
            ($0.event.occurredAt, $0.customerIndex, $0.sequence) < ($1.event.occurredAt, $1.customerIndex, $1.sequence)
        }
        return all
    }
}
