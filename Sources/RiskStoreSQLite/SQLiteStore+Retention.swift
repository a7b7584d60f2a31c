import GRDB
import RiskContract
import RiskStore

extension SQLiteStore {
    public func prune(before cutoff: Timestamp, keeping: [PruneReport.KeptWindow], batchSize: Int, dryRun: Bool, actor: String)
        async throws(StoreError) -> PruneReport
    {
        precondition(batchSize > 0, "batch size must be positive")
        // The events to remove: before the cutoff and outside every kept window.
        let condition =
            "occurred_at < ?" + String(repeating: " AND NOT (occurred_at >= ? AND occurred_at < ?)", count: keeping.count)
        let arguments = StatementArguments(
            [cutoff.millisecondsSinceEpoch] + keeping.flatMap { [$0.from.millisecondsSinceEpoch, $0.to.millisecondsSinceEpoch] })
        var report = PruneReport(cutoff: cutoff, kept: keeping, events: 0, decisions: 0, labelVersions: 0, batches: 0, dryRun: dryRun)
        if dryRun {
            let counted = report
            return try await read { db in
                var counted = counted
                let selected = "SELECT id FROM events WHERE \(condition)"
                counted.events = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM events WHERE \(condition)", arguments: arguments) ?? 0
                counted.decisions =
                    try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM decisions WHERE event_id IN (\(selected))", arguments: arguments) ?? 0
                counted.labelVersions =
                    try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM labels WHERE event_id IN (\(selected))", arguments: arguments) ?? 0
                return counted
            }
        }
        let batch = "SELECT id FROM events WHERE \(condition) ORDER BY occurred_at, rowid LIMIT \(batchSize)"
        while true {
            let removed = try await write { db -> (events: Int, decisions: Int, labels: Int) in
                try db.execute(sql: "DELETE FROM decisions WHERE event_id IN (\(batch))", arguments: arguments)
                let decisions = db.changesCount
                try db.execute(sql: "DELETE FROM labels WHERE event_id IN (\(batch))", arguments: arguments)
                let labels = db.changesCount
                try db.execute(sql: "DELETE FROM events WHERE id IN (\(batch))", arguments: arguments)
                return (db.changesCount, decisions, labels)
            }
            guard removed.events > 0 else { break }
            report.events += removed.events
            report.decisions += removed.decisions
            report.labelVersions += removed.labels
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
