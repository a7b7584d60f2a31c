import PostgresNIO
import RiskContract
import RiskStore

extension PostgresStore {
    public func prune(before cutoff: Timestamp, keeping: [PruneReport.KeptWindow], batchSize: Int, dryRun: Bool, actor: String)
        async throws(StoreError) -> PruneReport
    {
        precondition(batchSize > 0, "batch size must be positive")
        // The events to remove: before the cutoff and outside every kept window ($1, then pairs).
        var condition = "occurred_at < $1"
        var bindings = PostgresBindings()
        bindings.append(cutoff.millisecondsSinceEpoch)
        for window in keeping {
            condition += " AND NOT (occurred_at >= $\(bindings.count + 1) AND occurred_at < $\(bindings.count + 2))"
            bindings.append(window.from.millisecondsSinceEpoch)
            bindings.append(window.to.millisecondsSinceEpoch)
        }
        // Events with an open review case stay until it is resolved.
        condition += " AND id NOT IN (SELECT event_id FROM cases WHERE status = 'open')"
        let selected = "SELECT id FROM events WHERE \(condition)"
        let batch = "\(selected) ORDER BY occurred_at, seq LIMIT \(batchSize)"
        var dropping = true
        return try await prune(
            before: cutoff, keeping: keeping, dryRun: dryRun, actor: actor,
            count: { () throws(StoreError) in
                let rows = try await rows(
                    PostgresQuery(
                        unsafeSQL: """
                            SELECT (SELECT COUNT(*) FROM events WHERE \(condition)),
                                   (SELECT COUNT(*) FROM decisions WHERE event_id IN (\(selected))),
                                   (SELECT COUNT(*) FROM labels WHERE event_id IN (\(selected)))
                            """, binds: bindings))
                let (events, decisions, labels) =
                    try decodeAll(rows, as: (Int64, Int64, Int64).self).first ?? (Int64(0), Int64(0), Int64(0))
                return PruneReport.Removed(events: Int(events), decisions: Int(decisions), labelVersions: Int(labels))
            },
            removeBatch: { () throws(StoreError) in
                // Whole months first, by their partitions; then what is left, by batches of ids.
                if dropping {
                    do throws(StoreError) {
                        if let month = try await dropOldestMonth(before: cutoff, keeping: keeping) { return month }
                    } catch {
                        // A lock not granted in time (a long read): the batches remove the rest.
                        self.logger.warning("cannot drop a month's partitions now; removing by batches", metadata: ["error": "\(error)"])
                    }
                    dropping = false
                }
                return try await transaction { connection in
                    // The batch's ids once, then its decisions, labels and events by them.
                    let ids = try await connection.query(PostgresQuery(unsafeSQL: batch, binds: bindings), logger: self.logger)
                        .decode(String.self).reduce(into: [String]()) { $0.append($1) }
                    guard !ids.isEmpty else { return PruneReport.Removed(events: 0, decisions: 0, labelVersions: 0) }
                    // The ids first: a write that locked one (as a foreign key would) finishes before
                    // this goes on, and the statements below see what it wrote.
                    try await connection.query("DELETE FROM event_ids WHERE id = ANY(\(ids))", logger: self.logger)
                    // Resolved cases go with their events; the audit log keeps each resolution.
                    try await connection.query("DELETE FROM cases WHERE event_id = ANY(\(ids))", logger: self.logger)
                    let decisions = try await connection.query(
                        "DELETE FROM decisions WHERE event_id = ANY(\(ids)) RETURNING id", logger: self.logger
                    ).collect().count
                    let labels = try await connection.query(
                        "DELETE FROM labels WHERE event_id = ANY(\(ids)) RETURNING seq", logger: self.logger
                    ).collect().count
                    let events = try await connection.query(
                        "DELETE FROM events WHERE id = ANY(\(ids)) RETURNING id", logger: self.logger
                    ).collect().count
                    return PruneReport.Removed(events: events, decisions: decisions, labelVersions: labels)
                }
            })
    }
}
