import Foundation
import RiskContract

/// What a retention run removed (or, in a dry run, would remove).
public struct PruneReport: Sendable, Codable, Equatable {
    /// Events that occurred before this were removed, except inside the kept windows.
    public var cutoff: Timestamp
    /// The windows kept whatever their age (the training windows of models not retired).
    public var kept: [KeptWindow]
    public var events: Int
    public var decisions: Int
    public var labelVersions: Int
    /// Transactions it took (0 in a dry run).
    public var batches: Int
    public var dryRun: Bool

    /// A window `[from, to)` of `occurred_at` that retention does not touch, and why.
    public struct KeptWindow: Sendable, Codable, Equatable {
        public var from: Timestamp
        public var to: Timestamp
        public var reason: String

        public init(from: Timestamp, to: Timestamp, reason: String) {
            self.from = from
            self.to = to
            self.reason = reason
        }
    }

    enum CodingKeys: String, CodingKey {
        case cutoff, kept, events, decisions, batches
        case labelVersions = "label_versions"
        case dryRun = "dry_run"
    }

    public init(cutoff: Timestamp, kept: [KeptWindow], events: Int, decisions: Int, labelVersions: Int, batches: Int, dryRun: Bool) {
        self.cutoff = cutoff
        self.kept = kept
        self.events = events
        self.decisions = decisions
        self.labelVersions = labelVersions
        self.batches = batches
        self.dryRun = dryRun
    }

    /// The audit action of a retention run; its detail is the report as JSON.
    public static let auditAction = "store.prune"
}

extension PruneReport {
    /// The report as JSON, with sorted keys: the audit entry's detail and `prune --json`.
    public var jsonText: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self)
    }
}
