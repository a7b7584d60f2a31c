import Foundation
import RiskEngine
import RiskModels
import RiskScoring

/// Reading and writing model artifact files for the CLI.
enum ModelFile {
    static func read(_ path: String) throws(EngineError) -> ModelArtifact {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .cannotRead(path: path, reason: FileManager.default.fileExists(atPath: path) ? "permission denied" : "no such file")
        }
        do {
            return try ModelArtifact.decode(from: data)
        } catch {
            throw .badInput(file: path, line: nil, column: nil, reason: error.description)
        }
    }

    static func write(_ artifact: ModelArtifact, to path: String) throws(CLIWriteError) {
        try write(artifact.encoded(), to: path)
    }

    /// Writes beside, then renames: a reader never sees half a file.
    static func write(_ data: Data, to path: String) throws(CLIWriteError) {
        do {
            let temporary = path + ".tmp-\(ProcessInfo.processInfo.processIdentifier)"
            try data.write(to: URL(filePath: temporary))
            if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(atPath: path) }
            try FileManager.default.moveItem(atPath: temporary, toPath: path)
        } catch {
            throw CLIWriteError(path: path, reason: "\(error)")
        }
    }
}

struct CLIWriteError: Error {
    var path: String
    var reason: String
}

/// A decision policy file (JSON), read with errors that name the file.
enum PolicyFile {
    static func read(_ path: String) throws(EngineError) -> DecisionPolicy {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .cannotRead(path: path, reason: FileManager.default.fileExists(atPath: path) ? "permission denied" : "no such file")
        }
        do {
            return try DecisionPolicy.decode(from: data)
        } catch {
            throw .badInput(file: path, line: nil, column: nil, reason: "\(error)")
        }
    }
}
