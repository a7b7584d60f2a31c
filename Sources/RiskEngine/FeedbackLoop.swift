import Foundation
import RiskContract
import RiskFeatures
import RiskModels
import RiskStore

/// One retraining cycle of the feedback loop (ARCHITECTURE.md §7) over the store: the trigger,
/// the point-in-time training set, the challenger, the gate against the champion on the same
/// out-of-time holdout, and the atomic promotion.
///
/// ```swift
/// let loop = FeedbackLoop(store: store, policy: policy, actor: "nightly")
/// if case .ran(let cycle) = try loop.runCycle(asOf: now) { print(cycle.record.outcome) }
/// ```
///
/// What a cycle may know is fixed by its cutoff `asOf`: events that occurred before it, and label
/// versions reported at or before it (each event's latest such version is its label). Features
/// see only what was known at each event's own time. The holdout is the labelled events of the
/// last ``RetrainPolicy/holdoutDays`` before the cutoff; the challenger trains on the labelled
/// events before that within ``RetrainPolicy/windowDays``.
///
/// The cycle writes nothing until its end, where one transaction registers the challenger, promotes
/// it if it passed the gate and the champion is still the one it was compared with, and records
/// the cycle: a crash at any point leaves the registry as it was, and of two cycles run at once
/// at most one promotes. Labels stored after the cycle's snapshot count towards the next trigger.
public struct FeedbackLoop: Sendable {
    public let store: Store
    public var policy: RetrainPolicy
    /// The spec challengers are built with; `nil` takes the champion's (its statistics refitted).
    public var spec: FeatureSpec?
    /// Who runs the cycle, for the registry and the audit log.
    public var actor: String

    public init(store: Store, policy: RetrainPolicy, spec: FeatureSpec? = nil, actor: String) {
        self.store = store
        self.policy = policy
        self.spec = spec
        self.actor = actor
    }

    /// The steps of a cycle, in order, as reported to `progress`.
    public enum Stage: String, Sendable, Codable, CaseIterable {
        case snapshot, features, train, evaluate, commit
    }

    /// A cycle that ran to its end.
    public struct Cycle: Sendable {
        public var record: RetrainCycleRecord
        public var challenger: ModelArtifact
        public var detail: CycleDetail
    }

    public enum CycleResult: Sendable {
        /// The trigger did not hold; nothing was read or written beyond the check.
        case skipped(reason: String)
        case ran(Cycle)
    }

    /// What a cycle records beside its outcome (the `detail` of its record, as JSON).
    public struct CycleDetail: Sendable, Codable, Equatable {
        public struct Evaluated: Sendable, Codable, Equatable {
            public var id: String
            public var algorithm: String
            /// On the cycle's holdout.
            public var holdout: BinaryMetrics?
        }
        public var trigger: String
        public var asOf: Timestamp
        public var windowStart: Timestamp
        public var holdoutStart: Timestamp
        public var trainRows: Int
        public var holdoutRows: Int
        public var holdoutFraud: Int
        public var challenger: Evaluated
        /// Challengers of the other configured algorithms, which lost to ``challenger`` on holdout AP.
        public var alternatives: [Evaluated]
        public var champion: Evaluated?
        public var apMargin: Double
        public var aucMargin: Double
        /// Seconds per stage, in ``Stage`` order.
        public var stageSeconds: [String: Double]

        enum CodingKeys: String, CodingKey {
            case trigger, challenger, alternatives, champion
            case asOf = "as_of"
            case windowStart = "window_start"
            case holdoutStart = "holdout_start"
            case trainRows = "train_rows"
            case holdoutRows = "holdout_rows"
            case holdoutFraud = "holdout_fraud"
            case apMargin = "ap_margin"
            case aucMargin = "auc_margin"
            case stageSeconds = "stage_seconds"
        }
    }

    /// The champion's artifact, if there is a champion.
    public func champion() async throws(EngineError) -> ModelArtifact? {
        guard let id = try await storeCall({ () async throws(StoreError) in try await store.championId() }) else { return nil }
        return try await store.verifiedArtifact(id)
    }

