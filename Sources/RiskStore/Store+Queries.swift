import GRDB
import RiskFeatures

/// What the store holds: the counts `riskloop stats` prints.
public struct StoreStatistics: Sendable, Codable, Equatable {
    public struct LabelsKnown: Sendable, Codable, Equatable {
        /// The end of the day (midnight UTC) at which the counts hold.
        public var asOf: String
        /// Events whose label, as known then, says fraud.
        public var fraud: Int
        /// Events whose label, as known then, says genuine.
        public var genuine: Int
    }

    public var events: Int
    public var eventsByKind: [String: Int]
    public var customers: Int
    public var firstEventAt: String?
    public var lastEventAt: String?
    /// Stored label versions, including superseded ones.
    public var labelVersions: Int
    /// Events with at least one label.
    public var labelledEvents: Int
    public var latestLabelsByOutcome: [String: Int]
    /// Labels known at the end of each week from the first event on (and at the last label).
    public var labelsKnownByDate: [LabelsKnown]
    public var models: Int
    public var decisions: Int
    public var auditEntries: Int
}

/// A row of the model registry, without the artifact.
public struct RegisteredModel: Sendable, Codable, Equatable {
    public var id: String
    public var algorithm: String
    public var status: String
    public var createdAt: String
    public var parentId: String?
    public var featureSpecSHA256: String
    public var artifactSHA256: String
    public var statusReason: String?

    enum CodingKeys: String, CodingKey {
        case id, algorithm, status
        case createdAt = "created_at"
        case parentId = "parent_id"
        case featureSpecSHA256 = "feature_spec_sha256"
        case artifactSHA256 = "artifact_sha256"
        case statusReason = "status_reason"
    }
}

extension Store {
    /// Counts of events, labels and the registry, with labels known week by week.
    public func statistics() throws(StoreError) -> StoreStatistics {
        try read { db in
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

    /// Replays label versions in report order and takes the state at each week's end: what a
    /// retraining job running that night would have known.
    private static func labelsKnownWeekly(_ db: Database, from firstEvent: Int64?) throws -> [StoreStatistics.LabelsKnown] {
        guard let firstEvent else { return [] }
        let versions = try Row.fetchCursor(db, sql: "SELECT event_id, outcome, reported_at FROM labels ORDER BY reported_at, seq")
        let week = 7 * Timestamp.millisecondsPerDay
        var boundary = Timestamp(millisecondsSinceEpoch: firstEvent).startOfDayUTC.millisecondsSinceEpoch + week
        var current: [String: Bool] = [:]  // event → is fraud
        var fraud = 0, genuine = 0
        var snapshots: [StoreStatistics.LabelsKnown] = []
        func snapshot(at end: Int64) {
            snapshots.append(.init(asOf: Timestamp(millisecondsSinceEpoch: end).rfc3339, fraud: fraud, genuine: genuine))
        }
        var lastReported: Int64 = boundary
        while let row = try versions.next() {
            let reportedAt: Int64 = row["reported_at"]
            while reportedAt >= boundary {
                snapshot(at: boundary)
                boundary += week
            }
            let eventId: String = row["event_id"]
            let isFraud = (row["outcome"] as String) == Outcome.fraud.rawValue
            if let previous = current[eventId] {
                if previous { fraud -= 1 } else { genuine -= 1 }
            }
            current[eventId] = isFraud
            if isFraud { fraud += 1 } else { genuine += 1 }
            lastReported = reportedAt
        }
        snapshot(at: max(boundary, lastReported))
        return snapshots
    }

    /// The model registry, newest first.
    public func models() throws(StoreError) -> [RegisteredModel] {
        try read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT id, algorithm, status, created_at, parent_id, feature_spec_sha256, artifact_sha256, status_reason
                    FROM models ORDER BY created_at DESC, id
                    """
            ).map { row in
                RegisteredModel(
                    id: row["id"], algorithm: row["algorithm"], status: row["status"],
                    createdAt: Timestamp(millisecondsSinceEpoch: row["created_at"]).rfc3339, parentId: row["parent_id"],
                    featureSpecSHA256: row["feature_spec_sha256"], artifactSHA256: row["artifact_sha256"],
                    statusReason: row["status_reason"])
            }
        }
    }
}

/// How many events a label source labelled, and how many of them as fraud.
public struct LabelSourceCount: Sendable, Equatable, Codable {
    public var source: String
    public var events: Int
    public var fraud: Int

    public init(source: String, events: Int, fraud: Int) {
        self.source = source
        self.events = events
        self.fraud = fraud
    }
}

extension Store {
    /// The labels of the events that occurred in [`from`, `to`), each event's latest version
    /// reported at or before `knownAt`, counted by source (most events first).
    public func labelSourceCounts(from: Timestamp, to: Timestamp, knownAt: Timestamp) throws(StoreError) -> [LabelSourceCount] {
        try read { db in
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
