import ArgumentParser
import RiskStore

extension RiskLoop {
    struct Models: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Inspect the model registry.",
            subcommands: [List.self])
    }
}

extension RiskLoop.Models {
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List registered models, newest first, with status and lineage.",
            discussion: "Statuses: candidate, champion (at most one), shadow, rejected, retired.")

        @OptionGroup var store: StoreOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            let models = try CLIError.mapping { try store.open().models() }
            if output.json {
                try output.printJSON(models)
                return
            }
            guard !models.isEmpty else {
                print("No models registered in \(store.path).")
                return
            }
            print("id                                    algorithm            status     created               parent")
            for model in models {
                print(
                    [
                        model.id.padding(toLength: 37, withPad: " ", startingAt: 0),
                        model.algorithm.padding(toLength: 20, withPad: " ", startingAt: 0),
                        model.status.padding(toLength: 10, withPad: " ", startingAt: 0),
                        model.createdAt.padding(toLength: 21, withPad: " ", startingAt: 0), model.parentId ?? "-",
                    ].joined(separator: " "))
            }
        }
    }
}
