import ArgumentParser
import Foundation
import RiskContract
import RiskEngine
import RiskFeatures
import RiskModels
import RiskStore

extension RiskLoop {
    struct Keys: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Manage the API keys of the HTTP service.",
            discussion: """
                Roles: score (score events, report step-up outcomes), label (also push labels), analyst \
                (read and resolve review cases, nothing else), admin (everything, including promoting \
                models). Only a key's SHA-256 is stored: the key is printed once, when it \
                is created. Creating and revoking keys is written to the audit log.
                """,
            subcommands: [Create.self, List.self, Revoke.self, Sign.self])
    }
}

extension RiskLoop.Keys {
    /// Who is acting, for the audit log.
    static var actor: String { ProcessInfo.processInfo.environment["USER"].flatMap { $0.isEmpty ? nil : $0 } ?? "riskloop-cli" }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a key and print it (the only time it can be read).")

        @Option(help: "score, label (also scores), analyst (review cases only) or admin (everything).")
        var role: APIRole

        @Option(help: "A name to recognise the key by (a service, a person).")
        var name = "unnamed"

        @OptionGroup var store: StoreOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let (key, record) = try await CLIError.mapping {
                try await store.open().createKey(name: name, role: role, actor: RiskLoop.Keys.actor)
            }
            if output.json {
                try output.printJSON(
                    CreatedKey(id: record.id, key: key, name: record.name, role: record.role, createdAt: record.createdAt))
            } else {
                print(key)
                FileHandle.standardError.write(
                    Data("key \(record.id) (\(record.name), role \(record.role.rawValue)) created; it will not be shown again\n".utf8))
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List keys (never the keys themselves).")

        @OptionGroup var store: StoreOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let keys = try await CLIError.mapping { try await store.open().keys() }
            if output.json { return try output.printJSON(keys) }
            for key in keys {
                print(
                    "\(key.id)\t\(key.role.rawValue)\t\(key.name)\t\(key.createdAt.rfc3339)\t\(key.revokedAt.map { "revoked \($0.rfc3339)" } ?? "active")"
                )
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a key by its id.")

        @Argument(help: "The key's id (from `keys list`).")
        var id: Int64

        @Option(help: "Why, for the audit log.")
        var reason: String?

        @OptionGroup var store: StoreOptions

        func run() async throws {
            try await CLIError.mapping { try await store.open().revokeKey(id: id, actor: RiskLoop.Keys.actor, reason: reason) }
        }
    }
}

extension RiskLoop.Keys {
    struct Sign: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Sign model files with the deployment's signing key, vouching for them.",
            discussion: """
                Every artifact RiskLoop writes is signed with the deployment's Ed25519 key, and every \
                command that loads one (score, evaluate, serve, replay, models promote, export) refuses \
                an artifact that no trusted key signed. Use this for a model trained elsewhere that you \
                have reviewed: the file must pass its own checksum; it is rewritten with your signature.

                The signing key is RISKLOOP_SIGNING_KEY (a file holding base64 of the raw 32-byte \
                Ed25519 private key), or ~/.config/riskloop/signing.key, created (mode 0600) on first \
                use with its public key in ~/.config/riskloop/trusted/. RISKLOOP_TRUSTED_KEYS names a \
                directory of *.pub files (base64 of the raw public key) to trust instead of the \
                per-user keys and the sample key of Models/keys/. See docs/DESIGN.md.
                """)

        @Argument(help: ArgumentHelp("Model files to sign in place.", valueName: "model.json"))
        var files: [String]

        func run() async throws {
            for file in files {
                guard let data = FileManager.default.contents(atPath: file) else {
                    throw CLIError.fail("cannot read \(file)", status: CLIError.cannotRead)
                }
                var artifact = try CLIError.mapping { try ModelArtifact.decode(from: data) }
                try CLIError.mapping { try DeploymentKeys.sign(&artifact) }
                try CLIError.mapping { try ModelFile.write(artifact.encoded(), to: file) }
                print("\(file): \(artifact.id) signed by key \(artifact.signature!.keyId)")
            }
        }
    }
}

/// What `keys create --json` prints: the key and its record at the top level, snake_case like
/// every other JSON answer.
struct CreatedKey: Encodable {
    var id: Int64
    var key: String
    var name: String
    var role: APIRole
    var createdAt: Timestamp

    enum CodingKeys: String, CodingKey {
        case id, key, name, role
        case createdAt = "created_at"
    }
}

extension APIRole: ExpressibleByArgument {}
