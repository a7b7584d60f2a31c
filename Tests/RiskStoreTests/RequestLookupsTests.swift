import Foundation
import RiskContract
import RiskFeatures
import RiskStoreTesting
import Testing

@testable import RiskStore
@testable import RiskStoreSQLite

/// The per-request reads of a file store go through their own connection: they must see what
/// another process (another `Store` on the same file) commits, at once.
@Suite struct RequestLookupsTests {
    @Test func keysAndStoredEventsAreSeenAsCommittedByAnotherConnection() async throws {
        let directory = try TemporaryDirectory()
        let server = try SQLiteStore(path: directory.databasePath), cli = try SQLiteStore(path: directory.databasePath)
        #expect(server.lookups != nil)
        let (key, record) = try await cli.createKey(name: "svc", role: .label, actor: "test")
        let found = try await #require(try server.key(matching: key))
        #expect(found == record)
        await #expect(try server.key(matching: key + "x") == nil)
        try await cli.revokeKey(id: record.id, actor: "test", reason: "leaked")
        await #expect(try server.key(matching: key) == nil, "refused at the next lookup")

        await #expect(try server.storedEvents(ids: ["e1", "e2"]).isEmpty)
        let payload = Lines.event("e1")
        _ = try await cli.ingestEvents(fromFile: try directory.file("e.jsonl", payload))
        await #expect(try server.storedEvents(ids: ["e1", "e2"]) == ["e1": StoredEvent(payload: payload, answer: nil)])
        let event = try Event.decode(jsonLine: Array(payload.utf8))
        try await cli.register(
            ModelRegistration(
                id: "m", algorithm: "logistic_regression", createdAt: event.occurredAt, parentId: nil, featureSpecSHA256: "s",
                artifactSHA256: "a", artifact: Data("{}".utf8)), status: .candidate, actor: "test")
        try await cli.log([
            DecisionRecord(
                event: event, payload: payload, decidedAt: event.occurredAt, modelId: "m", policyVersion: "p", score: 0.5,
                decision: "review", reasons: "[]", answer: #"{"decision":"review"}"#)
        ])
        await #expect(try server.storedEvents(ids: ["e1"])["e1"]?.answer == #"{"decision":"review"}"#)
        // The same through GRDB's pool, as an in-memory store reads: one answer for both paths.
        await #expect(try server.read { db in try String.fetchOne(db, sql: "SELECT answer FROM decisions") } == #"{"decision":"review"}"#)
    }
}

/// A server takes checkpoints off the commit path: the writer stops checkpointing, and passive
/// checkpoints on another connection copy the log into the file.
@Suite struct WALCheckpointerTests {
    @Test func passiveCheckpointsCopyTheLogAndARestartEmptiesIt() async throws {
        let directory = try TemporaryDirectory()
        let store = try SQLiteStore(path: directory.databasePath)
        let checkpointer = try #require(try await store.takeOverCheckpoints())
        #expect(try await SQLiteStore.inMemory().takeOverCheckpoints() == nil)
        let lines = (0..<2_000).map { Lines.event("e\($0)", minute: $0 % 60) }.joined(separator: "\n")
        _ = try await store.ingestEvents(fromFile: try directory.file("e.jsonl", lines))
        let first = try checkpointer.checkpoint()
        #expect(first.walFrames > 0, "the writer left the log to the checkpointer")
        #expect(first.checkpointed == first.walFrames, "no reader holds a frame back")
        try await store.restartWAL()
        // The next commit starts the log from its beginning.
        _ = try await store.ingestEvents(fromFile: try directory.file("f.jsonl", Lines.event("f1")))
        #expect(try checkpointer.checkpoint().walFrames < first.walFrames)
        await #expect(try store.writer.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM events") } == 2_001)
    }
}
