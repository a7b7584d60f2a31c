import Foundation
import RiskContract
import RiskFeatures
import RiskStore
import RiskStoreTesting
import Testing

/// What every backend of the store protocol must do, written against `any Store` alone (no SQL,
/// no backend type): each test runs on every ``Backend``. Expected values are derived by hand
/// from the inputs.
@Suite struct StoreConformanceTests {
    static func model(_ id: String, at seconds: Int64) -> ModelRegistration {
        ModelRegistration(
            id: id, algorithm: "logistic_regression", createdAt: Timestamp(millisecondsSinceEpoch: seconds * 1000), parentId: nil,
            featureSpecSHA256: "spec", artifactSHA256: "sha-\(id)", artifact: Data(#"{"id":"\#(id)","w":[0.1,-2.5e-308]}"#.utf8))
    }

    static func at(_ minute: Int) -> Timestamp { Timestamp(year: 2026, month: 3, day: 1, hour: 10, minute: minute)! }
    static let end = Timestamp(year: 2026, month: 3, day: 1, hour: 11)!

    @Test(arguments: Backend.allCases)
    func eventsAreStoredOnceAndReadBackInTimeOrder(backend: Backend) async throws {
        let scratch = try TemporaryDirectory()
        let store = try await backend.open(scratch)
        // Written out of time order; e2 twice with the same JSON (a duplicate, not an error).
        let lines = [
            Lines.event("e3", minute: 3), Lines.event("e1", minute: 1), Lines.event("e2", minute: 2), Lines.event("e2", minute: 2),
        ]
        let report = try await store.ingestEvents(fromFile: try scratch.file("e.jsonl", lines.joined(separator: "\n")), batchSize: 2)
        #expect(report.inserted == 3 && report.duplicates == 1 && report.batches == 2)
        let events = try await store.events(from: Self.at(0), to: Self.end, keepingJSON: false)
        #expect(events.map(\.event.id) == ["e1", "e2", "e3"])
        #expect(events[0].payload == lines[1])
        #expect(try await store.latestEventTime() == Self.at(3))
        #expect(try await store.earliestEventTime(of: ["e3", "e2", "nope"]) == Self.at(2))
        let stored = try await store.storedEvents(ids: ["e1", "nope"])
        #expect(stored.keys.sorted() == ["e1"] && stored["e1"]?.payload == lines[1] && stored["e1"]?.answer == nil)
        // e2 with other JSON names its line; its batch is rolled back, nothing else changes.
        let other = try scratch.file("f.jsonl", Lines.event("e4", minute: 4) + "\n" + Lines.event("e2", minute: 9))
        await #expect {
            try await store.ingestEvents(fromFile: other, batchSize: 10)
        } throws: { error in
            guard case .badLine(_, 2, "id", _, let accepted) = error as? StoreError else { return false }
            return accepted.inserted == 0
        }
        #expect(try await store.storedEvents(ids: ["e4"]).isEmpty)
    }

    @Test(arguments: Backend.allCases)
    func labelVersionsAreKeptAndKnownFromTheirReportTime(backend: Backend) async throws {
        let scratch = try TemporaryDirectory()
        let store = try await backend.open(scratch)
        _ = try await store.ingestEvents(fromFile: try scratch.file("e.jsonl", Lines.events(["e1", "e2"])))
        let first = Label(eventId: "e1", outcome: .genuine, reportedAt: Self.at(10), source: "customer")
        let second = Label(eventId: "e1", outcome: .fraud, reportedAt: Self.at(20), source: "chargeback")
        #expect(try await store.ingest(labels: [first, second], source: "api").inserted == 2)
        #expect(try await store.ingest(labels: [first], source: "api").duplicates == 1)
        #expect(try await store.labelVersions(eventId: "e1") == [first, second])
        #expect(try await store.labels(knownAt: Self.at(15))["e1"]?.outcome == .genuine)
        #expect(try await store.labels(knownAt: Self.at(20))["e1"]?.outcome == .fraud)
        #expect(try await store.labels(knownAt: Self.at(5)).isEmpty)
        let later = try await store.labelVersions(reportedAfter: Self.at(15), through: Self.at(30))
        #expect(later.map(\.label) == [second] && later.map(\.eventWasLabelled) == [true])
        #expect(try await store.labelVersionCount(after: 0) == 2)
        // A label for an unknown event fails the whole call, naming its position.
        let unknown = Label(eventId: "nope", outcome: .fraud, reportedAt: Self.at(30), source: "api")
        let valid = Label(eventId: "e2", outcome: .fraud, reportedAt: Self.at(30), source: "api")
        await #expect {
            try await store.ingest(labels: [valid, unknown], source: "api")
        } throws: { error in
            guard case .badLine(_, 2, "event_id", _, _) = error as? StoreError else { return false }
            return true
        }
        #expect(try await store.labelVersions(eventId: "e2").isEmpty)
    }

