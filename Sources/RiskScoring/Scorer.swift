import Dispatch
import Foundation
import RiskFeatures
import RiskModels
import Synchronization

/// Scores events with a model and a decision policy, from any thread, and swaps to a new model
/// atomically.
///
/// ```swift
/// let scorer = Scorer(model: try ServingModel(contentsOf: modelURL), policy: policy)
/// let score = scorer.score(try ParsedEvent(jsonLine: line))
/// score.decision      // .stepUp
/// score.reasons[0]    // "time since the SIM card was swapped: under 24 h (3 h before this event)"
/// scorer.swap(to: newModel)   // in-flight calls finish on the model they started with
/// ```
///
/// Entity history (the spec's aggregates) lives in the scorer: each scored event is recorded
/// after it is scored, and ``observe(_:)`` hands over labels as they arrive. Events should come
/// in time order.
public final class Scorer: Sendable {
    private struct State: Sendable {
        var model: ServingModel
        var policy: CompiledPolicy
    }

    private let state: Mutex<State>
    private let history: Mutex<EntityProfiles>
    /// How many reasons a score carries.
    public let reasonCount: Int

    public init(model: ServingModel, policy: DecisionPolicy, reasonCount: Int = 3) {
        state = Mutex(State(model: model, policy: CompiledPolicy(policy)))
        history = Mutex(model.extractor.makeProfiles())
        self.reasonCount = reasonCount
    }

    /// The model scoring now.
    public var model: ServingModel { state.withLock { $0.model } }
    public var policy: DecisionPolicy { state.withLock { $0.policy.policy } }

    /// Replaces the model. Calls already running finish with the model they started with; the
    /// next call sees the new one. History is kept when the new model's spec is the same.
    public func swap(to model: ServingModel) {
        let sameSpec = state.withLock { current in
            let same = current.model.artifact.featureSpecSHA256 == model.artifact.featureSpecSHA256
            current.model = model
            return same
        }
        if !sameSpec { history.withLock { $0 = model.extractor.makeProfiles() } }
    }

    /// Replaces the decision policy.
    public func swap(to policy: DecisionPolicy) {
        let compiled = CompiledPolicy(policy)
        state.withLock { $0.policy = compiled }
    }

    /// A label version for the fraud-rate features; it counts once it was reported (plus each
    /// feature's delay).
    public func observe(_ label: Label) {
        history.withLock { $0.observe(label) }
    }

    /// Scores one event and records it in the history.
    public func score(_ event: ParsedEvent) -> RiskScore {
        let snapshot = state.withLock { $0 }
        let model = snapshot.model
        let aggregates = model.extractor.hasAggregates ? history.withLock { $0.record(event) } : model.extractor.firstEventHistory
        var work = Workspace(row: model.extractor.vector(event, history: aggregates))
        return score(&work, event: event, model: model, policy: snapshot.policy)
    }

    /// Scores events in order, on all cores: history in one ordered pass, the rest in parallel,
    /// each core reusing one row buffer (no matrix of every row).
    public func score(_ events: [ParsedEvent]) -> [RiskScore] {
        let snapshot = state.withLock { $0 }
        let model = snapshot.model, extractor = model.extractor
        // Row-major, one value per aggregate; empty (and each row's slice empty) without aggregates.
        let slots = extractor.aggregateCount
        let aggregates = extractor.hasAggregates ? history.withLock { $0.history(for: events) } : []
        let chunks = max(1, min(64, events.count / 256))
        return [RiskScore](unsafeUninitializedCapacity: events.count) { output, initialized in
            // Safe to share: each chunk initializes only the elements of its own range, and the
            // buffer outlives `concurrentPerform`, which returns when every chunk is done.
            nonisolated(unsafe) let output = output
            DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                var work = Workspace(row: [Double](repeating: 0, count: model.artifact.columns.count))
                for index in (events.count * chunk / chunks)..<(events.count * (chunk + 1) / chunks) {
                    work.row.withUnsafeMutableBufferPointer { row in
                        for column in row.indices { row[column] = 0 }
                        aggregates.withUnsafeBufferPointer { all in
                            extractor.fill(
                                into: row, events[index],
                                aggregates: UnsafeBufferPointer(rebasing: all[(index * slots)..<((index + 1) * slots)]))
                        }
                    }
                    (output.baseAddress! + index).initialize(to: score(&work, event: events[index], model: model, policy: snapshot.policy))
                }
            }
            initialized = events.count
        }
    }

    /// One row and its contributions, reused from event to event.
    private struct Workspace {
        var row: [Double]
        var contributions: [Double]

        init(row: [Double]) {
            self.row = row
            contributions = [Double](repeating: 0, count: row.count)
        }
    }

    private func score(_ work: inout Workspace, event: ParsedEvent, model: ServingModel, policy: CompiledPolicy) -> RiskScore {
        let raw = model.compiled.rawScore(work.row)
        let probability = model.compiled.probability(raw: raw)
        let (decision, rules) = policy.decide(probability: probability, event: event)
        model.compiled.contributions(work.row, into: &work.contributions)
        let contributions = work.contributions, row = work.row
        // The few largest positive contributions, by one pass (no sort of every column).
        var top: [Int] = []
        top.reserveCapacity(reasonCount + 1)
        for column in contributions.indices where contributions[column] > 0 {
            guard top.count < reasonCount || contributions[column] > contributions[top[top.count - 1]] else { continue }
            let position = top.firstIndex { contributions[column] > contributions[$0] } ?? top.count
            top.insert(column, at: position)
            if top.count > reasonCount { top.removeLast() }
        }
        let reasons = top.map { column in
            RiskScore.Reason(
                column: model.artifact.columns[column], text: model.explainer.text(column: column, value: row[column], event: event),
                contribution: contributions[column])
        }
        return RiskScore(
            eventId: event.id, probability: probability, band: RiskScore.Band(probability, policy.policy.thresholds), decision: decision,
            rulesApplied: rules, reasons: reasons, modelId: model.artifact.id, specSHA256: model.artifact.featureSpecSHA256,
            policyVersion: policy.policy.version)
    }
}

/// The answer for one event.
public struct RiskScore: Sendable, Codable, Equatable {
    /// How risky by probability alone, before rules: one band per decision threshold.
    public enum Band: String, Sendable, Codable {
        case low, elevated, high, critical

        init(_ probability: Double, _ thresholds: DecisionPolicy.Thresholds) {
            self =
                probability >= thresholds.block
                ? .critical
                : probability >= thresholds.review ? .high : probability >= thresholds.stepUp ? .elevated : .low
        }
    }

    /// Why: a column that pushed the score up, in words, and by how much (log-odds).
    public struct Reason: Sendable, Codable, Equatable {
        public var column: String
        public var text: String
        public var contribution: Double
    }

    public var eventId: String?
    public var probability: Double
    public var band: Band
    public var decision: Decision
    /// Policy rules that changed the decision the thresholds gave.
    public var rulesApplied: [String]
    public var reasons: [Reason]
    public var modelId: String
    public var specSHA256: String
    public var policyVersion: String

    enum CodingKeys: String, CodingKey {
        case probability, band, decision, reasons
        case eventId = "event_id"
        case rulesApplied = "rules_applied"
        case modelId = "model_id"
        case specSHA256 = "spec_sha256"
        case policyVersion = "policy_version"
    }
}
