import ArgumentParser
import Foundation
import Logging
import RiskStore
import RiskStoreLocation

/// `--db`: where the store lives, with the `RISKLOOP_DB` fallback (``RiskStoreLocation/StoreLocation``).
struct StoreOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "The store: an SQLite file path, :memory:, or postgres://USER@HOST:PORT/DATABASE (default: $RISKLOOP_DB, else ./riskloop.sqlite).",
            valueName: "location"))
    var db: String?

    var path: String {
        db ?? ProcessInfo.processInfo.environment["RISKLOOP_DB"].flatMap { $0.isEmpty ? nil : $0 } ?? "./riskloop.sqlite"
    }

    /// The location as printed: a URL without its password.
    var shown: String { (try? StoreLocation(path))?.description ?? path }

    func open() async throws -> any Store {
        try await CLIError.mapping { () async throws(StoreError) in try await StoreLocation(path).open(logger: Logger.cli) }
    }
}

/// `--json`: machine-readable output on standard output instead of tables.
struct OutputOptions: ParsableArguments {
    @Flag(name: .long, help: "Print machine-readable JSON instead of text.")
    var json = false

    func printJSON(_ value: some Encodable) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(value)
        print(String(decoding: data, as: UTF8.self))
    }
}

extension Logger {
    /// The CLI's logger: warnings and errors only, on standard error (the CLI prints its own results).
    static var cli: Logger {
        var logger = Logger(label: "riskloop")
        logger.logLevel = .warning
        return logger
    }
}