    @Test(arguments: Backend.allCases)
    func theRegistryHasOneChampionAndAuditsEveryChange(backend: Backend) async throws {
        let scratch = try TemporaryDirectory()
        let store = try await backend.open(scratch)
        #expect(try await store.registryState() == RegistryState(champion: nil, shadow: nil))
        #expect(try await store.register(Self.model("m1", at: 1), status: .champion, actor: "alice", reason: "first"))
        #expect(try await store.register(Self.model("m1", at: 1), status: .candidate, actor: "alice") == false)
        try await store.register(Self.model("m2", at: 2), status: .candidate, actor: "alice")
        try await store.register(Self.model("m3", at: 3), status: .candidate, actor: "alice")
        try await store.promote("m2", actor: "bob", reason: "better AP")
        #expect(try await store.rollbackTarget() == "m1")
        try await store.setShadow("m3", actor: "carol", reason: nil)
        #expect(try await store.registryState() == RegistryState(champion: "m2", shadow: "m3"))
        await #expect(throws: StoreError.self) { try await store.setShadow("m2", actor: "carol", reason: nil) }
        #expect(try await store.rollback(actor: "dave", reason: "false alarms") == "m1")
        #expect(try await store.registryState() == RegistryState(champion: "m1", shadow: "m3"))
        try await store.setShadow(nil, actor: "carol", reason: nil)
        let models = try await store.models()
        #expect(models.map(\.id) == ["m3", "m2", "m1"])
        #expect(models.filter { $0.status == "champion" }.map(\.id) == ["m1"])
        let stored = try await store.registeredArtifact(of: "m2")
        #expect(stored.json == Self.model("m2", at: 2).artifact && stored.registeredSHA256 == "sha-m2")
        await #expect(throws: StoreError.notFound(what: "model nope")) { try await store.registeredArtifact(of: "nope") }
        let actions = try await store.auditEntries().map(\.action)
        #expect(
            actions == [
                "model.register", "model.register", "model.register", "model.promote", "model.shadow", "model.rollback",
                "model.shadow_end",
            ])
    }

    @Test(arguments: Backend.allCases)
    func decisionsArriveWithTheirEventsAndPoliciesAreRecordedOnce(backend: Backend) async throws {
        let scratch = try TemporaryDirectory()
        let store = try await backend.open(scratch)
        try await store.register(Self.model("m1", at: 1), status: .champion, actor: "a")
        try await store.recordPolicy(version: "p1", json: #"{"version":"p1"}"#, actor: "a")
        try await store.recordPolicy(version: "p1", json: #"{"version":"p1"}"#, actor: "a")
        await #expect(throws: StoreError.self) { try await store.recordPolicy(version: "p1", json: #"{"version":"p2"}"#, actor: "a") }
        #expect(try await store.policyJSON(version: "p1") == #"{"version":"p1"}"#)
        #expect(try await store.policyJSON(version: "nope") == nil)
        let text = Lines.event("d1", minute: 7)
        let event = try Event.decode(jsonLine: Array(text.utf8))
        let record = DecisionRecord(
            event: event, payload: text, decidedAt: Self.at(8), modelId: "m1", policyVersion: "p1", score: 0.25, decision: "allow",
            reasons: "[]", shadowModelId: nil, shadowScore: nil, answer: #"{"decision":"allow"}"#)
        try await store.log([record])
        #expect(try await store.storedEvents(ids: ["d1"])["d1"] == StoredEvent(payload: text, answer: #"{"decision":"allow"}"#))
        let logged = try await store.decisions(from: Self.at(0), to: Self.end)
        #expect(logged.map(\.eventId) == ["d1"] && logged[0].score == 0.25 && logged[0].policyVersion == "p1")
        #expect(try await store.decisionScores(modelId: "m1", from: Self.at(0), to: Self.end) == [0.25])
        // The same id with other JSON is refused, and nothing of that call is written.
        var other = record
        other.payload = Lines.event("d1", minute: 9)
        await #expect(throws: StoreError.duplicateEvent(id: "d1")) { try await store.log([other]) }
        #expect(try await store.decisions(from: Self.at(0), to: Self.end).count == 1)
    }

    @Test(arguments: Backend.allCases)
    func keysAreFoundUntilRevoked(backend: Backend) async throws {
        let scratch = try TemporaryDirectory()
        let store = try await backend.open(scratch)
        let (key, record) = try await store.createKey(name: "svc", role: .label, actor: "admin")
        #expect(try await store.key(matching: key) == record)
        #expect(try await store.key(matching: key + "x") == nil)
        try await store.revokeKey(id: record.id, actor: "admin", reason: "rotated")
        #expect(try await store.key(matching: key) == nil)
        #expect(try await store.keys().first?.revokedAt != nil)
        await #expect(throws: StoreError.self) { try await store.revokeKey(id: record.id, actor: "admin", reason: nil) }
    }

    @Test(arguments: Backend.allCases)
    func aCycleRegistersItsChallengerAndPromotesOnlyOverTheChampionItSaw(backend: Backend) async throws {
        let scratch = try TemporaryDirectory()
        let store = try await backend.open(scratch)
        try await store.register(Self.model("m1", at: 1), status: .champion, actor: "a")
        func cycle(_ challenger: String, over champion: String?) -> RetrainCycleRecord {
            RetrainCycleRecord(
                startedAt: Self.at(0), finishedAt: Self.at(1), asOf: Self.at(0), actor: "loop", trigger: "forced", labelHighWater: 0,
                championId: champion, challengerId: challenger, outcome: .promoted, reason: "gate passed", detail: "{}")
        }
        let promoted = try await store.finishCycle(cycle("m2", over: "m1"), challenger: Self.model("m2", at: 2), promote: true)
        #expect(promoted.outcome == .promoted && promoted.id != nil)
        // A second cycle that compared its challenger with m1: the champion is m2 now.
        let late = try await store.finishCycle(cycle("m3", over: "m1"), challenger: Self.model("m3", at: 3), promote: true)
        #expect(late.outcome == .rejected && late.reason.hasPrefix("the champion changed during the cycle"))
        let again = try await store.finishCycle(cycle("m2", over: "m2"), challenger: Self.model("m2", at: 2), promote: true)
        #expect(again.outcome == .unchanged)
        #expect(try await store.championId() == "m2")
        #expect(try await store.cycles().count == 3)
        #expect(try await store.lastCycle()?.id == again.id)
    }

    @Test(arguments: Backend.allCases)
    func theRegistryWatchSeesAChangeMadeThroughTheStore(backend: Backend) async throws {
        let scratch = try TemporaryDirectory()
        let store = try await backend.open(scratch)
        try await store.register(Self.model("m1", at: 1), status: .champion, actor: "a")
        try await store.register(Self.model("m2", at: 2), status: .candidate, actor: "a")
        let seen = SeenStates()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await store.watchRegistry(every: .milliseconds(20)) { await seen.append($0) } }
            try await seen.wait { $0.count == 1 }
            try await store.promote("m2", actor: "a", reason: nil)
            try await seen.wait { $0.count == 2 }
            group.cancelAll()
        }
        #expect(await seen.states == [RegistryState(champion: "m1", shadow: nil), RegistryState(champion: "m2", shadow: nil)])
    }
}

