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
    /// Months removed by dropping their partitions (PostgreSQL), each one of the batches.
    public var partitionsDropped: Int
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
        case partitionsDropped = "partitions_dropped"
    }

    public init(
        cutoff: Timestamp, kept: [KeptWindow], events: Int, decisions: Int, labelVersions: Int, batches: Int, dryRun: Bool,
        partitionsDropped: Int = 0
    ) {
        self.partitionsDropped = partitionsDropped
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

extension PruneReport {
    /// What one batch removed (or a dry run counted).
    package struct Removed: Sendable {
        package var events: Int
        package var decisions: Int
        package var labelVersions: Int
        /// Months whose partitions the batch dropped.
        package var partitions: Int

        package init(events: Int, decisions: Int, labelVersions: Int, partitions: Int = 0) {
            self.events = events
            self.decisions = decisions
            self.labelVersions = labelVersions
            self.partitions = partitions
        }
    }
}

extension Store {
    /// What every backend's ``prune(before:keeping:batchSize:dryRun:actor:)`` shares: in a dry
    /// run, the backend's count; otherwise its batches, one transaction each, until one removes
    /// nothing, then one audit entry for the run when it removed anything.
    package func prune(
        before cutoff: Timestamp, keeping: [PruneReport.KeptWindow], dryRun: Bool, actor: String,
        count: () async throws(StoreError) -> PruneReport.Removed, removeBatch: () async throws(StoreError) -> PruneReport.Removed
    ) async throws(StoreError) -> PruneReport {
        var report = PruneReport(cutoff: cutoff, kept: keeping, events: 0, decisions: 0, labelVersions: 0, batches: 0, dryRun: dryRun)
        if dryRun {
            let counted = try await count()
            report.events = counted.events
            report.decisions = counted.decisions
            report.labelVersions = counted.labelVersions
            return report
        }
        while true {
            let removed = try await removeBatch()
            guard removed.events > 0 || removed.partitions > 0 else { break }
            report.partitionsDropped += removed.partitions
            report.events += removed.events
            report.decisions += removed.decisions
            report.labelVersions += removed.labelVersions
            report.batches += 1
        }
        if report.events > 0 {
            try await appendAudit(
                actor: actor, action: PruneReport.auditAction, subject: cutoff.rfc3339, reason: "retention", detail: report.jsonText,
                at: nil)
        }
        return report
    }
}
