import Foundation
import GRDB
import RiskContract
import RiskFeatures
import RiskStoreLocation
import RiskStoreTesting
import Testing

@testable import RiskStore
@testable import RiskStoreSQLite

@Suite struct EventIngestTests {
    @Test(arguments: Backend.allCases)
    func storesEveryEventWithItsPayloadVerbatim(backend: Backend) async throws {
        let directory = try TemporaryDirectory()
        let lines = (1...25).map { Lines.event("e\($0)", minute: $0, customer: "c\($0 % 4)") }
        let path = try directory.file("events.jsonl", lines.joined(separator: "\r\n"))  // CRLF, no final newline
        let store = try await backend.open(directory)
        let report = try await store.ingestEvents(fromFile: path, batchSize: 7)
        #expect(report.inserted == 25 && report.duplicates == 0 && report.batches == 4 && report.lastCommittedLine == 25)
        #expect(try await SQL.strings(store, "SELECT payload FROM events ORDER BY occurred_at") == lines)
        #expect(
            try await SQL.integer(store, "SELECT occurred_at FROM events WHERE id = 'e3'")
                == Int(Timestamp(year: 2026, month: 3, day: 1, hour: 10, minute: 3)!.millisecondsSinceEpoch))
        #expect(try await SQL.strings(store, "SELECT customer_id FROM events WHERE id = 'e3'") == ["c3"])
        #expect(try await SQL.integer(store, "SELECT COUNT(*) FROM ingest_batches WHERE kind = 'events' AND source = '\(path)'") == 4)
    }

    @Test func anSQLiteFileRunsInWALMode() async throws {
        let directory = try TemporaryDirectory()
        let store = try SQLiteStore(path: directory.databasePath)
        let mode = try await store.writer.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") }
        #expect(mode == "wal")
    }

    @Test(arguments: Backend.allCases)
    func reportsAndSkipsDuplicateIds(backend: Backend) async throws {
        let directory = try TemporaryDirectory()
        let store = try await backend.open(directory)
        let first = try directory.file("a.jsonl", Lines.events(["e1", "e2", "e3"]))
        #expect(try await store.ingestEvents(fromFile: first).inserted == 3)
        // e2 again (already stored, the same JSON) and e4 twice in the same file.
        let second = try directory.file(
            "b.jsonl", [Lines.event("e2", minute: 1), Lines.event("e4"), Lines.event("e5"), Lines.event("e4")].joined(separator: "\n"))
        let report = try await store.ingestEvents(fromFile: second, batchSize: 2)
        #expect(report.inserted == 2)
        #expect(report.duplicates == 2)
        #expect(report.firstDuplicates == [.init(line: 1, id: "e2"), .init(line: 4, id: "e4")])
        #expect(try await SQL.integer(store, "SELECT COUNT(*) FROM events") == 5)
        // e2 with other JSON: refused by line, its batch rolled back, the stored e2 kept.
        let third = try directory.file("c.jsonl", [Lines.event("e6"), Lines.event("e2", minute: 7)].joined(separator: "\n"))
        await #expect(throws: StoreError.self) { try await store.ingestEvents(fromFile: third) }
        #expect(try await SQL.strings(store, "SELECT payload FROM events WHERE id = 'e2'") == [Lines.event("e2", minute: 1)])
        #expect(try await SQL.integer(store, "SELECT COUNT(*) FROM events WHERE id = 'e6'") == 0)
    }

    @Test(arguments: Backend.allCases)
    func aMalformedLineRollsBackItsBatchAndKeepsEarlierOnes(backend: Backend) async throws {
        let directory = try TemporaryDirectory()
        var lines = (1...10).map { Lines.event("e\($0)", minute: $0) }
        lines[4] =
            #"{"id":"e5","occurred_at":"2026-03-01T10:05:00Z","customer_id":"c1","kind":"login","telco":{"call_forwarding":["sometimes"]}}"#
        let path = try directory.file("events.jsonl", lines.joined(separator: "\n"))
        let store = try await backend.open(directory)
        await #expect {
            try await store.ingestEvents(fromFile: path, batchSize: 3)
        } throws: { error in
            guard case .badLine(let file, let line, let field, let message, let accepted) = error as? StoreError else { return false }
            return file == path && line == 5 && field == "telco.call_forwarding[0]" && message.contains("sometimes")
                && accepted.inserted == 3 && accepted.lastCommittedLine == 3
        }
        #expect(try await SQL.strings(store, "SELECT id FROM events ORDER BY id") == ["e1", "e2", "e3"])
        #expect(try await SQL.integer(store, "SELECT COUNT(*) FROM ingest_batches") == 1)

        // Fixed and run again: the stored lines come back as duplicates, the rest goes in.
        lines[4] = Lines.event("e5", minute: 5)
        let fixed = try directory.file("events.jsonl", lines.joined(separator: "\n"))
        let report = try await store.ingestEvents(fromFile: fixed, batchSize: 3)
        #expect(report.inserted == 7 && report.duplicates == 3)
    }

    @Test(arguments: Backend.allCases)
    func aFailedBatchLeavesTheDatabaseExactlyAsBefore(backend: Backend) async throws {
        let directory = try TemporaryDirectory()
        let store = try await backend.open(directory)
        _ = try await store.ingestEvents(fromFile: try directory.file("good.jsonl", Lines.events(["a", "b"])))
        let before = try await SQL.dump(store)
        #expect(before.count == (backend == .postgres ? 5 : 3))  // PostgreSQL also lists the two ids of event_ids
        // The bad line is last in the batch, after new and duplicate events that were accepted.
        let bad = try directory.file(
            "bad.jsonl", Lines.events(["c", "a", "d"]) + #"{"id":"x","occurred_at":"2026-03-01T10:00:00Z","kind":"login"}"# + "\n")
        await #expect {
            try await store.ingestEvents(fromFile: bad)
        } throws: { error in
            guard case .badLine(_, 4, "customer_id", _, let accepted) = error as? StoreError else { return false }
            return accepted.inserted == 0
        }
        #expect(try await SQL.dump(store) == before)
    }

    @Test(arguments: Backend.allCases)
    func namesTheLineOfInvalidJSONAndOfAMissingFile(backend: Backend) async throws {
        let directory = try TemporaryDirectory()
        let store = try await backend.open(directory)
        let path = try directory.file("events.jsonl", Lines.events(["a"]) + "\n{\"id\": \"b\",\n")
        await #expect {
            try await store.ingestEvents(fromFile: path)
        } throws: { error in
            guard case .badLine(_, 3, nil, let message, _) = error as? StoreError else { return false }
            return message.hasPrefix("malformed JSON")
        }
        await #expect {
            try await store.ingestEvents(fromFile: directory.url.appending(path: "absent.jsonl").path)
        } throws: { error in
            guard case .cannotRead(_, "no such file") = error as? StoreError else { return false }
            return true
        }
    }
}