/// What a registry watch reported, in order.
actor SeenStates {
    private(set) var states: [RegistryState] = []

    func append(_ state: RegistryState) { states.append(state) }

    /// Waits (at most 10 s) until `condition` holds for the states seen.
    func wait(until condition: @Sendable ([RegistryState]) -> Bool) async throws {
        let start = ContinuousClock.now
        while !condition(states) {
            // A bound for a watch that never sees the change, not a timing check (the watch reads
            // every 20 ms): a full suite on two cores (two demo replicas and PostgreSQL among the
            // tests) once kept this one waiting past 10 s.
            guard ContinuousClock.now - start < .seconds(60) else { throw CancellationError() }
            try await Task.sleep(for: .milliseconds(10))
        }
    }
}

/// Retention on every backend: what goes, what stays, and that a dry run only counts.
@Suite struct PruneConformanceTests {
    static func day(_ day: Int) -> Timestamp { Timestamp(year: 2026, month: 3, day: day, hour: 12)! }

    /// Events on March 1…10 at noon, each labelled, the even days decided.
    static func store(_ backend: Backend, _ scratch: TemporaryDirectory) async throws -> any Store {
        let store = try await backend.open(scratch)
        let lines = (1...10).map { day in
            #"{"id":"p\#(day)","occurred_at":"\#(Self.day(day).rfc3339)","customer_id":"c1","kind":"login"}"#
        }
        _ = try await store.ingestEvents(fromFile: try scratch.file("events.jsonl", lines.joined(separator: "\n")))
        _ = try await store.ingest(
            labels: (1...10).map { Label(eventId: "p\($0)", outcome: .genuine, reportedAt: Self.day(20), source: "analyst") }, source: "api"
        )
        try await store.register(StoreConformanceTests.model("m1", at: 1), status: .champion, actor: "a")
        try await store.log(
            try stride(from: 2, through: 10, by: 2).map { day in
                DecisionRecord(
                    event: try Event.decode(jsonLine: Array(lines[day - 1].utf8)), payload: lines[day - 1], decidedAt: Self.day(day),
                    modelId: "m1", policyVersion: "p1", score: 0.1, decision: "allow", reasons: "[]")
            })
        return store
    }

