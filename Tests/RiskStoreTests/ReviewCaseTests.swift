import Foundation
import GRDB
import RiskContract
import RiskStore
import RiskStoreTesting
import Testing

@testable import RiskStoreSQLite

/// The review queue in the store, on every backend: cases opened with their decisions, resolved
/// once into a label version, step-up outcomes, and retention keeping open cases. Expected
/// values are read off the inputs by hand.
@Suite struct ReviewCaseTests {
    static func at(_ minute: Int) -> Timestamp { StoreConformanceTests.at(minute) }

    /// Logs one decision per `(id, customer, decision, minute)`, decided a minute after the event.
    static func log(_ store: any Store, _ rows: [(String, String, String, Int)]) async throws {
        try await store.log(
            try rows.map { id, customer, decision, minute in
                let text = Lines.event(id, minute: minute, customer: customer)
                return DecisionRecord(
                    event: try Event.decode(jsonLine: Array(text.utf8)), payload: text, decidedAt: at(minute + 1), modelId: "m1",
                    policyVersion: "p1", score: Double(minute) / 100, decision: decision,
                    reasons: #"[{"column":"c","contribution":1.5,"text":"why \#(id)"}]"#)
            })
    }

    static func store(_ backend: Backend, _ scratch: TemporaryDirectory) async throws -> any Store {
        let store = try await backend.open(scratch)
        try await store.register(StoreConformanceTests.model("m1", at: 1), status: .champion, actor: "a")
        try await store.recordPolicy(version: "p1", json: #"{"version":"p1"}"#, actor: "a")
        return store
    }

    @Test(arguments: Backend.allCases)
    func aReviewDecisionOpensACaseThatIsResolvedOnceIntoALabel(backend: Backend) async throws {
        let scratch = try TemporaryDirectory()
        let store = try await Self.store(backend, scratch)
        try await Self.log(
            store, [("e1", "c1", "allow", 1), ("e2", "c2", "review", 2), ("e3", "c1", "step_up", 3), ("e4", "c1", "review", 4)])
        let open = try await store.cases(CaseFilter())
        #expect(open.map(\.eventId) == ["e2", "e4"], "reviews only, oldest first")
        let first = try #require(open.first)
        #expect(first.trigger == .review && first.status == .open && first.resolution == nil)
        #expect(first.customerId == "c2" && first.occurredAt == Self.at(2) && first.openedAt == Self.at(3))
        #expect(first.decision == "review" && first.score == 0.02 && first.modelId == "m1" && first.policyVersion == "p1")
        #expect(
            first.reasons
                == .array([
                    .object(
                        JSONObject([
                            .init(key: "column", value: .string("c")), .init(key: "contribution", value: .number(1.5)),
                            .init(key: "text", value: .string("why e2")),
                        ]))
                ]))
        #expect(try await store.cases(CaseFilter(customerId: "c1")).map(\.eventId) == ["e4"])
        #expect(try await store.cases(CaseFilter(limit: 1)).map(\.eventId) == ["e2"])
        #expect(try await store.cases(CaseFilter(openedFrom: Self.at(4))).map(\.eventId) == ["e4"])
        #expect(try await store.cases(CaseFilter(openedTo: Self.at(4))).map(\.eventId) == ["e2"])
        #expect(try await store.caseStatistics() == CaseStatistics(open: 2, oldestOpenedAt: Self.at(3), resolved: [:]))
        let (found, payload) = try #require(try await store.reviewCase(id: first.id))
        #expect(found == first && payload == Lines.event("e2", minute: 2, customer: "c2"))
        #expect(try await store.reviewCase(id: 999) == nil)

        // Resolving: the case, a label version in the shared log, an audit entry; all at once.
        let before = try await store.logPosition()
        let (resolved, label) = try await store.resolveCase(
            id: first.id, outcome: .fraud, note: "customer confirmed", actor: "alice", at: Self.at(30))
        #expect(label == Label(eventId: "e2", outcome: .fraud, reportedAt: Self.at(30), source: "analyst"))
        #expect(resolved.status == .resolved)
        #expect(
            resolved.resolution
                == ReviewCase.Resolution(outcome: .fraud, note: "customer confirmed", resolvedBy: "alice", resolvedAt: Self.at(30)))
        #expect(try await store.labelVersions(eventId: "e2") == [label])
        #expect(try await store.logTail(after: before, limit: 10).labels == [label])
        let audit = try #require(try await store.auditEntries().last)
        #expect(audit.action == "case.resolve" && audit.actor == "alice" && audit.subject == "e2" && audit.reason == "customer confirmed")
        #expect(
            audit.detail == #"{"case":\#(first.id),"event_id":"e2","label_seq":\#(try await store.logPosition().label),"outcome":"fraud"}"#)

        // Once only: a second resolution is refused and stores nothing.
        await #expect {
            try await store.resolveCase(id: first.id, outcome: .genuine, note: "changed my mind", actor: "bob", at: Self.at(40))
        } throws: { error in
            guard case .conflict(let reason) = error as? StoreError else { return false }
            return reason.contains("already resolved") && reason.contains("alice")
        }
        await #expect(throws: StoreError.notFound(what: "case 999")) {
            try await store.resolveCase(id: 999, outcome: .fraud, note: "n", actor: "a", at: Self.at(40))
        }
        #expect(try await store.labelVersions(eventId: "e2") == [label])
        #expect(try await store.auditEntries().filter { $0.action == "case.resolve" }.count == 1)
        #expect(try await store.cases(CaseFilter()).map(\.eventId) == ["e4"])
        #expect(try await store.cases(CaseFilter(status: .resolved)).map(\.eventId) == ["e2"])
        #expect(try await store.cases(CaseFilter(status: nil)).map(\.eventId) == ["e2", "e4"])
        #expect(try await store.caseStatistics() == CaseStatistics(open: 1, oldestOpenedAt: Self.at(5), resolved: [.fraud: 1]))
    }

    @Test(arguments: Backend.allCases)
    func aFailedOrAbandonedStepUpOpensACaseWhenAsked(backend: Backend) async throws {
        let scratch = try TemporaryDirectory()
        let store = try await Self.store(backend, scratch)
        try await Self.log(
            store, [("e1", "c1", "allow", 1), ("s1", "c1", "step_up", 2), ("s2", "c1", "step_up", 3), ("s3", "c1", "step_up", 4)])
        let failed = try #require(try await store.recordStepUpOutcome(eventId: "s1", outcome: .failed, opensCase: true, at: Self.at(20)))
        #expect(failed.eventId == "s1" && failed.trigger == .stepUpFailed && failed.openedAt == Self.at(20) && failed.decision == "step_up")
        // The same report again changes nothing; another outcome for it is refused.
        #expect(try await store.recordStepUpOutcome(eventId: "s1", outcome: .failed, opensCase: true, at: Self.at(25)) == failed)
        await #expect {
            try await store.recordStepUpOutcome(eventId: "s1", outcome: .passed, opensCase: true, at: Self.at(25))
        } throws: { error in
            guard case .conflict(let reason) = error as? StoreError else { return false }
            return reason.contains("already reported as 'failed'")
        }
        // Passed, or not asked to open one: no case.
        #expect(try await store.recordStepUpOutcome(eventId: "s2", outcome: .passed, opensCase: true, at: Self.at(20)) == nil)
        #expect(try await store.recordStepUpOutcome(eventId: "s3", outcome: .abandoned, opensCase: false, at: Self.at(20)) == nil)
        #expect(try await store.cases(CaseFilter(status: nil)).map(\.eventId) == ["s1"])
        #expect(try await SQL.integer(store, "SELECT COUNT(*) FROM decisions WHERE step_up_outcome IS NOT NULL") == 3)
        // Not a step-up, or no decision at all.
        await #expect {
            try await store.recordStepUpOutcome(eventId: "e1", outcome: .failed, opensCase: true, at: Self.at(20))
        } throws: { error in
            guard case .conflict(let reason) = error as? StoreError else { return false }
            return reason.contains("decided 'allow'")
        }
        await #expect(throws: StoreError.notFound(what: "a decision for event nope")) {
            try await store.recordStepUpOutcome(eventId: "nope", outcome: .failed, opensCase: true, at: Self.at(20))
        }
    }

    @Test(arguments: Backend.allCases)
    func aCustomersEventsAreReadInTimeOrder(backend: Backend) async throws {
        let scratch = try TemporaryDirectory()
        let store = try await backend.open(scratch)
        let lines = [
            Lines.event("a3", minute: 3, customer: "a"), Lines.event("b1", minute: 1, customer: "b"),
            Lines.event("a1", minute: 1, customer: "a"), Lines.event("a9", minute: 9, customer: "a"),
        ]
        _ = try await store.ingestEvents(fromFile: try scratch.file("e.jsonl", lines.joined(separator: "\n")))
        let events = try await store.events(customerId: "a", from: Self.at(0), to: Self.at(9))
        #expect(events.map(\.event.id) == ["a1", "a3"] && events[0].payload == lines[2])
    }

    /// January: an event whose case is resolved; February: one with an open case and one without.
    @Test(arguments: Backend.allCases)
    func retentionKeepsTheEventsOfOpenCases(backend: Backend) async throws {
        let scratch = try TemporaryDirectory()
        let store = try await Self.store(backend, scratch)
        func event(_ id: String, month: Int) -> String {
            #"{"id":"\#(id)","occurred_at":"2026-0\#(month)-10T12:00:00Z","customer_id":"c1","kind":"login"}"#
        }
        let rows = [("j1", 1), ("f1", 2), ("f2", 2)]
        try await store.log(
            try rows.map { id, month in
                let text = event(id, month: month)
                return DecisionRecord(
                    event: try Event.decode(jsonLine: Array(text.utf8)), payload: text,
                    decidedAt: Timestamp(year: 2026, month: month, day: 10, hour: 12)!, modelId: "m1", policyVersion: "p1", score: 0.6,
                    decision: id == "f2" ? "allow" : "review", reasons: "[]")
            })
        let january = try #require(try await store.cases(CaseFilter()).first)
        #expect(january.eventId == "j1")
        try await store.resolveCase(id: january.id, outcome: .genuine, note: "known traveller", actor: "alice", at: Self.at(0))
        let report = try await store.prune(
            before: Timestamp(year: 2026, month: 3, day: 1)!, keeping: [], batchSize: 10, dryRun: false, actor: "ops")
        // j1 (with its resolved case and label) and f2 go; f1 waits for its analyst.
        #expect(report.events == 2 && report.decisions == 2 && report.labelVersions == 1)
        #expect(try await SQL.strings(store, "SELECT id FROM events") == ["f1"])
        #expect(try await store.cases(CaseFilter(status: nil)).map(\.eventId) == ["f1"])
        if backend == .postgres { #expect(report.partitionsDropped == 1, "January by its partitions; February by batches") }
        #expect(try await store.auditEntries().contains { $0.action == "case.resolve" && $0.subject == "j1" }, "the audit log keeps it")
    }

    /// A key stored before the analyst role (migration v9 rebuilds the table) still works.
    @Test func keysSurviveTheMigrationThatAddsTheAnalystRole() async throws {
        let scratch = try TemporaryDirectory()
        let path = scratch.url.appending(path: "old.sqlite").path
        let queue = try DatabaseQueue(path: path)
        try StoreSchema.migrator.migrate(queue, upTo: "v8: time partitions")
        try await queue.write { db in
            try db.execute(
                sql: "INSERT INTO api_keys (name, role, key_sha256, created_at) VALUES ('svc', 'label', ?, 1)",
                arguments: [APIKey.sha256Hex("rl_old")])
        }
        try queue.close()
        let store = try await SQLiteStore.open(path: path)
        #expect(try await store.key(matching: "rl_old")?.role == .label)
        let (key, _) = try await store.createKey(name: "alice", role: .analyst, actor: "admin")
        #expect(try await store.key(matching: key)?.role == .analyst)
    }
}