    /// Why a cycle is due at `asOf`, or `nil` when no trigger holds.
    public func dueReason(asOf: Timestamp) async throws(EngineError) -> String? {
        try await dueReason(asOf: asOf, champion: try await champion())
    }

    /// - Parameter drift: also check the score PSI, which reads the recent events when too few
    ///   decisions are logged.
    func dueReason(asOf: Timestamp, champion: ModelArtifact?, drift: Bool = true) async throws(EngineError) -> String? {
        guard let champion else { return "no champion yet" }
        let last = try await storeCall { () async throws(StoreError) in try await store.lastCycle() }
        if let minimum = policy.minNewLabels {
            let fresh = try await storeCall { () async throws(StoreError) in
                try await store.labelVersionCount(after: last?.labelHighWater ?? 0)
            }
            if fresh >= minimum { return "\(fresh) new label versions (at least \(minimum))" }
        }
        if let hours = policy.intervalHours {
            let since = last?.asOf ?? champion.training.windowEnd ?? champion.createdAt
            let elapsed = Double(asOf.millisecondsSinceEpoch - since.millisecondsSinceEpoch) / 3_600_000
            if elapsed >= hours {
                return String(
                    format: "%.1f h since %@ (at least %.1f h)", elapsed, last == nil ? "the champion's data" : "the last cycle", hours)
            }
        }
        if drift, let threshold = policy.psiThreshold, let psi = try await scorePSI(of: champion, asOf: asOf), psi >= threshold {
            return String(format: "score PSI %.3f over the last %.0f days (at least %.3f)", psi, policy.driftDays, threshold)
        }
        return nil
    }

    /// The least number of logged decisions the score PSI is read from; with fewer, the score
    /// is recomputed from the stored events.
    public static let minimumLoggedScores = 500

    /// PSI of a model's score between its training rows and the last ``RetrainPolicy/driftDays``
    /// before `asOf`: from the scores its logged decisions carry when there are enough of them
    /// (what it really served, and cheap), else recomputed from the stored events.
    public func scorePSI(of model: ModelArtifact, asOf: Timestamp) async throws(EngineError) -> Double? {
        guard let reference = model.drift else { return nil }
        let logged = try await storeCall { () async throws(StoreError) in
            try await store.decisionScores(modelId: model.id, from: asOf.adding(days: -policy.driftDays), to: asOf)
        }
        if logged.count >= Self.minimumLoggedScores { return reference.scorePSI(logged) }
        return try await drift(of: model, asOf: asOf)?.score
    }

    /// PSI of a model's score and columns between its training rows and the events of the last
    /// ``RetrainPolicy/driftDays`` before `asOf`; `nil` when the model has no drift reference or
    /// spec, or there is no recent traffic.
    public func drift(of model: ModelArtifact, asOf: Timestamp) async throws(EngineError) -> DriftReport? {
        guard let reference = model.drift, let spec = SpecTable.spec(of: model) else { return nil }
        let from = asOf.adding(days: -policy.driftDays)
        let snapshot = try await SpecTable.snapshot(
            store, from: from, to: asOf, historyDays: policy.historyDays, keepingJSON: Self.needsJSON(spec))
        guard !snapshot.events.isEmpty else { return nil }
        let (table, _) = try SpecTable.build(
            events: snapshot.events, warmup: snapshot.warmup, outcome: Array(repeating: 0, count: snapshot.events.count),
            labelVersions: snapshot.labelVersions, spec: spec, pipeline: nil, source: "store")
        return reference.report(columnNames: model.columns, features: table.features, scores: model.probabilities(table.features))
    }

