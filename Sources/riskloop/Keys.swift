import ArgumentParser
import Foundation
import RiskFeatures
import RiskStore

extension RiskLoop {
    struct Keys: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Manage the API keys of the HTTP service.",
            discussion: """
                Roles: score (score events), label (also push labels), admin (everything, including \
                promoting models). Only a key's SHA-256 is stored: the key is printed once, when it \
                is created. Creating and revoking keys is written to the audit log.
                """,
            subcommands: [Create.self, List.self, Revoke.self])
    }
}

extension RiskLoop.Keys {
    /// Who is acting, for the audit log.
    static var actor: String { ProcessInfo.processInfo.environment["USER"].flatMap { $0.isEmpty ? nil : $0 } ?? "riskloop-cli" }

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a key and print it (the only time it can be read).")

        @Option(help: "score, label or admin.")
        var role: APIRole

        @Option(help: "A name to recognise the key by (a service, a person).")
        var name = "unnamed"

        @OptionGroup var store: StoreOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            let (key, record) = try CLIError.mapping { try store.open().createKey(name: name, role: role, actor: RiskLoop.Keys.actor) }
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

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List keys (never the keys themselves).")

        @OptionGroup var store: StoreOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            let keys = try CLIError.mapping { try store.open().keys() }
            if output.json { return try output.printJSON(keys) }
            for key in keys {
                print(
                    "\(key.id)\t\(key.role.rawValue)\t\(key.name)\t\(key.createdAt.rfc3339)\t\(key.revokedAt.map { "revoked \($0.rfc3339)" } ?? "active")"
                )
            }
        }
    }

    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a key by its id.")

        @Argument(help: "The key's id (from `keys list`).")
        var id: Int64

        @Option(help: "Why, for the audit log.")
        var reason: String?

        @OptionGroup var store: StoreOptions

        func run() throws {
            try CLIError.mapping { try store.open().revokeKey(id: id, actor: RiskLoop.Keys.actor, reason: reason) }
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
