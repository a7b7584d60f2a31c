import Foundation
import RiskContract

/// What a retraining cycle reads from the store, from one consistent snapshot.
public struct TrainingSnapshot: Sendable {
    /// Events before the training window that only warm up the entity history, in time order.
    public var warmup: [ParsedEvent]
    /// Events in the window, in time order (`occurred_at`, then arrival).
    public var events: [ParsedEvent]
    /// Every label version reported at or before the cutoff, in report order: the labels the
    /// cycle may know. Later versions are not read at all.
    public var labelVersions: [Label]
    /// The highest `labels.seq` in the snapshot: labels stored after it belong to the next cycle.
    public var labelHighWater: Int64
    /// Each event's outcome by the latest of `labelVersions` (``Label/latestOutcomes(of:versions:)``),
    /// found while the payloads are still being parsed; `nil` for an event without a label.
    public var outcomes: [Outcome?]

    public init(warmup: [ParsedEvent], events: [ParsedEvent], labelVersions: [Label], labelHighWater: Int64, outcomes: [Outcome?]) {
        self.warmup = warmup
        self.events = events
        self.labelVersions = labelVersions
        self.labelHighWater = labelHighWater
        self.outcomes = outcomes
    }
}

/// A retraining cycle as recorded.
public struct RetrainCycleRecord: Sendable, Codable, Equatable {
    public enum Outcome: String, Sendable, Codable {
        /// The challenger became champion.
        case promoted
        /// The challenger failed the gate (or the champion changed meanwhile) and is kept as `rejected`.
        case rejected
        /// The challenger is a model the registry already holds (identical data and settings).
        case unchanged
    }

    public var id: Int64?
    public var startedAt: Timestamp
    public var finishedAt: Timestamp
    /// The cutoff the cycle trained at: no event or label after it was used.
    public var asOf: Timestamp
    public var actor: String
    /// Why the cycle ran, in words (`1,204 new labels ≥ 500`).
    public var trigger: String
    public var labelHighWater: Int64
    /// The champion the challenger was compared with, if there was one.
    public var championId: String?
    public var challengerId: String
    public var outcome: Outcome
    public var reason: String
    /// A JSON object: both models' holdout metrics, the gate, the stage timings.
    public var detail: String

    public init(
        startedAt: Timestamp, finishedAt: Timestamp, asOf: Timestamp, actor: String, trigger: String, labelHighWater: Int64,
        championId: String?, challengerId: String, outcome: Outcome, reason: String, detail: String
    ) {
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.asOf = asOf
        self.actor = actor
        self.trigger = trigger
        self.labelHighWater = labelHighWater
        self.championId = championId
        self.challengerId = challengerId
        self.outcome = outcome
        self.reason = reason
        self.detail = detail
    }
}

extension RetrainCycleRecord {
    /// Settles how a finishing cycle ends, inside the backend's transaction: `unchanged` when the
    /// registry already holds the challenger (with `existingStatus`); otherwise the status its
    /// challenger is registered with — `champion` only when `promote` is asked and the champion
    /// is still the one the cycle compared it with, `rejected` else, with the reason set when
    /// the champion changed meanwhile. Every backend's `finishCycle` goes through this.
    ///
    /// - Returns: the challenger's status, or `nil` when it is already registered.
    package mutating func settle(existingStatus: String?, currentChampion: String?, promote: Bool) -> ModelStatus? {
        if let existingStatus {
            outcome = .unchanged
            reason = "the registry already holds this model (\(existingStatus)): same data and settings"
            return nil
        }
        if promote, currentChampion == championId {
            outcome = .promoted
            return .champion
        }
        if promote {
            reason =
                "the champion changed during the cycle (from \(championId ?? "none") to \(currentChampion ?? "none")); "
                + "not promoted over a model it was not compared with"
        }
        outcome = .rejected
        return .rejected
    }
}