    /// Runs one cycle at cutoff `asOf` if a trigger holds (always with `force`).
    ///
    /// A forced cycle names the label and interval triggers that also hold in its trigger text,
    /// but does not compute the score PSI for it.
    ///
    /// - Parameter progress: told when each stage starts.
    ///
    /// One cycle at a time runs on a store, whichever process asks (``RiskStore/StoreLock/retraining``):
    /// while another holds the lock, this one is skipped and says so, and picks up that cycle's
    /// champion through the registry.
    public func runCycle(asOf: Timestamp, force: Bool = false, progress: (Stage) async -> Void = { _ in }) async throws(EngineError)
        -> CycleResult
    {
        let outcome = try await storeCall { () async throws(StoreError) in
            try await store.exclusively(.retraining) { () async -> Result<CycleResult, EngineError> in
                do throws(EngineError) {
                    return .success(try await cycle(asOf: asOf, force: force, progress: progress))
                } catch {
                    return .failure(error)
                }
            }
        }
        guard let outcome else { return .skipped(reason: Self.anotherCycleRuns) }
        return try outcome.get()
    }

    /// Why a cycle is skipped while another process runs one on the same store.
    public static let anotherCycleRuns = "another process is running a retraining cycle on this store"

    /// ``runCycle(asOf:force:progress:)`` with the retraining lock held.
    private func cycle(asOf: Timestamp, force: Bool, progress: (Stage) async -> Void) async throws(EngineError) -> CycleResult {
        let started = Timestamp(millisecondsSinceEpoch: Int64(Date().timeIntervalSince1970 * 1000))
        let champion = try await champion()
        let reason = try await dueReason(asOf: asOf, champion: champion, drift: !force)
        guard force || reason != nil else {
            if policy.naiveBayesOnline, let champion, champion.algorithm == .naiveBayes,
                let cycle = try await absorbNewLabels(into: champion, asOf: asOf, started: started)
            {
                return .ran(cycle)
            }
            return .skipped(reason: "no trigger holds")
        }
        let trigger = reason.map { force ? "forced (also due: \($0))" : $0 } ?? "forced"
        guard let spec = spec ?? champion.flatMap(SpecTable.spec(of:)) else {
            throw .invalidOptions(
                option: "--spec",
                reason: champion == nil
                    ? "there is no champion yet: name the feature spec to train the first model with"
                    : "the champion was not trained through a feature spec: name one")
        }
        var seconds: [String: Double] = [:]
        var current: (stage: Stage, since: Date)? = nil
        func enter(_ stage: Stage?) async {
            let now = Date()
            if let current { seconds[current.stage.rawValue] = now.timeIntervalSince(current.since) }
            current = stage.map { ($0, now) }
            if let stage { await progress(stage) }
        }

        // 1. One snapshot of the store.
        await enter(.snapshot)
        let windowStart = asOf.adding(days: -policy.windowDays), holdoutStart = asOf.adding(days: -policy.holdoutDays)
        let needsJSON = Self.needsJSON(spec) || (champion.flatMap(SpecTable.spec(of:)).map(Self.needsJSON) ?? false)
        let snapshot = try await SpecTable.snapshot(
            store, from: windowStart, to: asOf, historyDays: policy.historyDays, keepingJSON: needsJSON)
        let outcome = SpecTable.outcomeValues(snapshot.outcomes)

        // 2. The challengers' rows (statistics fitted before the holdout) and the champion's.
        await enter(.features)
        var pipeline = TrainingPipeline(algorithm: .logisticRegression)
        pipeline.holdout = .after(holdoutStart)
        pipeline.logisticRegression = policy.logisticRegression
        pipeline.naiveBayes = policy.naiveBayes
        var (table, _) = try SpecTable.build(
            events: snapshot.events, warmup: snapshot.warmup, outcome: outcome, labelVersions: snapshot.labelVersions, spec: spec,
            pipeline: pipeline, source: SpecTable.storeSource(from: windowStart, to: asOf))
        table.labelsKnownAt = asOf
        var championTable: LabelledTable? = nil
        if let champion, let championSpec = SpecTable.spec(of: champion) {
            championTable =
                championSpec == spec && table.featureSpec == champion.featureSpec
                ? table
                : try SpecTable.build(
                    events: snapshot.events, warmup: snapshot.warmup, outcome: outcome, labelVersions: snapshot.labelVersions,
                    spec: championSpec, pipeline: nil, source: "store"
                ).table
        }
        let times = table.times ?? []
        let holdoutRows = (times.firstIndex { $0 >= holdoutStart } ?? times.count)..<times.count
        guard holdoutRows.lowerBound > 0 else {
            throw .badInput(
                file: "store", line: nil, column: nil,
                reason: "no labelled event before the holdout (\(holdoutStart.rfc3339)) in the window from \(windowStart.rfc3339)")
        }

        // 3. A challenger per configured algorithm.
        await enter(.train)
        var challengers: [ModelArtifact] = []
        for algorithm in policy.algorithms {
            var trainer = pipeline
            trainer.algorithm = algorithm
            if algorithm == .logisticRegression, policy.warmStart, let champion, champion.algorithm == .logisticRegression,
                champion.columns == table.columns
            {
                trainer.warmStart = champion
            }
            challengers.append(try trainer.train(table, now: asOf))
        }

        // 4. Every model on the same holdout rows.
        await enter(.evaluate)
        let holdoutLabels = Array(table.labels![holdoutRows])
        func evaluate(_ model: ModelArtifact, on rows: LabelledTable) -> CycleDetail.Evaluated {
            let features = rows.features.rows(holdoutRows)
            let metrics =
                holdoutRows.isEmpty
                ? nil
                : Metrics.evaluate(labels: holdoutLabels, probabilities: model.probabilities(features), thresholds: [0.5], topK: [100])
            return .init(id: model.id, algorithm: model.algorithm.rawValue, holdout: metrics)
        }
        let ranked = challengers.map { ($0, evaluate($0, on: table)) }.sorted {
            ($0.1.holdout?.averagePrecision ?? -1) > ($1.1.holdout?.averagePrecision ?? -1)
        }
        var (challenger, challengerMetrics) = ranked[0]
        // Signed here, so that the artifact the cycle returns is the one the registry holds.
        try DeploymentKeys.sign(&challenger)
        var championMetrics: CycleDetail.Evaluated? = nil
        if let champion, let championTable { championMetrics = evaluate(champion, on: championTable) }
        let (promote, gateReason) = gate(challenger: challengerMetrics, champion: champion, championMetrics: championMetrics)

        // 5. One transaction: register, promote or reject, record.
        await enter(.commit)
        var detail = CycleDetail(
            trigger: trigger, asOf: asOf, windowStart: windowStart, holdoutStart: holdoutStart, trainRows: holdoutRows.lowerBound,
            holdoutRows: holdoutRows.count, holdoutFraud: holdoutLabels.filter { $0 == 1 }.count, challenger: challengerMetrics,
            alternatives: ranked.dropFirst().map { $0.1 }, champion: championMetrics, apMargin: policy.apMargin,
            aucMargin: policy.aucMargin,
            stageSeconds: seconds)
        let draft = RetrainCycleRecord(
            startedAt: started, finishedAt: started, asOf: asOf, actor: actor, trigger: trigger, labelHighWater: snapshot.labelHighWater,
            championId: champion?.id, challengerId: challenger.id, outcome: promote ? .promoted : .rejected, reason: gateReason,
            detail: Self.json(detail))
        let registration = try ModelRegistration(challenger)
        let record = try await storeCall { () async throws(StoreError) in
            try await store.finishCycle(draft, challenger: registration, promote: promote)
        }
        await enter(nil)
        detail.stageSeconds = seconds
        return .ran(Cycle(record: record, challenger: challenger, detail: detail))
    }

