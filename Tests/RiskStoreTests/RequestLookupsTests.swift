import Foundation
import RiskFeatures
import Testing

@testable import RiskStore

/// The per-request reads of a file store go through their own connection: they must see what
/// another process (another `Store` on the same file) commits, at once.
@Suite struct RequestLookupsTests {
    @Test func keysAndStoredEventsAreSeenAsCommittedByAnotherConnection() throws {
        let directory = try TemporaryDirectory()
        let server = try Store(path: directory.databasePath), cli = try Store(path: directory.databasePath)
        #expect(server.lookups != nil)
        let (key, record) = try cli.createKey(name: "svc", role: .label, actor: "test")
        let found = try #require(try server.key(matching: key))
        #expect(found == record)
        #expect(try server.key(matching: key + "x") == nil)
        try cli.revokeKey(id: record.id, actor: "test", reason: "leaked")
        #expect(try server.key(matching: key) == nil, "refused at the next lookup")

        #expect(try server.storedEvents(ids: ["e1", "e2"]).isEmpty)
        let payload = Lines.event("e1")
        _ = try cli.ingestEvents(fromFile: try directory.file("e.jsonl", payload))
        #expect(try server.storedEvents(ids: ["e1", "e2"]) == ["e1": StoredEvent(payload: payload, answer: nil)])
        let event = try Event.decode(jsonLine: Array(payload.utf8))
        try cli.register(
            ModelRegistration(
                id: "m", algorithm: "logistic_regression", createdAt: event.occurredAt, parentId: nil, featureSpecSHA256: "s",
                artifactSHA256: "a", artifact: Data("{}".utf8)), status: .candidate, actor: "test")
        try cli.log([
            DecisionRecord(
                event: event, payload: payload, decidedAt: event.occurredAt, modelId: "m", policyVersion: "p", score: 0.5,
                decision: "review", reasons: "[]", answer: #"{"decision":"review"}"#)
        ])
        #expect(try server.storedEvents(ids: ["e1"])["e1"]?.answer == #"{"decision":"review"}"#)
        // The same through GRDB's pool, as an in-memory store reads: one answer for both paths.
        #expect(try server.read { db in try String.fetchOne(db, sql: "SELECT answer FROM decisions") } == #"{"decision":"review"}"#)
    }
}
