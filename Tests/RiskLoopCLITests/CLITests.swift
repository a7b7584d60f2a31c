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

@Suite struct TrainScoreEvaluateCLITests {
    /// Writes a small labelled CSV (a hand-made pattern: fraud when a + b is large, with noise rows).
    static func writeCSV(_ url: URL) throws {
        var text = "id,a,b,is_fraud\n"
        for row in 0..<300 {
            let a = Double(row % 17) / 4 - 2, b = Double((row * 7) % 13) / 3 - 2
            let fraud = a + b > 1.2 || row % 29 == 0 ? 1 : 0
            text += "r\(row),\(a),\(b),\(fraud)\n"
        }
        try Data(text.utf8).write(to: url)
    }

    @Test func trainScoreAndEvaluateAFile() throws {
        let directory = try CLITests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let data = directory.appending(path: "rows.csv")
        try Self.writeCSV(data)
        let model = directory.appending(path: "model.json").path
        try CLITests.run(["train", "--data", data.path, "--label", "is_fraud", "--ignore", "id", "--calibration", "platt", "--out", model, "--json"])
        let scores = directory.appending(path: "scores.csv").path
        try CLITests.run(["score", "--model", model, data.path, "--out", scores])
        let lines = try String(contentsOfFile: scores, encoding: .utf8).split(separator: "\n")
        #expect(lines.first == "probability")
        #expect(lines.count == 301)
        #expect(lines.dropFirst().allSatisfy { Double($0).map { (0...1).contains($0) } ?? false })
        try CLITests.run(["evaluate", "--model", model, data.path, "--label", "is_fraud", "--json"])
        try CLITests.run(["train", "--data", data.path, "--label", "is_fraud", "--ignore", "id", "--algorithm", "naive-bayes", "--out", model])
    }

    @Test func aChangedModelFileIsRefused() throws {
        let directory = try CLITests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let data = directory.appending(path: "rows.csv")
        try Self.writeCSV(data)
        let model = directory.appending(path: "model.json").path
        try CLITests.run(["train", "--data", data.path, "--label", "is_fraud", "--ignore", "id", "--out", model, "--json"])
        var text = try String(contentsOfFile: model, encoding: .utf8)
        text = text.replacingOccurrences(of: "\"c\" : 1,", with: "\"c\" : 2,")
        try Data(text.utf8).write(to: URL(filePath: model))
        #expect(throws: ExitCode(65)) { try CLITests.run(["score", "--model", model, data.path]) }
    }

    @Test func badTrainingInputExitsWithDataError() throws {
        let directory = try CLITests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let data = directory.appending(path: "rows.csv")
        try Self.writeCSV(data)
        // 'id' is text: without --ignore it is a non-numeric feature.
        #expect(throws: ExitCode(65)) {
            try CLITests.run(["train", "--data", data.path, "--label", "is_fraud", "--out", directory.appending(path: "m.json").path])
        }
        #expect(throws: ExitCode(64)) {
            try CLITests.run(["train", "--data", data.path, "--label", "fraud", "--ignore", "id", "--out", directory.appending(path: "m.json").path])
        }
        #expect(throws: (any Error).self) {
            try RiskLoop.parseAsRoot(["train", "--data", data.path, "--label", "is_fraud", "--out", "m.json", "--holdout-after", "2026-01-01"])
        }
    }
}
