import Foundation
import Logging
import RiskContract
import RiskStoreTesting
import Testing

@testable import RiskStore
@testable import RiskStorePostgres

/// PostgreSQL keeps events and decisions in a partition per month of the event, with event ids
/// unique across them (`event_ids`), and retention drops whole months by their partitions.
@Suite(.enabled(if: PostgresTesting.url != nil, Comment(rawValue: PostgresTesting.skipReason)))
struct PostgresPartitionTests {
    static func at(_ month: Int, _ day: Int, year: Int = 2026) -> Timestamp { Timestamp(year: year, month: month, day: day, hour: 12)! }

    static func line(_ id: String, _ time: Timestamp, kind: String = "login") -> String {
        #"{"id":"\#(id)","occurred_at":"\#(time.rfc3339)","customer_id":"c1","kind":"\#(kind)"}"#
    }

    static func partitions(of table: String, _ store: any Store) async throws -> [String] {
        try await SQL.strings(
            store,
            """
            SELECT c.relname::TEXT FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = '\(table)'::regclass ORDER BY c.relname
            """)
    }

    /// e1 Jan 10, e2 Jan 20, e3 Feb 10, e4 Feb 20, e5 Mar 10; every one labelled; e2, e4, e5 decided.
    static func store(_ scratch: TemporaryDirectory) async throws -> any Store {
        let store = try await PostgresTesting.freshStore()
        let times = [at(1, 10), at(1, 20), at(2, 10), at(2, 20), at(3, 10)]
        let lines = times.enumerated().map { line("e\($0.offset + 1)", $0.element) }
        _ = try await store.ingestEvents(fromFile: try scratch.file("events.jsonl", lines.joined(separator: "\n")))
        _ = try await store.ingest(
            labels: (1...5).map { Label(eventId: "e\($0)", outcome: .genuine, reportedAt: at(4, 1), source: "analyst") }, source: "api")
        try await store.register(StoreConformanceTests.model("m1", at: 1), status: .champion, actor: "a")
        try await store.log(
            try [2, 4, 5].map { number in
                DecisionRecord(
                    event: try Event.decode(jsonLine: Array(lines[number - 1].utf8)), payload: lines[number - 1],
                    decidedAt: times[number - 1], modelId: "m1", policyVersion: "p1", score: 0.1, decision: "allow", reasons: "[]")
            })
        return store
    }

