import Foundation
import RiskContract
import RiskFeatures
import RiskModels
import RiskScoring
import RiskStore

/// Re-decides every logged decision of a period with a candidate model and/or policy (the other as
/// logged), in time order with the history a serving scorer had (as ``DecisionReplay`` does), and
/// compares both against the labels known now (`riskloop backtest`, `POST /v1/backtests`).
///
/// Caught: labelled fraud not allowed. Missed: labelled fraud allowed. False alarm: not labelled
/// fraud and reviewed or blocked. An event without a label counts as genuine.
///
/// ```swift
/// let report = try await Backtest(store: store).run(from: start, to: end, candidate: .init(policy: stricter))
/// report.candidate.fraudCaught - report.logged.fraudCaught
/// ```
public struct Backtest: Sendable {
    public var store: any Store
    public var historyDays: Double

    public init(store: any Store, historyDays: Double = RetrainPolicy().historyDays) {
        self.store = store
        self.historyDays = historyDays
    }

    /// What replaces the logged versions: a model, a policy, or both (at least one).
    public struct Candidate: Sendable {
        public var model: ServingModel?
        public var policy: DecisionPolicy?

        public init(model: ServingModel? = nil, policy: DecisionPolicy? = nil) {
            self.model = model
            self.policy = policy
        }
    }

    /// One side's outcomes over a period.
    public struct Summary: Sendable, Codable, Equatable {
        public var fraudCaught = 0
        public var fraudCaughtAmount = 0.0
        public var fraudMissed = 0
        public var fraudMissedAmount = 0.0
        public var falseAlarms = 0
        /// Decisions that asked the customer for a second factor: friction.
        public var stepUps = 0
        /// Review decisions a day: the analysts' load.
        public var reviewsPerDay = 0.0

        public init() {}

        enum CodingKeys: String, CodingKey {
            case fraudCaught = "fraud_caught"
            case fraudCaughtAmount = "fraud_caught_amount"
            case fraudMissed = "fraud_missed"
            case fraudMissedAmount = "fraud_missed_amount"
            case falseAlarms = "false_alarms"
            case stepUps = "step_ups"
            case reviewsPerDay = "reviews_per_day"
        }

        /// The summary of `outcomes` over `days` days.
        static func of(_ outcomes: some Sequence<(decision: Decision, fraud: Bool, amount: Double)>, days: Double) -> Summary {
            var summary = Summary()
            var reviews = 0
            for outcome in outcomes {
                switch (outcome.fraud, outcome.decision) {
                case (true, .allow):
                    summary.fraudMissed += 1
                    summary.fraudMissedAmount += outcome.amount
                case (true, _):
                    summary.fraudCaught += 1
                    summary.fraudCaughtAmount += outcome.amount
                case (false, .review), (false, .block): summary.falseAlarms += 1
                case (false, _): break
                }
                if outcome.decision == .stepUp { summary.stepUps += 1 }
                if outcome.decision == .review { reviews += 1 }
            }
            summary.reviewsPerDay = days > 0 ? Double(reviews) / days : 0
            return summary
        }
    }

    /// A rule of the candidate's policy: the events whose condition held (whether or not it
    /// changed the decision), and the share of them labelled fraud (`null` without hits).
    public struct RuleHits: Sendable, Codable, Equatable {
        public var name: String
        public var hits: Int
        public var fraud: Int
        @NullEncoded public var precision: Double?
    }

    /// An event whose decision would change.
    public struct Change: Sendable, Codable, Equatable {
        public var eventId: String
        public var occurredAt: Timestamp
        @NullEncoded public var amount: Double?
        /// The label known now, `null` when there is none (counted as genuine).
        @NullEncoded public var label: String?
        public var loggedDecision: String
        public var candidateDecision: String
        public var loggedScore: Double
        public var candidateScore: Double

        enum CodingKeys: String, CodingKey {
            case amount, label
            case eventId = "event_id"
            case occurredAt = "occurred_at"
            case loggedDecision = "logged_decision"
            case candidateDecision = "candidate_decision"
            case loggedScore = "logged_score"
            case candidateScore = "candidate_score"
        }
    }

