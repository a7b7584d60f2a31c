import Foundation
import RiskFeatures
import RiskSimulator
import Testing

@testable import RiskContract

/// Entity aggregates against a brute-force reference, and proofs that no later event or label
/// leaks into a row, on simulated data.
@Suite struct EntityProfilesTests {
    static let simulation: Simulation = {
        var configuration = SimulationConfiguration(customers: 120, days: 21, seed: 5, fraudRate: 0.05)
        configuration.driftAt = configuration.midpoint
        return try! Simulation(configuration)
    }()

    static let events = simulation.events.map { ParsedEvent(event: $0) }

    static func aggregate(
        _ name: String, key: String, function: Feature.Function, field: String? = nil, hours: Double, kinds: [String]? = nil,
        includeCurrent: Bool? = nil
    )
        -> Feature
    {
        var feature = Feature(name: name, kind: .aggregate)
        feature.key = key
        feature.function = function
        feature.field = field
        feature.windowHours = hours
        feature.eventKinds = kinds
        feature.includeCurrent = includeCurrent
        return feature
    }

    static func fraudRate(_ name: String, key: String, hours: Double, delayHours: Double) -> Feature {
        var feature = Feature(name: name, kind: .fraudRate)
        feature.key = key
        feature.windowHours = hours
        feature.labelDelayHours = delayHours
        feature.priorRate = 0.02
        feature.priorWeight = 2
        return feature
    }

    static let features = [
        aggregate("customer_payments_24h", key: "customer_id", function: .count, hours: 24, kinds: ["payment"]),
        aggregate("customer_amount_7d", key: "customer_id", function: .sum, field: "amount", hours: 168),
        aggregate("device_mean_amount_30d", key: "device.id", function: .mean, field: "amount", hours: 720),
        aggregate("customer_devices_30d", key: "customer_id", function: .distinctCount, field: "device.id", hours: 720),
        aggregate("payee_events_1h", key: "payee.id", function: .count, hours: 1),
        aggregate("device_amount_spread_30d", key: "device.id", function: .std, field: "amount", hours: 720),
        aggregate("customer_smallest_payment_7d", key: "customer_id", function: .min, field: "amount", hours: 168, kinds: ["payment"]),
        aggregate("customer_largest_payment_7d", key: "customer_id", function: .max, field: "amount", hours: 168, kinds: ["payment"]),
        aggregate("customer_mean_amount_7d_now", key: "customer_id", function: .mean, field: "amount", hours: 168, includeCurrent: true),
        aggregate(
            "device_customers_30d_now", key: "device.id", function: .distinctCount, field: "customer_id", hours: 720, includeCurrent: true),
        fraudRate("device_fraud_rate_30d", key: "device.id", hours: 720, delayHours: 24),
        fraudRate("customer_fraud_rate_7d", key: "customer_id", hours: 168, delayHours: 0),
    ]

    static let extractor = try! FeatureExtractor(spec: FeatureSpec(name: "aggregates", features: features))

