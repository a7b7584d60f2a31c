import Foundation
import RiskContract
import RiskFeatures
import RiskModels
import RiskScoring
import RiskStore

/// Replays stored events day by day through a live scorer while labels arrive and the feedback
/// loop retrains, beside a frozen copy of the starting champion: the experiment `riskloop demo`
/// runs to show that the loop adapts.
///
/// Each day, the label versions reported that day reach both scorers (fraud-rate features; each
/// counts from its own report time), the day's events are scored in time order by the adapting
/// scorer (the current champion) and by the frozen one, the adapting scorer's decisions are
/// logged in the store and the day's labels stored; finally a cycle runs at midnight if its
/// trigger holds, and a promoted challenger is hot-swapped into the adapting scorer. Ground
/// truth (which the engine never sees) only grades the weeks.
public struct FeedbackReplay: Sendable {
    /// One week of the replay, graded against ground truth.
    public struct Week: Sendable, Codable, Equatable {
        public var start: Timestamp
        public var events: Int
        public var fraud: Int
        /// Fraud events the adapting champion's decision did not allow.
        public var caught: Int
        /// Fraud events it allowed.
        public var missed: Int
        /// Genuine events it sent to review or blocked.
        public var falseAlarms: Int
        /// Fraud events the frozen model's decision allowed.
        public var frozenMissed: Int
        /// Average precision of the scores against ground truth, over every event of the week.
        public var adaptingAP: Double?
        public var frozenAP: Double?
        /// The champion at the end of the week.
        public var champion: String
        /// Cycles that promoted during the week.
        public var promotions: Int
        /// Review decisions (each opened a case for the analysts).
        public var reviews = 0
        /// Cases the simulated analyst resolved during the week.
        public var casesResolved = 0
        /// Cases still open at the end of the week.
        public var casesOpen = 0
        /// The median days from a fraud event of the week to its first label (an analyst's, a
        /// customer's report or a chargeback), one never labelled by the end of the replay counting
        /// as never; `nil` when half of them never were: how fast the loop hears of fraud.
        public var fraudLabelDays: Double?

        enum CodingKeys: String, CodingKey {
            case start, events, fraud, caught, missed, champion, promotions, reviews
            case falseAlarms = "false_alarms"
            case frozenMissed = "frozen_missed"
            case adaptingAP = "adapting_ap"
            case frozenAP = "frozen_ap"
            case casesResolved = "cases_resolved"
            case casesOpen = "cases_open"
            case fraudLabelDays = "fraud_label_days"
        }
    }

    public struct Report: Sendable, Codable {
        public var frozenId: String
        public var weeks: [Week]
        /// Every cycle that ran, in order.
        public var cycles: [RetrainCycleRecord]
        public var decisionsLogged: Int

        enum CodingKeys: String, CodingKey {
            case weeks, cycles
            case frozenId = "frozen_id"
            case decisionsLogged = "decisions_logged"
        }
    }

    public var loop: FeedbackLoop
    public var policy: DecisionPolicy

    public init(loop: FeedbackLoop, policy: DecisionPolicy) {
        self.loop = loop
        self.policy = policy
    }