    @Test(arguments: Backend.allCases)
    func eventsBeforeTheCutoffGoWithTheirDecisionsAndLabelsExceptInsideKeptWindows(backend: Backend) async throws {
        let scratch = try TemporaryDirectory()
        let store = try await Self.store(backend, scratch)
        // Before March 7 at midnight, keeping March 2 to 4 (noon to noon: the 2nd and 3rd).
        let kept = [PruneReport.KeptWindow(from: Self.day(2), to: Self.day(4), reason: "training window of m0")]
        let cutoff = Timestamp(year: 2026, month: 3, day: 7)!
        let dry = try await store.prune(before: cutoff, keeping: kept, batchSize: 2, dryRun: true, actor: "ops")
        // Removed: days 1, 4, 5, 6 (events), their decisions (4, 6), their labels (4).
        #expect(dry.events == 4 && dry.decisions == 2 && dry.labelVersions == 4 && dry.batches == 0 && dry.dryRun)
        #expect(try await store.statistics().events == 10, "a dry run removes nothing")
        #expect(try await store.auditEntries().filter { $0.action == PruneReport.auditAction }.isEmpty)

        let report = try await store.prune(before: cutoff, keeping: kept, batchSize: 2, dryRun: false, actor: "ops")
        #expect(report.events == 4 && report.decisions == 2 && report.labelVersions == 4 && report.batches == 2 && !report.dryRun)
        #expect(try await SQL.strings(store, "SELECT id FROM events ORDER BY occurred_at") == ["p2", "p3", "p7", "p8", "p9", "p10"])
        #expect(try await store.decisions(from: Self.day(1), to: Self.day(11)).map(\.eventId) == ["p2", "p8", "p10"])
        #expect(try await store.labels(knownAt: Self.day(21)).keys.sorted() == ["p10", "p2", "p3", "p7", "p8", "p9"])
        let audit = try #require(try await store.auditEntries().last)
        #expect(audit.action == PruneReport.auditAction && audit.actor == "ops" && audit.subject == cutoff.rfc3339)
        #expect(audit.detail == report.jsonText)
        // The registry stays, and a second run finds nothing (and writes no audit entry).
        #expect(try await store.championId() == "m1")
        let again = try await store.prune(before: cutoff, keeping: kept, batchSize: 2, dryRun: false, actor: "ops")
        #expect(again.events == 0 && again.batches == 0)
        #expect(try await store.auditEntries().filter { $0.action == PruneReport.auditAction }.count == 1)
    }
}
