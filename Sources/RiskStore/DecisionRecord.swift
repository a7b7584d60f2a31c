import Foundation
import RiskContract

/// One decision to log: the event as received, and what was decided with which versions.
public struct DecisionRecord: Sendable {
    public var event: Event
    /// The event's JSON exactly as received.
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

    public init(
        event: Event, payload: String, decidedAt: Timestamp, modelId: String, policyVersion: String, score: Double, decision: String,
        reasons: String, shadowModelId: String? = nil, shadowScore: Double? = nil, answer: String? = nil
    ) {
        self.answer = answer
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

    public init(
        id: Int64, eventId: String, occurredAt: Timestamp, decidedAt: Timestamp, modelId: String, policyVersion: String, score: Double,
        decision: String
    ) {
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