    /// Replays `[from, to)`. The store must hold the events and a champion, and the label versions
    /// reported before `from`; `labels` are the versions reported later, which the replay stores as
    /// their day comes.
    ///
    /// - Parameters:
    ///   - isFraud: ground truth by event id, for grading only.
    ///   - decider: who makes the adapting decisions (default: a scorer in this process, warmed as
    ///     of `from`, and `loop`'s cycles); `riskloop demo --replicas` passes servers.
    ///   - analystDays: when given, a simulated analyst resolves each open review case with the
    ///     ground truth this many days after its event (through ``ReviewQueue``, a label version
    ///     of source `analyst`); cases of the last days stay open.
    ///   - arriving: the events of the period as they arrive, in time order, when the store does
    ///     not hold them yet (the decider stores each with its decision, as a server would):
    ///     `riskloop demo --operators` passes events that are completed only when decided.
    ///   - progress: told the end of each replayed day.
    public func run(
        from: Timestamp, to: Timestamp, labels: [Label], isFraud: [String: Bool], decider: (any ReplayDecider)? = nil,
        analystDays: Double? = nil, arriving: [(event: ParsedEvent, payload: String)]? = nil, progress: (Timestamp) -> Void = { _ in }
    ) async throws(EngineError) -> Report {
        let store = loop.store
        guard let champion = try await loop.champion() else {
            throw .invalidOptions(option: "--from", reason: "the replay starts from a champion and the store has none")
        }
        let frozen = Scorer(model: try Self.serving(champion), policy: policy)
        // History before the replay: events of the history window and the labels known at its start.
        try await frozen.warm(from: store, asOf: from, historyDays: loop.policy.historyDays)
        let adapting: any ReplayDecider
        if let decider {
            adapting = decider
        } else {
            let scorer = Scorer(model: try Self.serving(champion), policy: policy)
            try await store.record(policy, actor: loop.actor)
            try await scorer.warm(from: store, asOf: from, historyDays: loop.policy.historyDays)
            adapting = LocalDecider(loop: loop, scorer: scorer)
        }

        let pending = labels.filter { $0.reportedAt >= from && $0.reportedAt < to }.sorted { $0.reportedAt < $1.reportedAt }
        var nextLabel = 0
        var weeks: [Week] = []
        var weekScores: (adapting: [Double], frozen: [Double], truth: [Double]) = ([], [], [])
        var cycles: [RetrainCycleRecord] = []
        var logged = 0
        // When each event was first labelled, and each week's fraud events: how fast labels come.
        var firstLabel: [String: Timestamp] = [:]
        var weekFraud: [[(id: String, at: Timestamp)]] = []
        func heard(_ labels: [Label]) {
            for label in labels where firstLabel[label.eventId].map({ label.reportedAt < $0 }) ?? true {
                firstLabel[label.eventId] = label.reportedAt
            }
        }
        let queue = ReviewQueue(store: store)
        func closeWeek() async throws(EngineError) {
            guard var week = weeks.last else { return }
            week.adaptingAP = Metrics.averagePrecision(labels: weekScores.truth, scores: weekScores.adapting)
            week.frozenAP = Metrics.averagePrecision(labels: weekScores.truth, scores: weekScores.frozen)
            week.champion = await adapting.championId()
            week.casesOpen = try await queue.statistics().open
            weeks[weeks.count - 1] = week
            weekScores = ([], [], [])
        }

        var day = from
        while day < to {
            let next = min(day.adding(days: 1), to)
            if weeks.isEmpty || day >= weeks[weeks.count - 1].start.adding(days: 7) {
                try await closeWeek()
                weeks.append(
                    Week(
                        start: day, events: 0, fraud: 0, caught: 0, missed: 0, falseAlarms: 0, frozenMissed: 0, champion: "",
                        promotions: 0))
                weekFraud.append([])
            }
            // The analyst's resolutions due today reach the deciding history before the day's events,
            // each counting from its own time, as the day's other labels do.
            if let analystDays {
                let resolved = try await resolveDueCases(queue, before: next, afterDays: analystDays, isFraud: isFraud)
                weeks[weeks.count - 1].casesResolved += resolved.count
                heard(resolved)
                try await adapting.heard(resolved)
                for label in resolved { frozen.observe(label) }
            }
            let stored: [(event: ParsedEvent, payload: String)]
            if let arriving {
                stored = arriving.filter { item in item.event.time.map { day <= $0 && $0 < next } ?? false }
            } else {
                do {
                    stored = try await store.events(from: day, to: next, keepingJSON: true)
                } catch {
                    throw .store(error)
                }
            }
            let events = stored.map(\.event)
            // The day's label versions reach the scorers' history, each counting from its own report
            // time (plus the feature's delay) as it would for a scorer that heard of it then.
            var arrived: [Label] = []
            while nextLabel < pending.count, pending[nextLabel].reportedAt < next {
                arrived.append(pending[nextLabel])
                nextLabel += 1
            }
            for label in arrived { frozen.observe(label) }
            heard(arrived)
            let frozenScores = frozen.score(events)
            let decided = try await adapting.decide(stored, labels: arrived, day: day)
            guard decided.count == events.count else {
                throw .invalidOptions(
                    option: "--replicas", reason: "\(decided.count) decisions came back for \(events.count) events of \(day.rfc3339)")
            }
            var week = weeks[weeks.count - 1]
            for (index, score) in decided.enumerated() {
                let fraud = events[index].id.flatMap { isFraud[$0] } ?? false
                week.events += 1
                if score.decision == .review { week.reviews += 1 }
                if fraud {
                    week.fraud += 1
                    if let id = events[index].id, let time = events[index].time { weekFraud[weekFraud.count - 1].append((id, time)) }
                    if score.decision == .allow { week.missed += 1 } else { week.caught += 1 }
                    if frozenScores[index].decision == .allow { week.frozenMissed += 1 }
                } else if score.decision == .review || score.decision == .block {
                    week.falseAlarms += 1
                }
                weekScores.adapting.append(score.probability)
                weekScores.frozen.append(frozenScores[index].probability)
                weekScores.truth.append(fraud ? 1 : 0)
            }
            logged += decided.count
            if let cycle = try await adapting.midnight(next) {
                cycles.append(cycle)
                if cycle.outcome == .promoted { week.promotions += 1 }
            }
            weeks[weeks.count - 1] = week
            progress(next)
            day = next
        }
        try await closeWeek()
        for (index, fraud) in weekFraud.enumerated() {
            let days = fraud.map { event in
                firstLabel[event.id].map {
                    Double($0.millisecondsSinceEpoch - event.at.millisecondsSinceEpoch) / Double(Timestamp.millisecondsPerDay)
                } ?? .infinity
            }
            weeks[index].fraudLabelDays = UsualBehaviour.quantile(days.sorted(), 0.5).flatMap { $0.isFinite ? $0 : nil }
        }
        return Report(frozenId: champion.id, weeks: weeks, cycles: cycles, decisionsLogged: logged)
    }

