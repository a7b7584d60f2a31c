import Foundation
import RiskContract
import RiskFeatures
import Testing

@testable import RiskSimulator

/// The committed sample under Datasets/sample is exactly what Datasets/regenerate.sh makes.
@Suite struct CommittedSampleTests {
    static let sample = URL(filePath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appending(path: "Datasets/sample")

    /// The parameters of Datasets/regenerate.sh.
    static let configuration = SimulationConfiguration(
        customers: 1250, days: 30, start: Timestamp(year: 2026, month: 1, day: 5)!, seed: 20_260_105, fraudRate: 0.01,
        driftAt: Timestamp(year: 2026, month: 1, day: 20)!)

    static func gunzip(_ url: URL) throws -> Data {
        let process = Process()
        process.executableURL = URL(filePath: "/bin/gzip")
        process.arguments = ["-dc", url.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return data
    }

    @Test func theSampleRegeneratesByteForByte() throws {
        let directory = FileManager.default.temporaryDirectory.appending(path: "riskloop-sample-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        try Simulation(Self.configuration).write(to: directory)
        #expect(
            try Self.gunzip(Self.sample.appending(path: "events.jsonl.gz")) == Data(contentsOf: directory.appending(path: "events.jsonl")))
        #expect(try Self.gunzip(Self.sample.appending(path: "truth.csv.gz")) == Data(contentsOf: directory.appending(path: "truth.csv")))
        #expect(
            try Data(contentsOf: Self.sample.appending(path: "labels.csv")) == Data(contentsOf: directory.appending(path: "labels.csv")))
    }
}
