import Dispatch
import Foundation
import RiskContract
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
    /// What a call scores with: the model, the policy and the model's entity history, taken
    /// together under one lock as one reference. A call finishes on the state it took, so a
    /// model is never paired with another spec's history.
    private final class State: Sendable {
        let model: ServingModel
        let policy: CompiledPolicy
        /// Shared by every state whose model has this spec: a policy swap or a model with the
        /// same spec keeps the history.
        let history: History

        init(model: ServingModel, policy: CompiledPolicy, history: History) {
            self.model = model
            self.policy = policy
            self.history = history
        }
    }

    /// The entity history of one spec, behind its own lock (held only to read and record the
    /// aggregates of one event or one ordered batch).
    private final class History: Sendable {
        let profiles: Mutex<EntityProfiles>
        let specSHA256: String

        init(_ model: ServingModel) {
            profiles = Mutex(model.extractor.makeProfiles())
            specSHA256 = model.specSHA256
        }
    }

    private let state: Mutex<State>
    /// How many reasons a score carries.
    public let reasonCount: Int

    public init(model: ServingModel, policy: DecisionPolicy, reasonCount: Int = 3) {
        state = Mutex(State(model: model, policy: CompiledPolicy(policy), history: History(model)))
        self.reasonCount = reasonCount
    }

    /// The model scoring now.
    public var model: ServingModel { state.withLock { $0.model } }
    public var policy: DecisionPolicy { state.withLock { $0.policy.policy } }

    /// Replaces the model. Calls already running finish with the model and the history they
    /// started with; the next call sees the new one. History is kept when the new model's spec
    /// is the same; a model with another spec starts from an empty history (use
    /// ``swap(to:warming:)`` to fill it before it takes traffic).
    public func swap(to model: ServingModel) {
        state.withLock { current in
            let history = current.history.specSHA256 == model.specSHA256 ? current.history : History(model)
            current = State(model: model, policy: current.policy, history: history)
        }
    }

    /// Replaces the model, first giving a model with another spec its history: `warm` runs on a
    /// scorer of the new model alone (say, `warm(from:asOf:historyDays:)` in RiskEngine) while
    /// this one goes on scoring with the old model, then the new model and that history take
    /// over together. Events this scorer scores while `warm` runs are recorded in the old
    /// history only. With the same spec this is ``swap(to:)-(ServingModel)``.
    public func swap<Failure: Error>(to model: ServingModel, warming warm: (Scorer) throws(Failure) -> Void) throws(Failure) {
        let (sameSpec, policy) = state.withLock { ($0.history.specSHA256 == model.specSHA256, $0.policy.policy) }
        guard !sameSpec else { return swap(to: model) }
        let staging = Scorer(model: model, policy: policy, reasonCount: reasonCount)
        try warm(staging)
        let warmed = staging.state.withLock { $0.history }
        state.withLock { current in
            current = State(model: model, policy: current.policy, history: warmed)
        }
    }

    /// Replaces the decision policy.
    public func swap(to policy: DecisionPolicy) {
        let compiled = CompiledPolicy(policy)
        state.withLock { $0 = State(model: $0.model, policy: compiled, history: $0.history) }
    }

    /// A label version for the fraud-rate features; it counts once it was reported (plus each
    /// feature's delay).
    public func observe(_ label: Label) {
        let history = state.withLock { $0.history }
        history.profiles.withLock { $0.observe(label) }
    }

    /// An event scored elsewhere (another replica of a deployment) recorded in the history
    /// without being scored here: later events of its entities count it.
    public func observe(_ event: ParsedEvent) {
        let current = state.withLock { $0 }
        guard current.model.extractor.hasAggregates else { return }
        current.history.profiles.withLock { $0.observe(event) }
    }

    /// What the row of `event` is made from now: the model, the policy and the event's aggregates
    /// as of its time, read without recording the event (the what-if of
    /// ``acquisitionNeed(_:unknown:)``).
    func currentRowInputs(_ event: ParsedEvent) -> (model: ServingModel, policy: CompiledPolicy, aggregates: [Double]) {
        let current = state.withLock { $0 }
        let extractor = current.model.extractor
        let aggregates = extractor.hasAggregates ? current.history.profiles.withLock { $0.values(for: event) } : []
        return (current.model, current.policy, aggregates)
    }

    /// Scores one event and records it in the history. Its history, row and contributions live
    /// on the stack: the heap sees only the score itself.
    public func score(_ event: ParsedEvent) -> RiskScore {
        let current = state.withLock { $0 }
        let extractor = current.model.extractor, slots = extractor.aggregateCount, width = current.model.columns.count
        return withUnsafeTemporaryAllocation(of: Double.self, capacity: slots + 2 * width) { buffer in
            buffer.initialize(repeating: 0)
            // Empty without aggregates (the spec has none to record).
            let aggregates = UnsafeMutableBufferPointer(rebasing: buffer[0..<slots])
            if extractor.hasAggregates { current.history.profiles.withLock { $0.record(event, into: aggregates) } }
            let row = UnsafeMutableBufferPointer(rebasing: buffer[slots..<(slots + width)])
            extractor.fill(into: row, event, aggregates: UnsafeBufferPointer(aggregates))
            return score(
                row: UnsafeBufferPointer(row), contributions: UnsafeMutableBufferPointer(rebasing: buffer[(slots + width)...]),
                event: event, current: current)
        }
    }

    /// Scores events in order, on all cores: history in one ordered pass, the rest in parallel,
    /// each core reusing one row buffer (no matrix of every row).
    public func score(_ events: [ParsedEvent]) -> [RiskScore] {
        let current = state.withLock { $0 }
        let extractor = current.model.extractor, width = current.model.columns.count
        // Row-major, one value per aggregate; empty (and each row's slice empty) without aggregates.
        let slots = extractor.aggregateCount
        let aggregates = extractor.hasAggregates ? current.history.profiles.withLock { $0.history(for: events) } : []
        let chunks = max(1, min(64, events.count / 256))
        return [RiskScore](unsafeUninitializedCapacity: events.count) { output, initialized in
            // Safe to share: each chunk initializes only the elements of its own range, and the
            // buffer outlives `concurrentPerform`, which returns when every chunk is done.
            nonisolated(unsafe) let output = output
            DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                withUnsafeTemporaryAllocation(of: Double.self, capacity: 2 * width) { buffer in
                    let row = UnsafeMutableBufferPointer(rebasing: buffer[0..<width])
                    let contributions = UnsafeMutableBufferPointer(rebasing: buffer[width...])
                    for index in (events.count * chunk / chunks)..<(events.count * (chunk + 1) / chunks) {
                        row.initialize(repeating: 0)
                        aggregates.withUnsafeBufferPointer { all in
                            extractor.fill(
                                into: row, events[index],
                                aggregates: UnsafeBufferPointer(rebasing: all[(index * slots)..<((index + 1) * slots)]))
                        }
                        (output.baseAddress! + index).initialize(
                            to: score(row: UnsafeBufferPointer(row), contributions: contributions, event: events[index], current: current))
                    }
                }
            }
            initialized = events.count
        }
    }

    /// The score of one event's row; `contributions` is scratch space of the row's width.
    private func score(
        row: UnsafeBufferPointer<Double>, contributions: UnsafeMutableBufferPointer<Double>, event: ParsedEvent, current: State
    ) -> RiskScore {
        let model = current.model, policy = current.policy
        let raw = model.compiled.rawScore(row)
        let probability = model.compiled.probability(raw: raw)
        let (decision, rules) = policy.decide(probability: probability, event: event)
        model.compiled.contributions(row, into: contributions)
        // The few largest positive contributions, by one pass (no sort of every column), in a
        // list on the stack.
        let reasons = withUnsafeTemporaryAllocation(of: Int.self, capacity: reasonCount) { top in
            guard reasonCount > 0 else { return [RiskScore.Reason]() }
            var count = 0
            for column in contributions.indices where contributions[column] > 0 {
                guard count < reasonCount || contributions[column] > contributions[top[count - 1]] else { continue }
                var position = min(count, reasonCount - 1)
                while position > 0, contributions[column] > contributions[top[position - 1]] {
                    top[position] = top[position - 1]
                    position -= 1
                }
                top[position] = column
                count = min(count + 1, reasonCount)
            }
            return (0..<count).map { rank in
                let column = top[rank]
                return RiskScore.Reason(
                    column: model.columns[column], text: model.explainer.text(column: column, value: row[column], event: event),
                    contribution: contributions[column])
            }
        }
        return RiskScore(
            eventId: event.id, probability: probability, band: RiskScore.Band(probability, policy.policy.thresholds), decision: decision,
            rulesApplied: rules, reasons: reasons, modelId: model.id, specSHA256: model.specSHA256, policyVersion: policy.policy.version)
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
