import ArgumentParser
import Foundation
import RiskEngine
import RiskScoring
import RiskStore

extension RiskLoop {
    struct PolicyCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "policy",
            abstract: "Govern decision policies: propose, backtest, activate (four eyes), list.",
            discussion: """
                A policy change goes through the store like a model. `policy propose FILE` validates \
                and stores a new version (audited); `riskloop backtest --policy FILE` shows what it \
                would have changed; `policy activate VERSION --reason R` makes it the one every \
                server decides with (audited; refused when the one activating proposed it), and \
                running servers switch to it within about a second. `serve --policy FILE` deploys a \
                version the store does not hold in one step (see `riskloop serve --help`). The \
                actor is $USER.
                """,
            subcommands: [Propose.self, Activate.self, List.self])
    }
}

extension RiskLoop.PolicyCommand {
    struct Propose: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Validate a policy file and store it as a proposed version.")

        @Argument(help: ArgumentHelp("The decision policy.", valueName: "policy.json"))
        var file: String

        @OptionGroup var store: StoreOptions

        func run() async throws {
            let policy = try CLIError.mapping { try PolicyFile.read(file) }
            try await CLIError.mapping {
                try await PolicyGovernance(store: try await store.open()).propose(policy, actor: RiskLoop.Keys.actor)
            }
            print(
                "policy \(policy.version) proposed by \(RiskLoop.Keys.actor); someone else activates it (riskloop policy activate \(policy.version) --reason R)"
            )
        }
    }

    struct Activate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a proposed version the active policy (refused when you proposed it).")

        @Argument(help: "The version (from `policy list`).")
        var version: String

        @Option(help: "Why, for the audit log (a backtest's result, say).")
        var reason: String

        @OptionGroup var store: StoreOptions

        func run() async throws {
            try await CLIError.mapping {
                try await PolicyGovernance(store: try await store.open()).activate(version, actor: RiskLoop.Keys.actor, reason: reason)
            }
            print("policy \(version) is active; servers switch to it within about a second")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List stored policy versions, newest first.")

        @OptionGroup var store: StoreOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let policies = try await CLIError.mapping { try await PolicyGovernance(store: try await store.open()).list() }
            if output.json { return try output.printJSON(policies) }
            for policy in policies {
                print(
                    [
                        policy.version, policy.status.rawValue, policy.recordedAt.rfc3339, "proposed by \(policy.proposedBy ?? "-")",
                        policy.activatedBy.map { "activated by \($0) at \(policy.activatedAt?.rfc3339 ?? "")" } ?? "",
                    ].joined(separator: "\t"))
            }
        }
    }
}