    /// The two sides over one week of the period (the last one may be shorter).
    public struct Week: Sendable, Codable, Equatable {
        public var start: Timestamp
        public var days: Double
        public var logged: Summary
        public var candidate: Summary
    }

    public struct Report: Sendable, Codable, Equatable {
        public var from: Timestamp
        public var to: Timestamp
        public var days: Double
        /// The candidate's model id and policy version; `null`: as logged.
        @NullEncoded public var model: String?
        @NullEncoded public var policy: String?
        public var decisions: Int
        /// Logged decisions whose event is no longer stored (retention): in neither side.
        public var eventsMissing: Int
        public var labelsKnownAt: Timestamp
        /// Says how an event without a label is counted.
        public var note = "unlabelled events count as genuine"
        public var logged: Summary
        public var candidate: Summary
        public var rules: [RuleHits]
        public var changed: [Change]
        public var weeks: [Week]

        enum CodingKeys: String, CodingKey {
            case from, to, days, model, policy, decisions, note, logged, candidate, rules, changed, weeks
            case eventsMissing = "events_missing"
            case labelsKnownAt = "labels_known_at"
        }
    }

    /// Backtests the decisions logged in [`from`, `to`) (by decision time, as replay reads them)
    /// against `candidate`, with the labels known at `labelsKnownAt` (default: now).
    ///
    /// - Throws: ``EngineError/invalidOptions(option:reason:)`` without a candidate;
    ///   ``EngineError/model(_:)`` when a logged model fails its checks.
    public func run(from: Timestamp, to: Timestamp, candidate: Candidate, labelsKnownAt: Timestamp? = nil) async throws(EngineError)
        -> Report
    {
        guard candidate.model != nil || candidate.policy != nil else {
            throw .invalidOptions(option: "candidate", reason: "give a model, a policy or both to compare with what was decided")
        }
        let knownAt = labelsKnownAt ?? Timestamp(millisecondsSinceEpoch: Int64(Date().timeIntervalSince1970 * 1000))
        // A period that does not end after it starts holds no decision.
        let days = Double(max(0, to.millisecondsSinceEpoch - from.millisecondsSinceEpoch)) / Double(Timestamp.millisecondsPerDay)
        let logged = try await storeCall { () async throws(StoreError) in try await store.decisions(from: from, to: to) }
        let labels = try await storeCall { () async throws(StoreError) in try await store.labels(knownAt: knownAt) }
        var report = Report(
            from: from, to: to, days: days, model: candidate.model?.artifact.id, policy: candidate.policy?.version, decisions: logged.count,
            eventsMissing: 0, labelsKnownAt: knownAt, logged: Summary(), candidate: Summary(), rules: [], changed: [], weeks: [])
        guard let first = logged.map(\.occurredAt).min(), let last = logged.map(\.occurredAt).max() else { return report }

        // The logged versions, checked as replay checks them; then the candidate's pairs.
        let replay = DecisionReplay(store: store, historyDays: historyDays)
        var models: [String: ServingModel] = [:]
        var policies: [String: DecisionPolicy] = [:]
        for decision in logged {
            if candidate.model == nil, models[decision.modelId] == nil {
                models[decision.modelId] = try await replay.verifiedModel(decision.modelId)
            }
            if candidate.policy == nil, policies[decision.policyVersion] == nil {
                guard let policy = try await replay.policy(decision.policyVersion, given: []) else {
                    throw .store(.notFound(what: "decision policy \(decision.policyVersion) (logged with decision \(decision.id))"))
                }
                policies[decision.policyVersion] = policy
            }
        }
        if let model = candidate.model { models[model.artifact.id] = model }
        if let policy = candidate.policy { policies[policy.version] = policy }
        let snapshot = try await SpecTable.snapshot(
            store, from: first, to: last.adding(milliseconds: 1), historyDays: historyDays,
            keepingJSON: models.values.contains { $0.extractor.needsJSON } || policies.values.contains { $0.needsJSON })
        var index: [String: Int] = [:]
        for (position, event) in snapshot.events.enumerated() { if let id = event.id { index[id] = position } }

        var groups: [String: [LoggedDecision]] = [:]
        func pair(_ decision: LoggedDecision) -> (model: String, policy: String) {
            (candidate.model?.artifact.id ?? decision.modelId, candidate.policy?.version ?? decision.policyVersion)
        }
        for decision in logged { groups[pair(decision).model + "\u{1F}" + pair(decision).policy, default: []].append(decision) }
        var scores: [Int64: RiskScore] = [:]
        for decisions in groups.values {
            let (model, policy) = pair(decisions[0])
            scores.merge(
                DecisionReplay.rescore(
                    decisions, model: models[model]!, policy: policies[policy]!, snapshot: snapshot, index: index, logged: logged)
            ) { $1 }
        }

        // Both sides, decision by decision, in time order; each policy's rules compiled once.
        let matchers = policies.mapValues(DecisionPolicy.RuleMatcher.init)
        var rows: [(occurredAt: Timestamp, fraud: Bool, amount: Double, logged: Decision, candidate: Decision)] = []
        var hits: [String: (hits: Int, fraud: Int)] = [:]
        var ruleOrder: [String] = []
        for policy in policies.values.sorted(by: { $0.version < $1.version }) where candidate.policy == nil || policy == candidate.policy {
            for rule in policy.rules where hits[rule.name] == nil {
                hits[rule.name] = (0, 0)
                ruleOrder.append(rule.name)
            }
        }
        for decision in logged.sorted(by: { ($0.occurredAt, $0.id) < ($1.occurredAt, $1.id) }) {
            guard let score = scores[decision.id], let position = index[decision.eventId],
                let loggedDecision = Decision(rawValue: decision.decision)
            else {
                report.eventsMissing += 1
                continue
            }
            let event = snapshot.events[position]
            let label = labels[decision.eventId]?.outcome
            let fraud = label == .fraud
            let amount = event.event?.amount
            rows.append((decision.occurredAt, fraud, amount ?? 0, loggedDecision, score.decision))
            for name in matchers[pair(decision).policy]!.matching(event) {
                hits[name, default: (0, 0)].hits += 1
                if fraud { hits[name, default: (0, 0)].fraud += 1 }
            }
            if score.decision != loggedDecision {
                report.changed.append(
                    Change(
                        eventId: decision.eventId, occurredAt: decision.occurredAt, amount: amount, label: label?.rawValue,
                        loggedDecision: decision.decision, candidateDecision: score.decision.rawValue, loggedScore: decision.score,
                        candidateScore: score.probability))
            }
        }
        report.logged = Summary.of(rows.lazy.map { ($0.logged, $0.fraud, $0.amount) }, days: days)
        report.candidate = Summary.of(rows.lazy.map { ($0.candidate, $0.fraud, $0.amount) }, days: days)
        report.rules = ruleOrder.map { name in
            let counts = hits[name]!
            return RuleHits(
                name: name, hits: counts.hits, fraud: counts.fraud,
                precision: counts.hits > 0 ? Double(counts.fraud) / Double(counts.hits) : nil)
        }
        // Weeks from the period's start; reviews a day over each week's own days.
        var weekStart = from
        while weekStart < to {
            let weekEnd = min(weekStart.adding(days: 7), to)
            let week = rows.filter { $0.occurredAt >= weekStart && $0.occurredAt < weekEnd }
            let weekDays = Double(weekEnd.millisecondsSinceEpoch - weekStart.millisecondsSinceEpoch) / Double(Timestamp.millisecondsPerDay)
            report.weeks.append(
                Week(
                    start: weekStart, days: weekDays,
                    logged: Summary.of(week.lazy.map { ($0.logged, $0.fraud, $0.amount) }, days: weekDays),
                    candidate: Summary.of(week.lazy.map { ($0.candidate, $0.fraud, $0.amount) }, days: weekDays)))
            weekStart = weekEnd
        }
        return report
    }
}
