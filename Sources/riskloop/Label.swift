import ArgumentParser
import Foundation
import RiskStore

extension RiskLoop {
    struct LabelCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "label",
            abstract: "Load outcome labels (fraud or genuine) into the database.",
            discussion: """
                A .csv file needs a header with event_id, outcome, reported_at and source; any \
                other file is read as JSON lines with the same fields. Every version of a label is \
                kept and the latest reported_at wins, so a later confirmed_genuine overrides an \
                earlier analyst suspicion. A label identical to a stored one is skipped as a \
                duplicate. Labels must name events already ingested. Errors name the file, line \
                and field; the failing batch is rolled back, earlier batches stay.
                """)

        @Argument(help: ArgumentHelp("Label files (.csv or .jsonl).", valueName: "file"))
        var files: [String]

        @Option(help: "Records per transaction.")
        var batchSize = Store.defaultBatchSize

        @OptionGroup var store: StoreOptions
        @OptionGroup var output: OutputOptions

        func validate() throws {
            guard batchSize > 0 else { throw ValidationError("--batch-size must be positive") }
        }

        func run() throws {
            let database = try store.open()
            var reports: [IngestReport] = []
            for file in files {
                var progress = ProgressLine(enabled: !output.json && isatty(STDERR_FILENO) == 1)
                let report = try CLIError.mapping {
                    try database.ingestLabels(fromFile: file, batchSize: batchSize) { step in
                        progress.update("\(file): \(step.inserted.grouped) labels stored")
                    }
                }
                progress.finish()
                reports.append(report)
                if !output.json { print(IngestReport.render(report, noun: "labels", seconds: progress.elapsedSeconds)) }
            }
            if output.json { try output.printJSON(reports) }
        }
    }
}
