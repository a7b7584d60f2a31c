import Foundation
import RiskContract

/// What the store holds: the counts `riskloop stats` prints.
public struct StoreStatistics: Sendable, Codable, Equatable {
    public struct LabelsKnown: Sendable, Codable, Equatable {
        /// The end of the day (midnight UTC) at which the counts hold.
        public var asOf: String
        /// Events whose label, as known then, says fraud.
        public var fraud: Int
        /// Events whose label, as known then, says genuine.
        public var genuine: Int

        public init(asOf: String, fraud: Int, genuine: Int) {
            self.asOf = asOf
            self.fraud = fraud
            self.genuine = genuine
        }
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

    public init(
        events: Int, eventsByKind: [String: Int], customers: Int, firstEventAt: String?, lastEventAt: String?, labelVersions: Int,
        labelledEvents: Int, latestLabelsByOutcome: [String: Int], labelsKnownByDate: [LabelsKnown], models: Int, decisions: Int,
        auditEntries: Int
    ) {
        self.events = events
        self.eventsByKind = eventsByKind
        self.customers = customers
        self.firstEventAt = firstEventAt
        self.lastEventAt = lastEventAt
        self.labelVersions = labelVersions
        self.labelledEvents = labelledEvents
        self.latestLabelsByOutcome = latestLabelsByOutcome
        self.labelsKnownByDate = labelsKnownByDate
        self.models = models
        self.decisions = decisions
        self.auditEntries = auditEntries
    }
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

    public init(
        id: String, algorithm: String, status: String, createdAt: String, parentId: String?, featureSpecSHA256: String,
        artifactSHA256: String, statusReason: String?
    ) {
        self.id = id
        self.algorithm = algorithm
        self.status = status
        self.createdAt = createdAt
        self.parentId = parentId
        self.featureSpecSHA256 = featureSpecSHA256
        self.artifactSHA256 = artifactSHA256
        self.statusReason = statusReason
    }

    enum CodingKeys: String, CodingKey {
        case id, algorithm, status
        case createdAt = "created_at"
        case parentId = "parent_id"
        case featureSpecSHA256 = "feature_spec_sha256"
        case artifactSHA256 = "artifact_sha256"
        case statusReason = "status_reason"
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

extension StoreStatistics {
    /// Replays label versions in report order and takes the state at each week's end: what a
    /// retraining job running that night would have known. Every backend feeds its versions,
    /// `(event_id, is fraud, reported_at)` ordered by `reported_at` then `seq`, through one of these.
    package struct WeeklyLabels {
        private let week = 7 * Timestamp.millisecondsPerDay
        private var boundary: Int64
        private var current: [String: Bool] = [:]  // event → is fraud
        private var fraud = 0, genuine = 0
        private var snapshots: [LabelsKnown] = []
        private var lastReported: Int64

        /// Weeks counted from the midnight (UTC) before the first event.
        package init(firstEventAt firstEvent: Int64) {
            boundary = Timestamp(millisecondsSinceEpoch: firstEvent).startOfDayUTC.millisecondsSinceEpoch + week
            lastReported = boundary
        }

        package mutating func add(eventId: String, isFraud: Bool, reportedAt: Int64) {
            while reportedAt >= boundary {
                snapshot(at: boundary)
                boundary += week
            }
            if let previous = current[eventId] {
                if previous { fraud -= 1 } else { genuine -= 1 }
            }
            current[eventId] = isFraud
            if isFraud { fraud += 1 } else { genuine += 1 }
            lastReported = reportedAt
        }

        /// The weekly counts, the last one at the end of the last week (or at the last report).
        package mutating func finish() -> [LabelsKnown] {
            snapshot(at: max(boundary, lastReported))
            return snapshots
        }

        private mutating func snapshot(at end: Int64) {
            snapshots.append(.init(asOf: Timestamp(millisecondsSinceEpoch: end).rfc3339, fraud: fraud, genuine: genuine))
        }
    }
}
