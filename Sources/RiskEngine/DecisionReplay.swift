import Foundation
import RiskContract
import RiskFeatures
import RiskModels
import RiskScoring
import RiskStore

/// Re-scores logged decisions with the exact model and policy versions recorded with them, and
/// reports every decision that would now come out differently (`riskloop replay`).
///
/// For each (model, policy) pair that decided something in the period, a fresh ``Scorer`` with
/// that model (its artifact checked against the SHA-256 the registry recorded at registration)
/// and that policy (as recorded when it was first used) is given the history a serving scorer
/// had: the stored events of `historyDays` before, and every label version from its report time
/// on. It then scores every stored event of the period in time order, and its score and decision
/// for each logged event are compared with the log. Exact when the serving scorer saw the events
/// in time order and the labels by their report time (the demo, and a server fed in order). When
/// several replicas made the period's decisions, each replica's history is rebuilt to the
/// position in the shared log that each of its decisions recorded (``replayReplicas(model:policy:snapshot:index:logged:)``).
///
/// ```swift
/// let report = try DecisionReplay(store: store).run(from: start, to: end)
/// report.differences.isEmpty   // true: every decision reproduces
/// ```
public struct DecisionReplay: Sendable {
    /// A replayed score may differ from the logged one by this much (absolute) and still count
    /// as the same: the scorer's own arithmetic is deterministic, so any larger gap is a change.
    public static let scoreTolerance = 1e-12

    public var store: Store
    public var historyDays: Double

    public init(store: Store, historyDays: Double = RetrainPolicy().historyDays) {
        self.store = store
        self.historyDays = historyDays
    }

    /// A logged decision that does not reproduce, and why.
    public struct Difference: Sendable, Codable, Equatable {
        public var decisionId: Int64
        public var eventId: String
        public var modelId: String
        public var policyVersion: String
        public var loggedScore: Double
        public var loggedDecision: String
        public var replayedScore: Double?
        public var replayedDecision: String?
        public var reason: String

        enum CodingKeys: String, CodingKey {
            case reason
            case decisionId = "decision_id"
            case eventId = "event_id"
            case modelId = "model_id"
            case policyVersion = "policy_version"
            case loggedScore = "logged_score"
            case loggedDecision = "logged_decision"
            case replayedScore = "replayed_score"
            case replayedDecision = "replayed_decision"
        }
    }

    /// How many decisions one (model, policy) pair made in the period.
    public struct Versions: Sendable, Codable, Equatable {
        public var modelId: String
        public var policyVersion: String
        public var decisions: Int

        enum CodingKeys: String, CodingKey {
            case decisions
            case modelId = "model_id"
            case policyVersion = "policy_version"
        }
    }

    public struct Report: Sendable, Codable, Equatable {
        public var from: String
        public var to: String
        public var decisions: Int
        public var reproduced: Int
        public var versions: [Versions]
        /// The largest |replayed − logged| score over the decisions that could be replayed.
        public var maxScoreDifference: Double
        public var differences: [Difference]
        /// When retention removed events that this period's history reads: the latest cutoff.
        public var prunedBefore: String?
        /// Decisions that did not reproduce because the events their history counted were
        /// pruned (they occurred within the history window after ``prunedBefore``): not
        /// differences.
        public var prunedHistory: Int = 0

        enum CodingKeys: String, CodingKey {
            case from, to, decisions, reproduced, versions, differences
            case maxScoreDifference = "max_score_difference"
            case prunedBefore = "pruned_before"
            case prunedHistory = "pruned_history"
        }
    }

