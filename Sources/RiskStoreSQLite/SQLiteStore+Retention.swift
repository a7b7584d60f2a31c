import GRDB
import RiskContract
import RiskStore

extension SQLiteStore {
    public func prune(before cutoff: Timestamp, keeping: [PruneReport.KeptWindow], batchSize: Int, dryRun: Bool, actor: String)
        async throws(StoreError) -> PruneReport
    {
        precondition(batchSize > 0, "batch size must be positive")
        // The events to remove: before the cutoff, outside every kept window, without an open case.
        let condition =
            "occurred_at < ?" + String(repeating: " AND NOT (occurred_at >= ? AND occurred_at < ?)", count: keeping.count)
            + " AND id NOT IN (SELECT event_id FROM cases WHERE status = 'open')"
        let arguments = StatementArguments(
            [cutoff.millisecondsSinceEpoch] + keeping.flatMap { [$0.from.millisecondsSinceEpoch, $0.to.millisecondsSinceEpoch] })
        let selected = "SELECT id FROM events WHERE \(condition)"
        let batch = "\(selected) ORDER BY occurred_at, rowid LIMIT \(batchSize)"
        return try await prune(
            before: cutoff, keeping: keeping, dryRun: dryRun, actor: actor,
            count: { () throws(StoreError) in
                try await read { db in
                    PruneReport.Removed(
                        events: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM events WHERE \(condition)", arguments: arguments) ?? 0,
                        decisions: try Int.fetchOne(
                            db, sql: "SELECT COUNT(*) FROM decisions WHERE event_id IN (\(selected))", arguments: arguments) ?? 0,
                        labelVersions: try Int.fetchOne(
                            db, sql: "SELECT COUNT(*) FROM labels WHERE event_id IN (\(selected))", arguments: arguments) ?? 0)
                }
            },
            removeBatch: { () throws(StoreError) in
                try await write { db in
                    // Resolved cases go with their events; the audit log keeps each resolution.
                    try db.execute(sql: "DELETE FROM cases WHERE event_id IN (\(batch))", arguments: arguments)
                    try db.execute(sql: "DELETE FROM decisions WHERE event_id IN (\(batch))", arguments: arguments)
                    let decisions = db.changesCount
                    try db.execute(sql: "DELETE FROM labels WHERE event_id IN (\(batch))", arguments: arguments)
                    let labels = db.changesCount
                    try db.execute(sql: "DELETE FROM events WHERE id IN (\(batch))", arguments: arguments)
                    return PruneReport.Removed(events: db.changesCount, decisions: decisions, labelVersions: labels)
                }
            })
    }
}
