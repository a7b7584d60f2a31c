import Foundation
import RiskContract
import RiskFeatures
import Testing

@testable import RiskSimulator

@Suite struct SimulationTests {
    static let configuration: SimulationConfiguration = {
        var configuration = SimulationConfiguration(customers: 600, days: 28, seed: 7, fraudRate: 0.02)
        configuration.driftAt = configuration.midpoint
        return configuration
    }()

    /// One simulation shared by the read-only tests below (it takes about a second in debug).
    static let simulation = try! Simulation(configuration)

    @Test func theSameSeedGivesTheSameBytesAndAnotherSeedDoesNot() throws {
        let base = FileManager.default.temporaryDirectory.appending(path: "riskloop-sim-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: base) }
        var small = SimulationConfiguration(customers: 120, days: 10, seed: 99)
        small.driftAt = small.midpoint
        try Simulation(small).write(to: base.appending(path: "a"))
        try Simulation(small).write(to: base.appending(path: "b"))
        small.seed = 100
        try Simulation(small).write(to: base.appending(path: "c"))
        for file in [Simulation.eventsFileName, Simulation.labelsFileName, Simulation.truthFileName] {
            let a = try Data(contentsOf: base.appending(path: "a/\(file)"))
            #expect(!a.isEmpty)
            #expect(a == (try Data(contentsOf: base.appending(path: "b/\(file)"))), "\(file) differs between identical runs")
            #expect(a != (try Data(contentsOf: base.appending(path: "c/\(file)"))), "\(file) ignores the seed")
        }
    }

    @Test func everyWrittenEventMeetsTheContractAndComesInTimeOrder() throws {
        let simulation = Self.simulation
        var previous = Timestamp(millisecondsSinceEpoch: .min)
        for event in simulation.events {
            // Through the same validation as ingest: the simulator writes nothing ingest would refuse.
            #expect(try Event.decode(jsonLine: JSONLine.encode(event)) == event)
            #expect(previous <= event.occurredAt)
            previous = event.occurredAt
            #expect(event.occurredAt >= Self.configuration.start && event.occurredAt < Self.configuration.end)
        }
        #expect(Set(simulation.events.map(\.id)).count == simulation.events.count)
    }

    @Test func everyScenarioAndEveryLookAlikeOccurs() {
        let truth = Self.simulation.truth
        for scenario in Scenario.allCases {
            #expect(truth.contains { $0.scenario == scenario }, "no \(scenario.rawValue) events")
            if scenario.isFraud {
                #expect(truth.contains { $0.scenario == scenario && $0.afterDrift }, "no \(scenario.rawValue) after the drift")
                #expect(truth.contains { $0.scenario == scenario && !$0.afterDrift }, "no \(scenario.rawValue) before the drift")
            }
        }
        for lookAlike in LookAlike.allCases {
            #expect(truth.contains { $0.lookAlike == lookAlike }, "no \(lookAlike.rawValue) look-alikes")
        }
        let fraudShare = Double(truth.filter(\.scenario.isFraud).count) / Double(truth.count)
        #expect(abs(fraudShare - Self.configuration.fraudRate) < 0.3 * Self.configuration.fraudRate, "fraud share \(fraudShare)")
    }

    @Test func fraudstersChangeTacticsAfterTheDrift() {
        let simulation = Self.simulation
        let payments = zip(simulation.events, simulation.truth).filter { $0.0.kind == .payment && $0.1.scenario.isFraud }
        let before = payments.filter { !$0.1.afterDrift }.map(\.0)
        let after = payments.filter { $0.1.afterDrift }.map(\.0)
        #expect(!before.isEmpty && !after.isEmpty)
        func share(_ events: [Event], _ predicate: (Event) -> Bool) -> Double {
            Double(events.filter(predicate).count) / Double(events.count)
        }
        // Night-time (before 06:00 or from 19:00) before the drift; office hours after it.
        #expect(share(before) { $0.occurredAt.hourUTC < 6 || $0.occurredAt.hourUTC >= 19 } > 0.9)
        #expect(share(after) { (9...18).contains($0.occurredAt.hourUTC) } > 0.9)
        #expect(after.allSatisfy { ($0.amount ?? 0) <= 480 })
        #expect(before.allSatisfy { ($0.amount ?? 0) >= 500 })
        // SS7 attackers stop showing as roaming.
        let ss7After = zip(simulation.events, simulation.truth).filter { $0.1.scenario == .ss7Interception && $0.1.afterDrift }
        #expect(ss7After.allSatisfy { $0.0.telco?.roaming?.roaming != true })
        let ss7Before = zip(simulation.events, simulation.truth).filter { $0.1.scenario == .ss7Interception && !$0.1.afterDrift }
        #expect(ss7Before.contains { $0.0.telco?.roaming?.roaming == true })
    }

    @Test func signalsNeverRevealTheFuture() {
        // A telco answer at an event's time can only know swaps that already happened.
        for event in Self.simulation.events {
            if let swap = event.telco?.simSwap?.latestChange { #expect(swap <= event.occurredAt) }
            if let swap = event.telco?.deviceSwap?.latestChange { #expect(swap <= event.occurredAt) }
            if let status = event.telco?.roaming?.lastStatusTime { #expect(status <= event.occurredAt) }
        }
    }

    @Test func labelsArriveLateSomeNeverAndSomeAreSuperseded() {
        let simulation = Self.simulation
        let occurred = Dictionary(uniqueKeysWithValues: simulation.events.map { ($0.id, $0.occurredAt) })
        let fraudEvents = Set(simulation.truth.filter(\.scenario.isFraud).map(\.eventId))
        for label in simulation.labels {
            #expect(label.reportedAt > occurred[label.eventId]!)
            if label.source == "customer_report" || label.source == "chargeback" {
                #expect(fraudEvents.contains(label.eventId) && label.outcome == .fraud)
            }
        }
        let chargebackDelays = simulation.labels.filter { $0.source == "chargeback" }.map {
            Double($0.reportedAt.millisecondsSinceEpoch - occurred[$0.eventId]!.millisecondsSinceEpoch) / 86_400_000
        }
        #expect(!chargebackDelays.isEmpty && chargebackDelays.allSatisfy { $0 >= 14 })
        let labelledFraud = Set(simulation.labels.filter { $0.outcome == .fraud }.map(\.eventId))
        #expect(fraudEvents.subtracting(labelledFraud).count > 0, "every fraud got reported")
        #expect(simulation.labels.contains { $0.source == "confirmed_genuine" })
        // An analyst's suspicion on a genuine event, later overturned.
        let byEvent = Dictionary(grouping: simulation.labels, by: \.eventId)
        #expect(byEvent.values.contains { $0.count == 2 && $0.first?.source == "analyst" && $0.last?.outcome == .genuine })
        #expect(zip(simulation.labels, simulation.labels.dropFirst()).allSatisfy { $0.reportedAt <= $1.reportedAt })
    }

    @Test(arguments: [
        (SimulationConfiguration(customers: 0), "customers"),
        (SimulationConfiguration(days: 0), "days"),
        (SimulationConfiguration(fraudRate: 0.6), "fraud-rate"),
        (SimulationConfiguration(genuineConfirmationRate: 1.5), "genuine-confirmation-rate"),
    ])
    func refusesParametersOutOfRange(configuration: SimulationConfiguration, name: String) {
        #expect {
            try Simulation(configuration)
        } throws: { error in
            guard case .invalidParameter(let named, _) = error as? SimulationError else { return false }
            return named == name
        }
    }
}