    /// Straight from the definitions: look at every earlier event.
    static func bruteForce(_ index: Int, _ feature: Feature, labels: [Label]) -> Double {
        let event = events[index].event!
        let now = event.occurredAt.millisecondsSinceEpoch
        let window = Int64(feature.windowHours! * 3_600_000)
        let key = FieldReader(feature.key!)
        guard let own = EntityKey.of(key.read(events[index])) else { return feature.kind == .fraudRate ? feature.priorRate! : 0 }
        // With include_current, the event itself counts too.
        let earlier = events[..<(feature.includeCurrent == true ? index + 1 : index)].filter { other in
            EntityKey.of(key.read(other)) == own && other.event!.occurredAt.millisecondsSinceEpoch >= now - window
                && (feature.eventKinds.map { kinds in kinds.contains(other.event!.kind.rawValue) } ?? true)
        }
        let numbers = earlier.compactMap { $0.event!.amount }
        switch (feature.kind, feature.function) {
        case (.aggregate, .count?): return Double(earlier.count)
        case (.aggregate, .sum?): return numbers.reduce(0, +)
        // A column reads 0 for the mean, spread and extremes of nothing.
        case (.aggregate, .mean?): return numbers.isEmpty ? 0 : numbers.reduce(0, +) / Double(numbers.count)
        case (.aggregate, .std?):
            guard !numbers.isEmpty else { return 0 }
            let mean = numbers.reduce(0, +) / Double(numbers.count)
            return (numbers.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(numbers.count)).squareRoot()
        case (.aggregate, .min?): return numbers.min() ?? 0
        case (.aggregate, .max?): return numbers.max() ?? 0
        case (.aggregate, .distinctCount?):
            let field = FieldReader(feature.field!)
            return Double(Set(earlier.compactMap { EntityKey.of(field.read($0)) }).count)
        default:
            let cutoff = now - Int64(feature.labelDelayHours! * 3_600_000)
            var fraud = 0.0, genuine = 0.0
            for member in earlier {
                // The latest version known at the cutoff; equal times go to the later one.
                let known = labels.filter { $0.eventId == member.event!.id && $0.reportedAt.millisecondsSinceEpoch <= cutoff }
                guard let label = known.max(by: { $0.reportedAt <= $1.reportedAt }) else { continue }
                if label.outcome == Outcome.fraud { fraud += 1 } else { genuine += 1 }
            }
            return (fraud + feature.priorWeight! * feature.priorRate!) / (fraud + genuine + feature.priorWeight!)
        }
    }

    @Test func aggregatesMatchABruteForceReference() throws {
        let labels = Self.simulation.labels
        let matrix = Self.extractor.matrix(Self.events, labels: labels)
        // Every 7th event keeps the brute force quick while covering every customer and day.
        for index in stride(from: 0, to: Self.events.count, by: 7) {
            for (column, feature) in Self.features.enumerated() {
                let expected = Self.bruteForce(index, feature, labels: labels)
                #expect(abs(matrix[index, column] - expected) <= 1e-9 * max(1, abs(expected)), "event \(index), \(feature.name)")
            }
        }
        // The data exercise what the test claims: some fraud rates moved off their prior.
        let fraudColumn = Self.features.firstIndex { $0.name == "customer_fraud_rate_7d" }!
        #expect((0..<matrix.rows).contains { abs(matrix[$0, fraudColumn] - 0.02) > 0.05 })
    }

    @Test func batchRowsEqualLiveScoringThatCannotSeeTheFuture() throws {
        let labels = Self.simulation.labels
        let batch = Self.extractor.matrix(Self.events, labels: labels)
        var profiles = Self.extractor.makeProfiles()
        var nextLabel = 0
        for (index, event) in Self.events.enumerated() {
            // Live: a label is handed over only once it has been reported.
            while nextLabel < labels.count, labels[nextLabel].reportedAt <= event.event!.occurredAt {
                profiles.observe(labels[nextLabel])
                nextLabel += 1
            }
            let live = Self.extractor.vector(event, profiles: &profiles)
            #expect(live == Array(batch.values[(index * batch.columns)..<((index + 1) * batch.columns)]), "event \(index)")
        }
    }

    @Test func recordEqualsValuesThenObserve() throws {
        let labels = Self.simulation.labels
        var separate = Self.extractor.makeProfiles(), together = Self.extractor.makeProfiles()
        for label in labels {
            separate.observe(label)
            together.observe(label)
        }
        for (index, event) in Self.events.enumerated() {
            let expected = separate.values(for: event)
            separate.observe(event)
            // NaN (a mean of nothing) on both sides is equal.
            #expect(together.record(event).elementsEqual(expected) { $0 == $1 || ($0.isNaN && $1.isNaN) }, "event \(index)")
        }
    }