    /// Resolves, with the ground truth, every open case whose event is `afterDays` or more older
    /// than `before`, as of its event's time plus `afterDays`: what a simulated analyst does.
    ///
    /// - Returns: the label versions the resolutions stored, in time order.
    func resolveDueCases(_ queue: ReviewQueue, before: Timestamp, afterDays: Double, isFraud: [String: Bool]) async throws(EngineError)
        -> [Label]
    {
        let due = try await queue.cases(CaseFilter(status: .open, limit: .max)).filter { $0.occurredAt.adding(days: afterDays) < before }
        var labels: [Label] = []
        for reviewCase in due.sorted(by: { ($0.occurredAt, $0.id) < ($1.occurredAt, $1.id) }) {
            let outcome: Outcome = isFraud[reviewCase.eventId] == true ? .fraud : .genuine
            let at = reviewCase.occurredAt.adding(days: afterDays)
            try await queue.resolve(
                reviewCase.id, outcome: outcome, note: "simulated analyst: the ground truth", actor: "demo-analyst", at: at)
            labels.append(Label(eventId: reviewCase.eventId, outcome: outcome, reportedAt: at, source: "analyst"))
        }
        return labels
    }

    public static func serving(_ artifact: ModelArtifact) throws(EngineError) -> ServingModel {
        do {
            return try ServingModel(artifact)
        } catch {
            throw .invalidOptions(option: "--model", reason: "\(artifact.id) cannot serve: \(error)")
        }
    }
}

/// One adapting decision of a replay: what grading needs.
public struct ReplayDecision: Sendable, Equatable {
    public var probability: Double
    public var decision: Decision

    public init(probability: Double, decision: Decision) {
        self.probability = probability
        self.decision = decision
    }
}

/// The adapting side of a ``FeedbackReplay``: it decides each day's events and logs the decisions,
/// hears and stores the day's label versions, and runs the retraining cycle each midnight.
public protocol ReplayDecider: Sendable {
    /// The champion deciding now.
    func championId() async -> String

    /// Decides one day's `events` (in time order) with history that holds `labels` (the label
    /// versions reported that day, each counting from its own report time); logs the decisions and
    /// stores the labels.
    ///
    /// - Returns: one decision per event, in order.
    func decide(_ events: [(event: ParsedEvent, payload: String)], labels: [Label], day: Timestamp) async throws(EngineError)
        -> [ReplayDecision]

    /// Label versions stored elsewhere (an analyst's resolutions) that the deciding history must
    /// learn, each counting from its own report time.
    func heard(_ labels: [Label]) async throws(EngineError)

    /// Runs a retraining cycle at `asOf` when its trigger holds; a promoted challenger decides from
    /// then on.
    ///
    /// - Returns: the cycle's record, or `nil` when none ran.
    func midnight(_ asOf: Timestamp) async throws(EngineError) -> RetrainCycleRecord?
}

/// The replay's decisions made in this process: one scorer, its decisions logged with the event's
/// time as their decision time.
struct LocalDecider: ReplayDecider {
    var loop: FeedbackLoop
    var scorer: Scorer

    func championId() async -> String { scorer.model.artifact.id }

    func decide(_ events: [(event: ParsedEvent, payload: String)], labels: [Label], day: Timestamp) async throws(EngineError)
        -> [ReplayDecision]
    {
        for label in labels { scorer.observe(label) }
        let scores = scorer.score(events.map(\.event))
        var decisions: [DecisionRecord] = []
        decisions.reserveCapacity(events.count)
        for (index, score) in scores.enumerated() {
            guard let typed = events[index].event.event else { continue }
            decisions.append(
                DecisionRecord(
                    event: typed, payload: events[index].payload, decidedAt: typed.occurredAt, modelId: score.modelId,
                    policyVersion: score.policyVersion, score: score.probability, decision: score.decision.rawValue,
                    reasons: score.reasonsJSON))
        }
        do {
            try await loop.store.log(decisions)
            // ...and the store, for the next retraining cycle.
            _ = try await loop.store.ingest(labels: labels, source: "replay \(day.rfc3339)")
        } catch {
            throw .store(error)
        }
        return scores.map { ReplayDecision(probability: $0.probability, decision: $0.decision) }
    }

    func heard(_ labels: [Label]) async throws(EngineError) {
        for label in labels { scorer.observe(label) }
    }

    func midnight(_ asOf: Timestamp) async throws(EngineError) -> RetrainCycleRecord? {
        guard case .ran(let cycle) = try await loop.runCycle(asOf: asOf) else { return nil }
        if cycle.record.outcome == .promoted { scorer.swap(to: try FeedbackReplay.serving(cycle.challenger)) }
        return cycle.record
    }
}