@Suite struct TrainingSnapshotTests {
    @Test func eventsComeBackInTimeOrderAcrossParseBatchesSplitAtTheWindow() async throws {
        let directory = try TemporaryDirectory()
        let store = try SQLiteStore(path: directory.databasePath)
        // Stored out of order: the snapshot orders by time, then arrival.
        let minutes = [5, 1, 9, 3, 7, 2, 8, 4, 6, 0, 3]
        let lines = minutes.enumerated().map { Lines.event("e\($0)", minute: $1) }
        _ = try await store.ingestEvents(fromFile: try directory.file("events.jsonl", lines.joined(separator: "\n")))
        let at = { (minute: Int) in Timestamp(year: 2026, month: 3, day: 1, hour: 10, minute: minute)! }
        for batch in [1, 3, 4, 100] {
            let snapshot = try await store.trainingSnapshot(
                historyFrom: at(0), from: at(3), to: at(9), labelsKnownAt: at(9), keepingJSON: false, parseBatch: batch)
            #expect(snapshot.warmup.map { $0.event!.id } == ["e9", "e1", "e5"], "batch \(batch)")
            #expect(snapshot.events.map { $0.event!.id } == ["e3", "e10", "e7", "e0", "e8", "e4", "e6"], "batch \(batch)")
        }
    }

    @Test(arguments: Backend.allCases)
    func eachEventsOutcomeIsItsLatestVersionKnownAtTheCutoff(backend: Backend) async throws {
        let directory = try TemporaryDirectory()
        let store = try await backend.open(directory)
        let minutes = [0, 1, 2, 3, 4, 5]
        _ = try await store.ingestEvents(
            fromFile: try directory.file(
                "events.jsonl", minutes.map { Lines.event("e\($0)", minute: $0) }.joined(separator: "\n")))
        let labels = [
            // e1: fraud, then genuine later: genuine.
            "e1,fraud,2026-03-02T10:00:00Z,customer_report", "e1,genuine,2026-03-03T10:00:00Z,analyst",
            // e2: genuine, then fraud after the cutoff: still genuine.
            "e2,genuine,2026-03-02T10:00:00Z,analyst", "e2,fraud,2026-03-09T10:00:00Z,chargeback",
            // e3: two versions at the same instant: the one stored last.
            "e3,genuine,2026-03-02T10:00:00Z,analyst", "e3,fraud,2026-03-02T10:00:00Z,chargeback",
            // e4: only after the cutoff: unlabelled. e0 is warm-up only.
            "e4,fraud,2026-03-09T10:00:00Z,chargeback", "e0,fraud,2026-03-02T10:00:00Z,chargeback",
        ]
        _ = try await store.ingestLabels(
            fromFile: try directory.file("labels.csv", (["event_id,outcome,reported_at,source"] + labels).joined(separator: "\n")))
        let at = { (minute: Int) in Timestamp(year: 2026, month: 3, day: 1, hour: 10, minute: minute)! }
        let snapshot = try await store.trainingSnapshot(
            historyFrom: at(0), from: at(1), to: at(6), labelsKnownAt: Timestamp(year: 2026, month: 3, day: 5)!, keepingJSON: false)
        #expect(snapshot.events.map { $0.event!.id } == ["e1", "e2", "e3", "e4", "e5"])
        #expect(snapshot.outcomes == [.genuine, .genuine, .fraud, nil, nil])
    }

    @Test func aPayloadChangedBehindTheStoresBackIsAnErrorNotAGap() async throws {
        let directory = try TemporaryDirectory()
        let store = try SQLiteStore(path: directory.databasePath)
        _ = try await store.ingestEvents(fromFile: try directory.file("events.jsonl", Lines.events(["a", "b", "c", "d", "e"])))
        try await store.writer.write { db in try db.execute(sql: "UPDATE events SET payload = '{\"id\": 3' WHERE id = 'c'") }
        let start = Timestamp(year: 2026, month: 3, day: 1)!
        await #expect {
            try await store.trainingSnapshot(
                historyFrom: start, from: start, to: start.adding(days: 1), labelsKnownAt: start, keepingJSON: false, parseBatch: 2)
        } throws: { error in
            guard case .database(let message) = error as? StoreError else { return false }
            return message.contains("no longer parses")
        }
    }
}