    /// Replays the decisions made in [`from`, `to`).
    ///
    /// - Parameter policies: policies to use for versions the store has not recorded (decisions
    ///   logged before policies were recorded); a recorded version always wins.
    /// - Throws: ``EngineError/model(_:)`` when a model's artifact fails its checksum or differs from
    ///   what the registry recorded: replay refuses to run with a changed model.
    public func run(from: Timestamp, to: Timestamp, policies: [DecisionPolicy] = []) async throws(EngineError) -> Report {
        let logged = try await storeCall { () async throws(StoreError) in try await store.decisions(from: from, to: to) }
        var report = Report(
            from: from.rfc3339, to: to.rfc3339, decisions: logged.count, reproduced: 0, versions: [], maxScoreDifference: 0,
            differences: [])
        guard let first = logged.map(\.occurredAt).min(), let last = logged.map(\.occurredAt).max() else { return report }

        // One pass over the period's events per (model, policy) pair, in first-use order.
        var groups: [String: [LoggedDecision]] = [:], order: [(model: String, policy: String)] = []
        for decision in logged {
            let key = decision.modelId + "\u{1F}" + decision.policyVersion
            if groups[key] == nil { order.append((decision.modelId, decision.policyVersion)) }
            groups[key, default: []].append(decision)
        }
        // Every model is checked before any work: a changed one refuses the whole replay.
        var models: [String: ServingModel] = [:]
        for (modelId, _) in order where models[modelId] == nil { models[modelId] = try await verifiedModel(modelId) }
        var resolved: [String: DecisionPolicy] = [:]
        for (_, version) in order where resolved[version] == nil { resolved[version] = try await policy(version, given: policies) }
        // Events keep their JSON when a model's features or a policy's rules read outside the contract.
        let snapshot = try await SpecTable.snapshot(
            store, from: first, to: last.adding(milliseconds: 1), historyDays: historyDays,
            keepingJSON: models.values.contains { $0.extractor.needsJSON } || resolved.values.contains { $0.needsJSON })
        var index: [String: Int] = [:]
        for (position, event) in snapshot.events.enumerated() { if let id = event.id { index[id] = position } }
        // Retention may have removed events that this period's history reads: a decision within a
        // history window after the cutoff cannot be rebuilt, and is counted as such, not as a
        // difference.
        let prunedBefore = try await storeCall { () async throws(StoreError) in try await store.auditEntries() }
            .filter { $0.action == PruneReport.auditAction }.compactMap { $0.subject.flatMap(Timestamp.init(rfc3339:)) }.max()
        var historyHorizon: Timestamp? = nil
        if let prunedBefore, prunedBefore > first.adding(days: -historyDays) {
            report.prunedBefore = prunedBefore.rfc3339
            historyHorizon = prunedBefore.adding(days: historyDays)
        }
        for (modelId, policyVersion) in order {
            let decisions = groups[modelId + "\u{1F}" + policyVersion]!
            report.versions.append(Versions(modelId: modelId, policyVersion: policyVersion, decisions: decisions.count))
            guard let policy = resolved[policyVersion] else {
                report.differences += decisions.map {
                    Self.difference(
                        $0, replayed: nil,
                        reason: "decision policy version '\(policyVersion)' is not recorded in the store; give it with --policy")
                }
                continue
            }
            let scores = Self.rescore(decisions, model: models[modelId]!, policy: policy, snapshot: snapshot, index: index, logged: logged)
            for decision in decisions {
                guard let replayed = scores[decision.id] else {
                    report.differences.append(Self.difference(decision, replayed: nil, reason: "the event is no longer in the store"))
                    continue
                }
                let gap = abs(replayed.probability - decision.score)
                let differs = replayed.decision.rawValue != decision.decision || !(gap <= Self.scoreTolerance)
                if differs, let historyHorizon, decision.occurredAt < historyHorizon {
                    report.prunedHistory += 1
                    continue
                }
                report.maxScoreDifference = max(report.maxScoreDifference, gap)
                if replayed.decision.rawValue != decision.decision {
                    report.differences.append(Self.difference(decision, replayed: replayed, reason: "the decision differs"))
                } else if !(gap <= Self.scoreTolerance) {
                    report.differences.append(Self.difference(decision, replayed: replayed, reason: "the score differs by \(gap)"))
                } else {
                    report.reproduced += 1
                }
            }
        }
        return report
    }

