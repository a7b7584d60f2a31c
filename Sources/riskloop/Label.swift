import ArgumentParser
import Foundation
import RiskEngine
import RiskStore

extension RiskLoop {
    struct LabelCommand: AsyncParsableCommand {
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

        @OptionGroup var ingest: IngestOptions
        @OptionGroup var store: StoreOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            try await ingest.run(files, noun: "labels", store: store, output: output) {
                (database, file, batchSize, progress) async throws(StoreError) in
                try await LabelIntake(store: database).ingest(fromFile: file, batchSize: batchSize, progress: progress)
            }
        }
    }
}