    /// Naive Bayes online: the events whose first label was reported after the champion's label
    /// cutoff (``ModelArtifact/TrainingLineage/labelsKnownAt``) and by `asOf` are
    /// added to the champion by a partial fit, which equals a fit on all of its data; the result
    /// becomes champion (compare-and-set on the champion, recorded as a cycle). Label versions
    /// that change an earlier label cannot be taken back out of the counts: they wait for the
    /// next full cycle, which trains from scratch.
    ///
    /// - Returns: `nil` when there is nothing new to absorb.
    func absorbNewLabels(into champion: ModelArtifact, asOf: Timestamp, started: Timestamp) async throws(EngineError) -> Cycle? {
        guard var model = champion.naiveBayes, let spec = SpecTable.spec(of: champion) else { return nil }
        guard let knownAt = champion.training.labelsKnownAt, knownAt < asOf else { return nil }
        let clock = Date()
        let versions = try await storeCall { () async throws(StoreError) in
            try await store.labelVersions(reportedAfter: knownAt, through: asOf)
        }
        var outcome: [String: Double] = [:]
        for (label, wasLabelled) in versions where !wasLabelled { outcome[label.eventId] = label.outcome == .fraud ? 1 : 0 }
        guard !outcome.isEmpty else { return nil }
        // The labelled events' rows as of their time: history from before the earliest of them.
        let earliest = try await storeCall { () async throws(StoreError) in try await store.earliestEventTime(of: Array(outcome.keys)) }
        guard let earliest else { return nil }
        let snapshot = try await SpecTable.snapshot(
            store, from: earliest, to: asOf, historyDays: policy.historyDays, keepingJSON: Self.needsJSON(spec))
        let (table, _) = try SpecTable.build(
            events: snapshot.events, warmup: snapshot.warmup, outcome: snapshot.events.map { $0.id.flatMap { outcome[$0] } },
            labelVersions: snapshot.labelVersions, spec: spec, pipeline: nil, source: "store: online update")
        let data: TrainingData
        do {
            data = try TrainingData(features: table.features, labels: table.labels!, columns: table.columns)
            try model.partialFit(data)
        } catch {
            throw .model(error)
        }
        var lineage = champion.training
        let positives = data.labels.reduce(0, +)
        lineage.source = "online update of \(champion.id): +\(data.rowCount) labelled events (partial fit), labels known at \(asOf.rfc3339)"
        lineage.rows += data.rowCount
        lineage.positives += positives
        lineage.totalWeight += Double(data.rowCount)
        lineage.dataSHA256 = data.sha256
        lineage.labelsKnownAt = asOf
        lineage.durationSeconds = Date().timeIntervalSince(clock)
        var updated = ModelArtifact(
            algorithm: .naiveBayes, createdAt: asOf, featureSpec: champion.featureSpec, columns: champion.columns, naiveBayes: model,
            calibration: champion.calibration, hyperparameters: champion.hyperparameters, training: lineage,
            metrics: .init(holdout: nil), parentId: champion.id, drift: champion.drift)
        try DeploymentKeys.sign(&updated)
        let trigger = "\(data.rowCount) newly labelled events for the naive Bayes champion (online)"
        let skipped = versions.count - outcome.count
        let reason =
            "naive Bayes absorbed \(data.rowCount) labelled events (\(Int(positives)) fraud) by partial fit"
            + (skipped > 0 ? "; \(skipped) versions of earlier labels wait for the next full cycle" : "")
        let detail = CycleDetail(
            trigger: trigger, asOf: asOf, windowStart: earliest, holdoutStart: asOf, trainRows: data.rowCount, holdoutRows: 0,
            holdoutFraud: 0, challenger: .init(id: updated.id, algorithm: updated.algorithm.rawValue, holdout: nil), alternatives: [],
            champion: .init(id: champion.id, algorithm: champion.algorithm.rawValue, holdout: nil), apMargin: policy.apMargin,
            aucMargin: policy.aucMargin, stageSeconds: ["online": Date().timeIntervalSince(clock)])
        // Absorbed labels still count towards the next full cycle's label trigger.
        let highWater = try await storeCall { () async throws(StoreError) in try await store.lastCycle()?.labelHighWater ?? 0 }
        let draft = RetrainCycleRecord(
            startedAt: started, finishedAt: started, asOf: asOf, actor: actor, trigger: trigger, labelHighWater: highWater,
            championId: champion.id, challengerId: updated.id, outcome: .promoted, reason: reason, detail: Self.json(detail))
        let registration = try ModelRegistration(updated)
        let record = try await storeCall { () async throws(StoreError) in
            try await store.finishCycle(draft, challenger: registration, promote: true)
        }
        return Cycle(record: record, challenger: updated, detail: detail)
    }