    @Test func laterEventsAndLaterLabelsChangeNoEarlierRow() throws {
        let cut = Self.events.count / 2
        let past = Array(Self.events[..<cut])
        let cutoff = past.last!.event!.occurredAt
        let knownThen = Self.simulation.labels.filter { $0.reportedAt <= cutoff }
        let before = Self.extractor.matrix(past, labels: knownThen)
        // The future: every later event, every label (including versions that overturn earlier
        // ones), and a burst of fraud labels on the past's events, all reported after the cut.
        let overturned = past.map { Label(eventId: $0.event!.id, outcome: .fraud, reportedAt: cutoff.adding(hours: 1), source: "analyst") }
        let after = Self.extractor.matrix(Self.events, labels: Self.simulation.labels + overturned)
        #expect(Array(after.values.prefix(before.values.count)) == before.values)
    }
}

/// The key text the brute force compares, independent of the profiles' own conversion.
enum EntityKey {
    static func of(_ value: FieldValue) -> String? {
        if case .string(let text) = value { return text }
        return nil
    }
}

@Suite struct EntityBoundTests {
    /// Live scoring records events as they come, and one can come after a later one (two threads,
    /// a batch of older events): it must still leave its window when its own time says so.
    @Test func anEventRecordedLateLeavesItsWindowOnTime() throws {
        let features = [
            EntityProfilesTests.aggregate("count_1h", key: "device.id", function: .count, hours: 1),
            EntityProfilesTests.aggregate("amount_1h", key: "device.id", function: .sum, field: "amount", hours: 1),
            EntityProfilesTests.aggregate("customers_1h", key: "device.id", function: .distinctCount, field: "customer_id", hours: 1),
            EntityProfilesTests.fraudRate("fraud_rate_1h", key: "device.id", hours: 1, delayHours: 0),
        ]
        var profiles = try FeatureExtractor(spec: FeatureSpec(name: "late", features: features)).makeProfiles()
        func event(_ id: String, _ time: String, customer: String, amount: Double) throws -> ParsedEvent {
            try ParsedEvent(
                jsonLine: Array(
                    #"{"id":"\#(id)","occurred_at":"2026-03-02T\#(time):00Z","customer_id":"\#(customer)","kind":"payment","amount":\#(amount),"device":{"id":"d"}}"#
                        .utf8))
        }
        _ = profiles.record(try event("e1", "10:00", customer: "a", amount: 5))
        // Two hours older than the first; what the scorer knows then includes e1.
        #expect(profiles.record(try event("e2", "08:00", customer: "b", amount: 7)).prefix(3) == [1, 5, 1])
        profiles.observe(Label(eventId: "e2", outcome: .fraud, reportedAt: Timestamp(rfc3339: "2026-03-02T08:30:00Z")!, source: "test"))
        // At 10:30 the window starts at 09:30: e1 is in it, e2 is not, and nor is e2's fraud label.
        #expect(profiles.record(try event("e3", "10:30", customer: "a", amount: 2)) == [1, 5, 1, 0.02])
        #expect(profiles.record(try event("e4", "10:45", customer: "c", amount: 1)) == [2, 7, 1, 0.02])
    }

    @Test func aKeyKeepsAtMostTheBoundOfEventsOldestFirst() throws {
        var count = Feature(name: "device_events", kind: .aggregate)
        count.key = "device.id"
        count.function = .count
        count.windowHours = 24 * 365
        let extractor = try FeatureExtractor(spec: FeatureSpec(name: "bound", features: [count]))
        var profiles = extractor.makeProfiles()
        let start = Timestamp(year: 2026, month: 1, day: 1)!
        let total = EntityProfiles.maximumEventsPerKey + 50
        for index in 0..<total {
            let time = start.adding(milliseconds: Int64(index) * 1000).rfc3339
            let record = try JSONValue.parse(Array(#"{"id":"e\#(index)","occurred_at":"\#(time)","device":{"id":"shared"}}"#.utf8))
            let history = profiles.values(for: ParsedEvent(record: record))
            // Exact until the bound, then held there.
            #expect(history[0] == Double(min(index, EntityProfiles.maximumEventsPerKey)))
            profiles.observe(ParsedEvent(record: record))
        }
    }
}