    @Test func eachMonthHasItsPartitionsAndAnIdStaysUniqueAcrossThem() async throws {
        let scratch = try TemporaryDirectory()
        let store = try await Self.store(scratch)
        let months = ["2026_01", "2026_02", "2026_03"]
        #expect(
            try await Self.partitions(of: "events", store) == months.map { "events_\($0)" } + ["events_before_2000", "events_from_2100"])
        #expect(
            try await Self.partitions(of: "decisions", store) == months.map { "decisions_\($0)" } + [
                "decisions_before_2000", "decisions_from_2100",
            ])
        #expect(try await SQL.integer(store, "SELECT COUNT(*) FROM events_2026_02") == 2)
        // The store's sessions plan no parallel queries (see PostgresURL.clientConfiguration).
        #expect(try await SQL.strings(store, "SHOW max_parallel_workers_per_gather") == ["0"])
        #expect(try await SQL.integer(store, "SELECT COUNT(*) FROM decisions_2026_03") == 1)

        // e1 again in March with other JSON: refused as the id of another event, even though
        // its row would live in another partition; with its own JSON, a duplicate.
        let taken = try scratch.file("taken.jsonl", Self.line("e1", Self.at(3, 15)))
        await #expect(throws: StoreError.self) { _ = try await store.ingestEvents(fromFile: taken) }
        let again = try await store.ingestEvents(fromFile: try scratch.file("again.jsonl", Self.line("e1", Self.at(1, 10))))
        #expect(again.inserted == 0 && again.duplicates == 1)
        // Two lines of one id in one batch: the first is stored, once.
        let twice = [Self.line("e6", Self.at(3, 20)), Self.line("e6", Self.at(3, 20))].joined(separator: "\n")
        let report = try await store.ingestEvents(fromFile: try scratch.file("twice.jsonl", twice))
        #expect(report.inserted == 1 && report.duplicates == 1)
        // Absurd dates go to the fixed partitions: no table per month of them.
        _ = try await store.ingestEvents(fromFile: try scratch.file("far.jsonl", Self.line("e7", Self.at(6, 1, year: 2400))))
        #expect(try await SQL.integer(store, "SELECT COUNT(*) FROM events_from_2100") == 1)
        #expect(try await Self.partitions(of: "events", store).count == 5)
        #expect(try await SQL.integer(store, "SELECT COUNT(*) FROM event_ids") == 7)
        #expect(try await store.statistics().events == 7)
    }

    @Test func retentionDropsWholeMonthsAndDeletesTheRestInBatches() async throws {
        let scratch = try TemporaryDirectory()
        let store = try await Self.store(scratch)
        // Before March 1, keeping January 5 to 15 (e1): February goes by its partitions, e2 by a batch.
        let kept = [PruneReport.KeptWindow(from: Self.at(1, 5), to: Self.at(1, 15), reason: "training window of m0")]
        let cutoff = Timestamp(year: 2026, month: 3, day: 1)!
        let dry = try await store.prune(before: cutoff, keeping: kept, batchSize: 100, dryRun: true, actor: "ops")
        #expect(dry.events == 3 && dry.decisions == 2 && dry.labelVersions == 3 && dry.partitionsDropped == 0)
        let report = try await store.prune(before: cutoff, keeping: kept, batchSize: 100, dryRun: false, actor: "ops")
        #expect(report.events == 3 && report.decisions == 2 && report.labelVersions == 3)
        #expect(report.partitionsDropped == 1 && report.batches == 2)
        #expect(
            try await Self.partitions(of: "events", store) == [
                "events_2026_01", "events_2026_03", "events_before_2000", "events_from_2100",
            ])
        #expect(
            try await Self.partitions(of: "decisions", store) == [
                "decisions_2026_01", "decisions_2026_03", "decisions_before_2000", "decisions_from_2100",
            ])
        #expect(try await SQL.strings(store, "SELECT id FROM event_ids ORDER BY id") == ["e1", "e5"])
        #expect(try await SQL.strings(store, "SELECT id FROM events ORDER BY id") == ["e1", "e5"])
        #expect(try await store.labels(knownAt: Self.at(4, 2)).keys.sorted() == ["e1", "e5"])
        #expect(try await store.decisions(from: Self.at(1, 1), to: Self.at(4, 1)).map(\.eventId) == ["e5"])
        // February again: its partitions come back, and the removed ids are free again.
        _ = try await store.ingestEvents(fromFile: try scratch.file("feb.jsonl", Self.line("e3", Self.at(2, 11))))
        #expect(try await SQL.integer(store, "SELECT COUNT(*) FROM events_2026_02") == 1)
    }

    /// A process that saw a month's partitions still writes to the month after another process's
    /// retention dropped them: the write finds the partition gone and makes it again.
    @Test func aMonthDroppedByAnotherProcessIsMadeAgainOnTheNextWrite() async throws {
        let scratch = try TemporaryDirectory()
        let server = try await PostgresTesting.freshStore()
        let cli = try await PostgresStore.open(url: server.url)
        _ = try await server.ingestEvents(fromFile: try scratch.file("jan.jsonl", Self.line("j1", Self.at(1, 10))))
        let report = try await cli.prune(
            before: Timestamp(year: 2026, month: 2, day: 1)!, keeping: [], batchSize: 100, dryRun: false, actor: "ops")
        #expect(report.partitionsDropped == 1 && report.events == 1)
        try await server.register(StoreConformanceTests.model("m1", at: 1), status: .champion, actor: "a")
        try await server.log([
            DecisionRecord(
                event: try Event.decode(jsonLine: Array(Self.line("j2", Self.at(1, 11)).utf8)), payload: Self.line("j2", Self.at(1, 11)),
                decidedAt: Self.at(1, 11), modelId: "m1", policyVersion: "p1", score: 0.1, decision: "allow", reasons: "[]")
        ])
        #expect(try await SQL.strings(server, "SELECT id FROM events_2026_01") == ["j2"])
    }

    /// A database of the schema before partitions (v7) with rows in it migrates to v8 keeping
    /// every row, the log positions and the id sequences.
    @Test func aStoreOfTheSchemaBeforePartitionsMigratesWithItsRows() async throws {
        let name = "riskloop_test_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        let url = try await PostgresStore.createDatabase(name, on: try #require(PostgresTesting.url))
        let old = try await PostgresStore.open(url: url, logger: Logger(label: "test"), migrations: 7)
        // Rows as the previous build wrote them (this build's writes expect the new schema).
        let rows = [("o1", Self.at(1, 10)), ("o2", Self.at(2, 10)), ("o3", Self.at(2, 11))].map { id, time in
            "('\(id)', \(time.millisecondsSinceEpoch), 'c1', 'login', '\(Self.line(id, time))')"
        }
        try await SQL.execute(
            old, "INSERT INTO events (id, occurred_at, customer_id, kind, payload) VALUES " + rows.joined(separator: ", "))
        try await SQL.execute(
            old,
            """
            INSERT INTO models (id, algorithm, status, created_at, feature_spec_sha256, artifact, artifact_sha256, status_changed_at)
            VALUES ('m0', 'logistic_regression', 'champion', 0, 'spec', '{}', 'sha', 0)
            """)
        try await SQL.execute(
            old,
            """
            INSERT INTO decisions (event_id, decided_at, model_id, policy_version, score, decision, reasons)
            VALUES ('o2', 1, 'm0', 'p1', 0.5, 'review', '[]'), ('o3', 2, 'm0', 'p1', 0.25, 'allow', '[]')
            """)
        try await SQL.execute(
            old,
            "INSERT INTO labels (event_id, outcome, reported_at, source) VALUES ('o2', 'fraud', \(Self.at(3, 1).millisecondsSinceEpoch), 'bank')"
        )
        let before = try await old.logPosition()

        // Another process opens it with this build: the migration runs once, with the rows.
        let store = try await PostgresStore.open(url: url)
        #expect(try await SQL.strings(store, "SELECT id FROM events ORDER BY seq") == ["o1", "o2", "o3"])
        #expect(try await SQL.strings(store, "SELECT id FROM event_ids ORDER BY id") == ["o1", "o2", "o3"])
        #expect(
            try await Self.partitions(of: "events", store) == [
                "events_2026_01", "events_2026_02", "events_before_2000", "events_from_2100",
            ])
        #expect(try await SQL.integer(store, "SELECT COUNT(*) FROM decisions_2026_02") == 2)
        #expect(try await store.logPosition() == before)
        let logged = try await store.decisions(from: Timestamp(millisecondsSinceEpoch: 0), to: Self.at(12, 31))
        #expect(logged.map(\.eventId) == ["o2", "o3"] && logged.map(\.occurredAt) == [Self.at(2, 10), Self.at(2, 11)])
        #expect(try await store.labels(knownAt: Self.at(3, 2))["o2"]?.outcome == .fraud)
        // The sequences go on from where they were: new rows come after the old ones.
        try await store.log([
            DecisionRecord(
                event: try Event.decode(jsonLine: Array(Self.line("n1", Self.at(3, 5)).utf8)), payload: Self.line("n1", Self.at(3, 5)),
                decidedAt: Self.at(3, 5), modelId: "m0", policyVersion: "p1", score: 0.1, decision: "allow", reasons: "[]")
        ])
        let after = try await store.logPosition()
        #expect(after.decision == before.decision + 1)
        #expect(try await SQL.strings(store, "SELECT id FROM events ORDER BY seq") == ["o1", "o2", "o3", "n1"])
    }
}
