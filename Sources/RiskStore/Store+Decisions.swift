import Foundation
import GRDB
import RiskFeatures

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

    public init(
        event: Event, payload: String, decidedAt: Timestamp, modelId: String, policyVersion: String, score: Double, decision: String,
        reasons: String, shadowModelId: String? = nil, shadowScore: Double? = nil
    ) {
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

extension Store {
    /// Stores the events (an id already stored is kept as it was) and their decisions, all in one
    /// transaction: either every decision of the call is logged, or none.
    public func log(_ decisions: [DecisionRecord]) throws(StoreError) {
        guard !decisions.isEmpty else { return }
        try write { db in
            let insertEvent = try db.cachedStatement(
                sql: """
                    INSERT INTO events (id, occurred_at, customer_id, kind, payload) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT (id) DO NOTHING
                    """)
            let insertDecision = try db.cachedStatement(
                sql: """
                    INSERT INTO decisions (event_id, decided_at, model_id, policy_version, score, decision, reasons,
                                           shadow_model_id, shadow_score)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """)
            for record in decisions {
                let event = record.event
                try insertEvent.execute(arguments: [
                    event.id, event.occurredAt.millisecondsSinceEpoch, event.customerId, event.kind.rawValue, record.payload,
                ])
                try insertDecision.execute(arguments: [
                    event.id, record.decidedAt.millisecondsSinceEpoch, record.modelId, record.policyVersion, record.score, record.decision,
                    record.reasons, record.shadowModelId, record.shadowScore,
                ])
            }
        }
    }

    /// Stores label versions received in memory (an API call), in one transaction. Every label
    /// must name a stored event; the first that does not fails the whole call with its position.
    public func ingest(labels: [Label], source: String) throws(StoreError) -> IngestReport {
        var report = IngestReport(file: source)
        guard !labels.isEmpty else { return report }
        try insertLabels(labels.enumerated().map { ($0.offset + 1, $0.element) }, file: source, report: &report)
        return report
    }
}
