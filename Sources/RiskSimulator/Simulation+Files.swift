import Dispatch
import Foundation
import RiskContract
import RiskFeatures
import Synchronization

extension Simulation {
    /// The files ``write(to:)`` creates in its directory.
    public static let eventsFileName = "events.jsonl"
    public static let labelsFileName = "labels.csv"
    public static let truthFileName = "truth.csv"

    /// Writes `events.jsonl` (ARCHITECTURE.md §5.1), `labels.csv` (§5.2) and `truth.csv` (what
    /// really happened, for evaluation only) into `directory`, creating it if needed.
    ///
    /// Events are encoded on all cores in chunks and written in order, so the bytes do not depend
    /// on the number of cores.
    public func write(to directory: URL) throws(SimulationError) {
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw .cannotWrite(path: directory.path, reason: "\(error)")
        }
        try Self.writeFile(directory.appending(path: Self.eventsFileName)) { handle in
            let chunkSize = 20_000
            let chunkCount = (events.count + chunkSize - 1) / chunkSize
            let batch = max(1, ProcessInfo.processInfo.activeProcessorCount * 2)
            for first in stride(from: 0, to: chunkCount, by: batch) {
                let chunks = first..<min(first + batch, chunkCount)
                let encoded = Mutex<[Int: [UInt8]]>([:])
                DispatchQueue.concurrentPerform(iterations: chunks.count) { offset in
                    let chunk = chunks.lowerBound + offset
                    var bytes: [UInt8] = []
                    for event in events[(chunk * chunkSize)..<min((chunk + 1) * chunkSize, events.count)] {
                        bytes.append(contentsOf: JSONLine.encode(event))
                        bytes.append(UInt8(ascii: "\n"))
                    }
                    encoded.withLock { $0[chunk] = bytes }
                }
                let ready = encoded.withLock { $0 }
                for chunk in chunks { try handle.write(contentsOf: ready[chunk]!) }
            }
        }
        try Self.writeCSV(directory.appending(path: Self.labelsFileName), header: Label.fieldNames, rows: labels.map(\.csvFields))
        try Self.writeCSV(directory.appending(path: Self.truthFileName), header: GroundTruth.csvHeader, rows: truth.map(\.csvFields))
    }

    private static func writeCSV(_ url: URL, header: [String], rows: [[String]]) throws(SimulationError) {
        try writeFile(url) { handle in
            var text = header.joined(separator: ",") + "\n"
            for row in rows {
                text += row.map(CSVReader.escape).joined(separator: ",")
                text += "\n"
            }
            try handle.write(contentsOf: Array(text.utf8))
        }
    }

    private static func writeFile(_ url: URL, _ body: (FileHandle) throws -> Void) throws(SimulationError) {
        do {
            guard FileManager.default.createFile(atPath: url.path, contents: nil) else {
                throw SimulationError.cannotWrite(path: url.path, reason: "cannot create the file")
            }
            let handle = try FileHandle(forWritingTo: url)
            defer { try? handle.close() }
            try body(handle)
        } catch let error as SimulationError {
            throw error
        } catch {
            throw .cannotWrite(path: url.path, reason: "\(error)")
        }
    }
}