    /// The gate: promote unless the challenger is worse than the champion by more than the
    /// margins on AP or ROC AUC on the same holdout.
    func gate(challenger: CycleDetail.Evaluated, champion: ModelArtifact?, championMetrics: CycleDetail.Evaluated?) -> (Bool, String) {
        guard champion != nil else { return (true, "first champion: there was none") }
        guard let championMetrics else {
            return (false, "the champion was not trained through a feature spec, so it cannot be scored on the holdout; promote by hand")
        }
        guard let new = challenger.holdout, let newAP = new.averagePrecision, let newAUC = new.rocAUC,
            let old = championMetrics.holdout, let oldAP = old.averagePrecision, let oldAUC = old.rocAUC
        else { return (false, "the holdout has no fraud label or no genuine label: the models cannot be compared") }
        let comparison = String(format: "AP %.4f vs %.4f, ROC AUC %.4f vs %.4f", newAP, oldAP, newAUC, oldAUC)
        if newAP < oldAP - policy.apMargin {
            return (false, "worse than the champion on average precision by more than \(policy.apMargin) (\(comparison))")
        }
        if newAUC < oldAUC - policy.aucMargin {
            return (false, "worse than the champion on ROC AUC by more than \(policy.aucMargin) (\(comparison))")
        }
        return (true, "not worse than the champion beyond the margins (\(comparison))")
    }

