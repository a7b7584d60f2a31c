import GRDB
import RiskContract
import RiskStore

extension SQLiteStore {
    /// Counts of events, labels and the registry, with labels known week by week.
    public func statistics() async throws(StoreError) -> StoreStatistics {
        try await read { db in
            let events = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM events") ?? 0
            let byKind = try Row.fetchAll(db, sql: "SELECT kind, COUNT(*) AS n FROM events GROUP BY kind")
                .reduce(into: [String: Int]()) { $0[$1["kind"]] = $1["n"] }
            let customers = try Int.fetchOne(db, sql: "SELECT COUNT(DISTINCT customer_id) FROM events") ?? 0
            let range = try Row.fetchOne(db, sql: "SELECT MIN(occurred_at) AS first, MAX(occurred_at) AS last FROM events")
            let first: Int64? = range?["first"]
            let last: Int64? = range?["last"]
            let latest = try Row.fetchAll(db, sql: "SELECT outcome, COUNT(*) AS n FROM latest_labels GROUP BY outcome")
                .reduce(into: [String: Int]()) { $0[$1["outcome"]] = $1["n"] }
            return StoreStatistics(
                events: events, eventsByKind: byKind, customers: customers,
                firstEventAt: first.map { Timestamp(millisecondsSinceEpoch: $0).rfc3339 },
                lastEventAt: last.map { Timestamp(millisecondsSinceEpoch: $0).rfc3339 },
                labelVersions: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM labels") ?? 0,
                labelledEvents: try Int.fetchOne(db, sql: "SELECT COUNT(DISTINCT event_id) FROM labels") ?? 0,
                latestLabelsByOutcome: latest,
                labelsKnownByDate: try Self.labelsKnownWeekly(db, from: first),
                models: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM models") ?? 0,
                decisions: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM decisions") ?? 0,
                auditEntries: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM audit_log") ?? 0)
        }
    }

    /// The labels known at each week's end (``StoreStatistics/WeeklyLabels``).
    private static func labelsKnownWeekly(_ db: Database, from firstEvent: Int64?) throws -> [StoreStatistics.LabelsKnown] {
        guard let firstEvent else { return [] }
        let versions = try Row.fetchCursor(db, sql: "SELECT event_id, outcome, reported_at FROM labels ORDER BY reported_at, seq")
        var weekly = StoreStatistics.WeeklyLabels(firstEventAt: firstEvent)
        while let row = try versions.next() {
            weekly.add(eventId: row[0], isFraud: (row[1] as String) == Outcome.fraud.rawValue, reportedAt: row[2])
        }
        return weekly.finish()
    }

    /// The model registry, newest first.
    public func models() async throws(StoreError) -> [RegisteredModel] {
        try await read { db in
            try ModelSummaryRow.order(Column("created_at").desc, Column("id")).fetchAll(db).map(\.model)
        }
    }
}

extension SQLiteStore {
    /// The labels of the events that occurred in [`from`, `to`), each event's latest version
    /// reported at or before `knownAt`, counted by source (most events first).
    public func labelSourceCounts(from: Timestamp, to: Timestamp, knownAt: Timestamp) async throws(StoreError) -> [LabelSourceCount] {
        try await read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT source, COUNT(*) AS events, SUM(outcome = 'fraud') AS fraud FROM (
                        SELECT l.source, l.outcome, ROW_NUMBER() OVER (
                            PARTITION BY l.event_id ORDER BY l.reported_at DESC, l.seq DESC) AS version_rank
                        FROM labels l JOIN events e ON e.id = l.event_id
                        WHERE e.occurred_at >= ? AND e.occurred_at < ? AND l.reported_at <= ?)
                    WHERE version_rank = 1 GROUP BY source ORDER BY events DESC, source
                    """,
                arguments: [from.millisecondsSinceEpoch, to.millisecondsSinceEpoch, knownAt.millisecondsSinceEpoch]
            ).map { LabelSourceCount(source: $0["source"], events: $0["events"], fraud: $0["fraud"]) }
        }
    }
}
