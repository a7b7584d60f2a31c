import ArgumentParser
import Foundation
import RiskEngine
import RiskModels
import RiskScoring

/// Reading and writing model artifact files for the CLI.
enum ModelFile {
    /// Reads a model file, refused unless a trusted key signed it (``DeploymentKeys``) or
    /// `allowUnsigned` lets an unsigned one through.
    static func read(_ path: String, allowUnsigned: Bool = false) throws(EngineError) -> ModelArtifact {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .cannotRead(path: path, reason: FileManager.default.fileExists(atPath: path) ? "permission denied" : "no such file")
        }
        let trust = try DeploymentKeys.trust(allowUnsigned: allowUnsigned)
        do {
            return try ModelArtifact.decode(from: data, trust: trust)
        } catch {
            throw .badInput(file: path, line: nil, column: nil, reason: error.description)
        }
    }

    /// Signs `artifact` with the deployment's key and writes it.
    static func write(_ artifact: ModelArtifact, to path: String) throws {
        var signed = artifact
        try CLIError.mapping { try DeploymentKeys.sign(&signed) }
        try write(signed.encoded(), to: path)
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

/// `--allow-unsigned`, for the commands that read a model file.
struct TrustOptions: ParsableArguments {
    @Flag(
        help: ArgumentHelp(
            "Accept a model file that carries no signature (one from elsewhere). A signed file must still verify against a trusted key."
        ))
    var allowUnsigned = false
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
