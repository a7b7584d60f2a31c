import ArgumentParser
import Foundation
import RiskStore

extension RiskLoop {
    struct Ingest: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Load events from JSON-lines files into the database.",
            discussion: """
                Each line is one event (ARCHITECTURE.md §5.1; the rules as enforced are in \
                docs/DESIGN.md). Lines are validated and stored \
                verbatim, in transactions of --batch-size lines. An event id already in the \
                database is reported as a duplicate and skipped. A line that breaks the contract \
                stops the ingest with an error naming the file, line and field; its batch is \
                rolled back and earlier batches stay. Fix the line and run the same command \
                again: what was stored comes back as duplicates, the rest goes in.
                """)

        @Argument(help: ArgumentHelp("Event files (.jsonl).", valueName: "file"))
        var files: [String]

        @OptionGroup var ingest: IngestOptions
        @OptionGroup var store: StoreOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            try await ingest.run(files, noun: "events", store: store, output: output) {
                (database, file, batchSize, progress) async throws(StoreError) in
                try await database.ingestEvents(fromFile: file, batchSize: batchSize, progress: progress)
            }
        }
    }
}

/// `--batch-size`, and the loop over files that `ingest` and `label` share.
struct IngestOptions: ParsableArguments {
    @Option(help: "Lines (records) per transaction.")
    var batchSize = IngestReport.defaultBatchSize

    func validate() throws {
        guard batchSize > 0 else { throw ValidationError("--batch-size must be positive") }
    }

    /// Loads each file with `load`, a progress line on a terminal, and a report per file.
    func run(
        _ files: [String], noun: String, store: StoreOptions, output: OutputOptions,
        load: (any Store, String, Int, @escaping @Sendable (IngestProgress) -> Void) async throws(StoreError) -> IngestReport
    ) async throws {
        let database = try await store.open()
        var reports: [IngestReport] = []
        for file in files {
            let progress = ProgressLine(enabled: !output.json && isatty(STDERR_FILENO) == 1)
            let report = try await CLIError.mapping { () async throws(StoreError) in
                try await load(database, file, batchSize) { step in
                    let rate = Double(step.inserted + step.duplicates) / max(progress.elapsedSeconds, 1e-3)
                    progress.update(
                        "\(file): \(step.inserted.grouped) \(noun) stored, \(step.duplicates.grouped) duplicates (\(Int(rate).grouped)/s)")
                }
            }
            progress.finish()
            // One rule for every command that reads records: a file with none is a data error.
            guard report.inserted + report.duplicates > 0 else { throw CLIError.emptyInput(file) }
            reports.append(report)
            if !output.json { print(IngestReport.render(report, noun: noun, seconds: progress.elapsedSeconds)) }
        }
        if output.json { try output.printJSON(reports) }
    }
}

extension IngestReport {
    static func render(_ report: IngestReport, noun: String, seconds: Double) -> String {
        var text = "\(report.file): \(report.inserted.grouped) \(noun) stored, \(report.duplicates.grouped) duplicates skipped"
        text += String(format: " in %d batches (%.1f s)", report.batches, seconds)
        for duplicate in report.firstDuplicates {
            text += "\n  duplicate at line \(duplicate.line): \(duplicate.id)"
        }
        if report.duplicates > report.firstDuplicates.count {
            text += "\n  … and \((report.duplicates - report.firstDuplicates.count).grouped) more"
        }
        return text
    }
}
