import Foundation
import RiskContract

/// One decision to log: the event as scored (as received, plus any telco signals the server
/// acquired for it), and what was decided with which versions.
public struct DecisionRecord: Sendable {
    public var event: Event
    /// The event's JSON: exactly as received, or with the acquired signals added to its `telco`
    /// object (then canonical, sorted keys), so that replay, backtests and training see what the
    /// scorer saw.
    public var payload: String
    public var decidedAt: Timestamp
    public var modelId: String
    public var policyVersion: String
    public var score: Double
    public var decision: String
    /// The reasons as a JSON array.
    public var reasons: String
    /// The challenger that scored the same event in shadow, and its score (not acted on).
    public var shadowModelId: String?
    public var shadowScore: Double?
    /// The score as answered (JSON), returned again to a retry of the same event.
    public var answer: String?
    /// The replica (server process) that decided, when several share the store.
    public var replica: String?
    /// How far in the shared decision log (``LogPosition/decision``) the deciding replica's
    /// entity history had read when it scored the event: the others' decisions up to there were
    /// in its history, later ones were not.
    public var historyPosition: Int64?
    /// Where each operator-served telco signal came from (`event`, `cache`, `operator`,
    /// `notification`) or why it is unknown, as a JSON object keyed by the `telco` member;
    /// `nil` when the server enriches nothing (no `--operators`).
    public var signals: String?

    public init(
        event: Event, payload: String, decidedAt: Timestamp, modelId: String, policyVersion: String, score: Double, decision: String,
        reasons: String, shadowModelId: String? = nil, shadowScore: Double? = nil, answer: String? = nil, replica: String? = nil,
        historyPosition: Int64? = nil, signals: String? = nil
    ) {
        self.signals = signals
        self.answer = answer
        self.replica = replica
        self.historyPosition = historyPosition
        self.event = event
        self.payload = payload
        self.decidedAt = decidedAt
        self.modelId = modelId
        self.policyVersion = policyVersion
        self.score = score
        self.decision = decision
        self.reasons = reasons
        self.shadowModelId = shadowModelId
        self.shadowScore = shadowScore
    }
}

/// An event the store already holds, as a retry of it is checked against.
public struct StoredEvent: Sendable, Equatable {
    /// The JSON as stored.
    public var payload: String
    /// The answer of its first decision, if it was decided by the service.
    public var answer: String?

    public init(payload: String, answer: String?) {
        self.payload = payload
        self.answer = answer
    }
}

/// A logged decision as replay reads it: what was decided, with which versions, for which event.
public struct LoggedDecision: Sendable {
    public var id: Int64
    public var eventId: String
    public var occurredAt: Timestamp
    public var decidedAt: Timestamp
    public var modelId: String
    public var policyVersion: String
    public var score: Double
    public var decision: String
    /// The replica that decided, and how far its history had read the shared log (``DecisionRecord``).
    public var replica: String?
    public var historyPosition: Int64?

    public init(
        id: Int64, eventId: String, occurredAt: Timestamp, decidedAt: Timestamp, modelId: String, policyVersion: String, score: Double,
        decision: String, replica: String? = nil, historyPosition: Int64? = nil
    ) {
        self.replica = replica
        self.historyPosition = historyPosition
        self.id = id
        self.eventId = eventId
        self.occurredAt = occurredAt
        self.decidedAt = decidedAt
        self.modelId = modelId
        self.policyVersion = policyVersion
        self.score = score
        self.decision = decision
    }
}

/// A position in the shared log that replicas follow: the last decision (`decisions.id`) and
/// the last label version (`labels.seq`) read.
public struct LogPosition: Sendable, Equatable, Comparable {
    public var decision: Int64
    public var label: Int64

    public init(decision: Int64, label: Int64) {
        self.decision = decision
        self.label = label
    }

    public static func < (lhs: LogPosition, rhs: LogPosition) -> Bool {
        (lhs.decision, lhs.label) < (rhs.decision, rhs.label)
    }
}

/// What was appended to the shared log after a position: decisions with their events, in log
/// order, and label versions, in storage order.
public struct LogTail: Sendable {
    public struct Decided: Sendable {
        /// `decisions.id`.
        public var position: Int64
        public var replica: String?
        public var decidedAt: Timestamp
        /// The event's JSON as stored.
        public var payload: String

        public init(position: Int64, replica: String?, decidedAt: Timestamp, payload: String) {
            self.position = position
            self.replica = replica
            self.decidedAt = decidedAt
            self.payload = payload
        }
    }

    public var decisions: [Decided]
    public var labels: [Label]
    /// The position after what this tail holds: where the next read starts.
    public var position: LogPosition

    public init(decisions: [Decided], labels: [Label], position: LogPosition) {
        self.decisions = decisions
        self.labels = labels
        self.position = position
    }
}
