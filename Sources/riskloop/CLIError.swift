import ArgumentParser
import Foundation
import RiskEngine
import RiskModels
import RiskOperatorStub
import RiskSignals
import RiskSimulator
import RiskStore

/// Maps the libraries' errors to a message on standard error and a sysexits(3) exit status.
/// This is the only place where errors become exit codes.
enum CLIError {
    static let usage: Int32 = 64  // EX_USAGE
    static let badInput: Int32 = 65  // EX_DATAERR
    static let cannotRead: Int32 = 66  // EX_NOINPUT
    static let internalFailure: Int32 = 70  // EX_SOFTWARE
    static let cannotWrite: Int32 = 73  // EX_CANTCREAT

    /// Runs `body`; a library error is printed and turned into `ExitCode`.
    @discardableResult
    static func mapping<T>(_ body: () throws -> T) throws -> T {
        try mapped { try body() }
    }

    /// ``mapping(_:)`` for an `async` body.
    @discardableResult
    static func mapping<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch {
            return try mapped { throw error }
        }
    }

    private static func mapped<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as StoreError {
            throw fail(error.description, status: status(of: error))
        } catch let error as EngineError {
            let status: Int32 =
                switch error {
                case .badInput, .model, .unservable: badInput
                case .cannotRead: cannotRead
                case .invalidOptions: usage
                case .store(let error): status(of: error)
                }
            throw fail(error.description, status: status)
        } catch let error as ModelError {
            throw fail(error.description, status: badInput)
        } catch let error as CLIWriteError {
            throw fail("cannot write \(error.path): \(error.reason)", status: cannotWrite)
        } catch let error as OperatorConfigurationError {
            throw fail(error.description, status: badInput)
        } catch let error as OperatorViewError {
            switch error {
            case .unreadable: throw fail(error.description, status: cannotRead)
            case .badLine: throw fail(error.description, status: badInput)
            }
        } catch let error as SimulationError {
            switch error {
            case .invalidParameter: throw ValidationError(error.description)
            case .cannotWrite: throw fail(error.description, status: cannotWrite)
            }
        }
    }

    private static func status(of error: StoreError) -> Int32 {
        switch error {
        case .badLine, .notFound, .conflict, .duplicateEvent: badInput
        case .cannotRead: cannotRead
        case .database: internalFailure
        case .unsupportedLocation: usage
        }
    }

    /// The one rule for an input file without a single record, in every command that reads
    /// records (ingest, label, score, features, train, evaluate): a data error, since an empty
    /// file is almost always the wrong file. Records committed from earlier files stay.
    static func emptyInput(_ file: String) -> ExitCode {
        fail("\(file): no records", status: badInput)
    }

    /// Prints the message; the returned `ExitCode` ends the command with `status`.
    static func fail(_ message: String, status: Int32) -> ExitCode {
        FileHandle.standardError.write(Data("riskloop: error: \(message)\n".utf8))
        return ExitCode(status)
    }
}
