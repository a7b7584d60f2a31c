import Foundation
import GRDB
import RiskContract
import RiskFeatures
import RiskStoreLocation
import RiskStoreTesting
import Testing

@testable import RiskStore
@testable import RiskStoreSQLite

@Suite struct LabelIngestTests {
    static func storeWithEvents(_ directory: TemporaryDirectory, _ backend: Backend) async throws -> any Store {
        let store = try await backend.open(directory)
        _ = try await store.ingestEvents(fromFile: try directory.file("events.jsonl", Lines.events(["e1", "e2", "e3"])))
        return store
    }

    static func at(_ day: Int, _ hour: Int = 0) -> Timestamp { Timestamp(year: 2026, month: 3, day: day, hour: hour)! }

    @Test(arguments: Backend.allCases)
    func aLaterLabelSupersedesAnEarlierOneAndEveryVersionIsKept(backend: Backend) async throws {
        let directory = try TemporaryDirectory()
        let store = try await Self.storeWithEvents(directory, backend)
        // The later version is ingested first: report time, not arrival order, decides.
        let later = try directory.file(
            "later.csv", "event_id,outcome,reported_at,source\ne1,genuine,2026-03-05T00:00:00Z,confirmed_genuine\n")
        let earlier = try directory.file(
            "earlier.jsonl",
            #"{"event_id":"e1","outcome":"fraud","reported_at":"2026-03-02T00:00:00Z","source":"analyst"}"# + "\n"
                + #"{"event_id":"e2","outcome":"fraud","reported_at":"2026-03-03T00:00:00Z","source":"customer_report"}"# + "\n")
        #expect(try await store.ingestLabels(fromFile: later).inserted == 1)
        #expect(try await store.ingestLabels(fromFile: earlier).inserted == 2)

        #expect(try await store.labels(knownAt: Self.at(1)).isEmpty)
        let onThe4th = try await store.labels(knownAt: Self.at(4))
        #expect(onThe4th["e1"]?.outcome == .fraud && onThe4th["e1"]?.source == "analyst")
        #expect(onThe4th["e2"]?.outcome == .fraud)
        let onThe6th = try await store.labels(knownAt: Self.at(6))
        #expect(onThe6th["e1"]?.outcome == .genuine && onThe6th["e1"]?.source == "confirmed_genuine")
        #expect(onThe6th["e3"] == nil)
        #expect(try await store.labelVersions(eventId: "e1").map(\.outcome) == [.fraud, .genuine])
        #expect(
            try await SQL.strings(store, "SELECT event_id || '=' || outcome FROM latest_labels ORDER BY event_id") == [
                "e1=genuine", "e2=fraud",
            ])
    }

    @Test(arguments: Backend.allCases)
    func reIngestingTheSameLabelsChangesNothing(backend: Backend) async throws {
        let directory = try TemporaryDirectory()
        let store = try await Self.storeWithEvents(directory, backend)
        let path = try directory.file(
            "labels.csv",
            "source,event_id,reported_at,outcome\nanalyst,e1,2026-03-02T00:00:00Z,fraud\n\"customer_report\",e2,2026-03-03T00:00:00Z,fraud\n"
        )
        #expect(try await store.ingestLabels(fromFile: path).inserted == 2)
        let again = try await store.ingestLabels(fromFile: path)
        #expect(again.inserted == 0 && again.duplicates == 2)
        #expect(again.firstDuplicates.first == .init(line: 2, id: "e1@2026-03-02T00:00:00Z"))
    }

    @Test(arguments: [
        (
            "event_id,outcome,reported_at,source\ne1,fraud,2026-03-02T00:00:00Z,analyst\ne9,fraud,2026-03-02T00:00:00Z,analyst\n", 3,
            "event_id"
        ),
        (
            "event_id,outcome,reported_at,source\ne1,fraud,2026-03-02T00:00:00Z,analyst\ne2,fraudulent,2026-03-02T00:00:00Z,analyst\n", 3,
            "outcome"
        ),
        ("event_id,outcome,reported_at,source\ne1,fraud,2026-03-02,analyst\n", 2, "reported_at"),
        ("event_id,outcome,source\ne1,fraud,analyst\n", 1, "reported_at"),
    ])
    func aBadLabelNamesItsLineAndFieldAndStoresNothingOfItsBatch(text: String, line: Int, field: String) async throws {
        let directory = try TemporaryDirectory()
        for backend in Backend.allCases {
            let store = try await Self.storeWithEvents(directory, backend)
            let path = try directory.file("labels.csv", text)
            await #expect {
                try await store.ingestLabels(fromFile: path)
            } throws: { error in
                guard case .badLine(path, line, field, _, _) = error as? StoreError else { return false }
                return true
            }
            #expect(try await SQL.integer(store, "SELECT COUNT(*) FROM labels") == 0)
        }
    }

    @Test(arguments: Backend.allCases)
    func aCSVRecordWithTheWrongNumberOfFieldsIsAnError(backend: Backend) async throws {
        let directory = try TemporaryDirectory()
        let store = try await Self.storeWithEvents(directory, backend)
        let path = try directory.file("labels.csv", "event_id,outcome,reported_at,source\ne1,fraud,2026-03-02T00:00:00Z\n")
        await #expect {
            try await store.ingestLabels(fromFile: path)
        } throws: { error in
            guard case .badLine(_, 2, nil, let message, _) = error as? StoreError else { return false }
            return message == "3 fields where the header has 4"
        }
    }

    @Test(arguments: Backend.allCases)
    func statisticsReplayLabelsWeekByWeek(backend: Backend) async throws {
        let directory = try TemporaryDirectory()
        let store = try await Self.storeWithEvents(directory, backend)  // events on 2026-03-01
        let path = try directory.file(
            "labels.csv",
            """
            event_id,outcome,reported_at,source
            e1,fraud,2026-03-02T00:00:00Z,analyst
            e2,genuine,2026-03-03T00:00:00Z,confirmed_genuine
            e1,genuine,2026-03-09T00:00:00Z,confirmed_genuine
            e3,fraud,2026-03-20T00:00:00Z,chargeback

            """)
        _ = try await store.ingestLabels(fromFile: path)
        let statistics = try await store.statistics()
        // Weeks end 03-08, 03-15, 03-22; hand-counted states at each.
        #expect(
            statistics.labelsKnownByDate == [
                .init(asOf: "2026-03-08T00:00:00Z", fraud: 1, genuine: 1),
                .init(asOf: "2026-03-15T00:00:00Z", fraud: 0, genuine: 2),
                .init(asOf: "2026-03-22T00:00:00Z", fraud: 1, genuine: 2),
            ])
        #expect(statistics.labelVersions == 4 && statistics.labelledEvents == 3)
        #expect(statistics.latestLabelsByOutcome == ["fraud": 1, "genuine": 2])
        #expect(statistics.events == 3 && statistics.eventsByKind == ["login": 3])
    }
}
