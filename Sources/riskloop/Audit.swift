import ArgumentParser
import Foundation
import RiskContract
import RiskEngine
import RiskExport
import RiskFeatures
import RiskStore

extension RiskLoop {
    struct Audit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Export the audit log: promotions, rollbacks, shadow changes, retraining cycles, policies and API keys.",
            discussion: """
                The audit log is append-only (the database refuses changes to a written entry). \
                Each entry has its sequence number, time, actor (the OS user, the API key, or the \
                service), action, subject, reason and detail:

                  model.register   a model entered the registry (detail: its status)
                  model.promote    a model became champion (detail: the one it replaced)
                  model.rollback   the previous champion was restored
                  model.shadow, model.shadow_end   shadow scoring started or ended
                  retrain.cycle    a retraining cycle finished (detail: promoted, rejected, unchanged)
                  policy.record    a decision policy was first used (detail: the policy)
                  key.create, key.revoke   an API key was created or revoked (never the key itself)

                CSV has a header row (seq, at, actor, action, subject, reason, detail); JSON is one \
                array of objects.
                """)

        enum Format: String, ExpressibleByArgument, CaseIterable {
            case csv, json
        }

        @Option(help: ArgumentHelp("Entries from this time (RFC 3339 or YYYY-MM-DD; default: the first).", valueName: "date"))
        var from: String?

        @Option(help: ArgumentHelp("…up to this time, exclusive (default: now).", valueName: "date"))
        var to: String?

        @Option(help: "csv or json.")
        var format: Format = .csv

        @Option(help: ArgumentHelp("Write here instead of standard output.", valueName: "path"))
        var out: String?

        @OptionGroup var store: StoreOptions

        func validate() throws {
            for (name, value) in [("--from", from), ("--to", to)] {
                if let value, RiskLoop.Train.parseInstant(value) == nil {
                    throw ValidationError("\(name): '\(value)' is not RFC 3339 or YYYY-MM-DD")
                }
            }
        }

        func run() async throws {
            let database = try await store.open()
            let entries = try await CLIError.mapping {
                try await database.auditEntries(
                    from: from.flatMap(RiskLoop.Train.parseInstant), to: to.flatMap(RiskLoop.Train.parseInstant))
            }
            let data: Data
            switch format {
            case .json:
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                data = try encoder.encode(entries.map(Entry.init))
            case .csv:
                var text = "seq,at,actor,action,subject,reason,detail\n"
                for entry in entries {
                    let fields = [
                        "\(entry.seq)", entry.at.rfc3339, entry.actor, entry.action, entry.subject ?? "", entry.reason ?? "",
                        entry.detail ?? "",
                    ]
                    text += fields.map(ModelExport.csvField).joined(separator: ",") + "\n"
                }
                data = Data(text.utf8)
            }
            if let out {
                try CLIError.mapping { try ModelFile.write(data, to: out) }
            } else {
                FileHandle.standardOutput.write(data)
            }
        }

        /// An entry as JSON, its time in RFC 3339.
        struct Entry: Encodable {
            var seq: Int64
            var at: String
            var actor: String
            var action: String
            var subject: String?
            var reason: String?
            var detail: String?

            init(_ entry: AuditEntry) {
                seq = entry.seq
                at = entry.at.rfc3339
                actor = entry.actor
                action = entry.action
                subject = entry.subject
                reason = entry.reason
                detail = entry.detail
            }
        }
    }
}
