import ArgumentParser
import Foundation
import GRDB
import Testing

@testable import riskloop

/// The commands as a user runs them, on temporary files.
@Suite struct CLITests {
    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appending(path: "riskloop-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    static func run(_ arguments: [String]) throws {
        var command = try RiskLoop.parseAsRoot(arguments)
        try command.run()
    }

    @Test func simulateIngestLabelAndStatsWorkTogether() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let data = directory.appending(path: "data").path
        let db = directory.appending(path: "db.sqlite").path
        try Self.run(["simulate", "--customers", "50", "--days", "7", "--out", data, "--json"])
        try Self.run(["ingest", "--db", db, data + "/events.jsonl", "--json"])
        try Self.run(["label", "--db", db, data + "/labels.csv", "--json"])
        // Ingesting again stores nothing new.
        try Self.run(["ingest", "--db", db, data + "/events.jsonl", "--json"])
        try Self.run(["stats", "--db", db, "--json"])
        try Self.run(["models", "list", "--db", db])

        let lines = try String(contentsOfFile: data + "/events.jsonl", encoding: .utf8).split(separator: "\n").count
        let queue = try DatabaseQueue(path: db)
        #expect(try queue.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM events") } == lines)
    }

    @Test func theDatabaseComesFromTheEnvironmentWhenNotGiven() throws {
        let options = try StoreOptions.parse([])
        let expected = ProcessInfo.processInfo.environment["RISKLOOP_DB"].flatMap { $0.isEmpty ? nil : $0 } ?? "./riskloop.sqlite"
        #expect(options.path == expected)
        #expect(try StoreOptions.parse(["--db", "x.sqlite"]).path == "x.sqlite")
    }

    @Test func badDataExitsWithDataErrorStatus() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let events = directory.appending(path: "events.jsonl")
        try Data(#"{"id":"e1","occurred_at":"not a time","customer_id":"c","kind":"login"}"#.utf8).write(to: events)
        #expect(throws: ExitCode(65)) {
            try Self.run(["ingest", "--db", directory.appending(path: "db.sqlite").path, events.path])
        }
        #expect(throws: ExitCode(66)) {
            try Self.run(["ingest", "--db", directory.appending(path: "db.sqlite").path, directory.appending(path: "absent.jsonl").path])
        }
    }

    @Test(arguments: [
        ["simulate", "--customers", "0"],
        ["simulate", "--start", "05/01/2026"],
        ["simulate", "--no-drift", "--drift-date", "2026-01-10"],
        ["ingest", "--batch-size", "0", "x.jsonl"],
    ])
    func badOptionsAreValidationErrors(arguments: [String]) {
        #expect(throws: (any Error).self) { try RiskLoop.parseAsRoot(arguments) }
    }
}