    public static func needsJSON(_ spec: FeatureSpec) -> Bool {
        (try? FeatureExtractor(unfittedSpec: spec))?.needsJSON ?? true
    }

    static func json(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            return String(decoding: try encoder.encode(value), as: UTF8.self)
        } catch {
            preconditionFailure("a cycle's detail always encodes: \(error)")
        }
    }
}

extension SpecTable {
    /// The store's events in `[from, to)` (with `historyDays` before them for history) and the
    /// label versions reported at or before `to`, from one snapshot.
    public static func snapshot(
        _ store: Store, from: Timestamp, to: Timestamp, historyDays: Double, keepingJSON: Bool
    ) async throws(EngineError) -> TrainingSnapshot {
        try await storeCall { () async throws(StoreError) in
            try await store.trainingSnapshot(
                historyFrom: from.adding(days: -historyDays), from: from, to: to, labelsKnownAt: to, keepingJSON: keepingJSON)
        }
    }

    /// How a table from the store names its source (in errors and the model's lineage).
    static func storeSource(from: Timestamp, to: Timestamp) -> String {
        "store: events \(from.rfc3339) to \(to.rfc3339), labels known at \(to.rfc3339)"
    }

    /// The labelled table of the store's events in `[from, to)` with the labels known at `to`:
    /// what `riskloop train --from --to` trains on.
    public static func fromStore(
        _ store: Store, spec: FeatureSpec, from: Timestamp, to: Timestamp, historyDays: Double, pipeline: TrainingPipeline
    ) async throws(EngineError) -> LabelledTable {
        let snapshot = try await snapshot(store, from: from, to: to, historyDays: historyDays, keepingJSON: FeedbackLoop.needsJSON(spec))
        guard !snapshot.events.isEmpty else {
            throw .badInput(file: "store", line: nil, column: nil, reason: "no stored event between \(from.rfc3339) and \(to.rfc3339)")
        }
        var table = try build(
            events: snapshot.events, warmup: snapshot.warmup,
            outcome: outcomeValues(snapshot.outcomes), labelVersions: snapshot.labelVersions,
            spec: spec, pipeline: pipeline, source: storeSource(from: from, to: to)
        ).table
        table.labelsKnownAt = to
        return table
    }
}