    /// The scores `model` and `policy` give `decisions` (some of the period's `logged` ones), by
    /// decision id, with the history a serving scorer had: one scorer over the period's events in
    /// time order, or, when several replicas made the period's decisions, each replica's history
    /// rebuilt as it was (``replayReplicas(model:policy:snapshot:index:logged:)``). A decision
    /// whose event is no longer stored has no score.
    static func rescore(
        _ decisions: [LoggedDecision], model: ServingModel, policy: DecisionPolicy, snapshot: TrainingSnapshot, index: [String: Int],
        logged: [LoggedDecision]
    ) -> [Int64: RiskScore] {
        if Set(logged.map { $0.replica ?? "" }).count > 1 {
            return replayReplicas(model: model, policy: policy, snapshot: snapshot, index: index, logged: logged)
        }
        let scorer = Scorer(model: model, policy: policy)
        for label in snapshot.labelVersions { scorer.observe(label) }
        _ = scorer.score(snapshot.warmup)
        let all = scorer.score(snapshot.events)
        var scores: [Int64: RiskScore] = [:]
        for decision in decisions { if let position = index[decision.eventId] { scores[decision.id] = all[position] } }
        return scores
    }

    /// The scores `model` and `policy` give the period's decisions when several replicas made
    /// them, by decision id: each replica's history is rebuilt in the order it had it — the
    /// warm-up, the period's events no logged decision names, then its own decisions in log
    /// order, each preceded by the other replicas' decisions up to that decision's
    /// `history_position` (what its log follower had read). A decision without a recorded
    /// position (logged before migration v6) counts every decision logged before it.
    static func replayReplicas(
        model: ServingModel, policy: DecisionPolicy, snapshot: TrainingSnapshot, index: [String: Int], logged: [LoggedDecision]
    ) -> [Int64: RiskScore] {
        let inLog = logged.sorted { $0.id < $1.id }
        let decided = Set(inLog.map(\.eventId))
        var scores: [Int64: RiskScore] = [:]
        for replica in Set(inLog.map { $0.replica ?? "" }).sorted() {
            let scorer = Scorer(model: model, policy: policy)
            for label in snapshot.labelVersions { scorer.observe(label) }
            _ = scorer.score(snapshot.warmup)
            for event in snapshot.events where !decided.contains(event.id ?? "") { scorer.observe(event) }
            let others = inLog.filter { ($0.replica ?? "") != replica }
            var next = 0
            for decision in inLog where (decision.replica ?? "") == replica {
                let reached = decision.historyPosition ?? (decision.id - 1)
                while next < others.count, others[next].id <= reached {
                    if let position = index[others[next].eventId] { scorer.observe(snapshot.events[position]) }
                    next += 1
                }
                guard let position = index[decision.eventId] else { continue }
                scores[decision.id] = scorer.score(snapshot.events[position])
            }
        }
        return scores
    }

    /// The model, refused unless it is the artifact the registry recorded (``RiskStore/Store/verifiedModel(_:)``).
    func verifiedModel(_ id: String) async throws(EngineError) -> ServingModel {
        try await store.verifiedModel(id)
    }

    func policy(_ version: String, given: [DecisionPolicy]) async throws(EngineError) -> DecisionPolicy? {
        try await store.recordedPolicy(version) ?? given.first { $0.version == version }
    }

    static func difference(_ decision: LoggedDecision, replayed: RiskScore?, reason: String) -> Difference {
        Difference(
            decisionId: decision.id, eventId: decision.eventId, modelId: decision.modelId, policyVersion: decision.policyVersion,
            loggedScore: decision.score, loggedDecision: decision.decision, replayedScore: replayed?.probability,
            replayedDecision: replayed?.decision.rawValue, reason: reason)
    }
}

extension Store {
    /// Records `policy` (its canonical JSON) under its version; see ``recordPolicy(version:json:actor:)``.
    public func record(_ policy: DecisionPolicy, actor: String) async throws(EngineError) {
        try await storeCall { () async throws(StoreError) in
            try await recordPolicy(version: policy.version, json: policy.canonicalJSON, actor: actor)
        }
    }
}
