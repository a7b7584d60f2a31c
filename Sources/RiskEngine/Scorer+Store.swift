import RiskContract
import RiskFeatures
import RiskScoring
import RiskStore

extension Scorer {
    /// Gives the scorer the entity history it would have had, had it scored every stored event
    /// of the `historyDays` before `asOf`: those events (in time order, their scores discarded)
    /// and every label version reported at or before `asOf` (each counts from its own report time
    /// plus the feature's delay). A scorer that starts serving, a replay and the demo start here,
    /// so their velocity and fraud-rate features equal those of training.
    public func warm(from store: any Store, asOf: Timestamp, historyDays: Double) async throws(EngineError) {
        guard model.extractor.hasAggregates else { return }
        warm(with: try await Self.history(for: model, from: store, asOf: asOf, historyDays: historyDays))
    }

    /// Swaps to `model`; a model with another spec is first warmed from the store (as a server
    /// warms on start) while the old model goes on scoring, so it never takes traffic with an
    /// empty history.
    public func swap(to model: ServingModel, warmingFrom store: any Store, asOf: Timestamp, historyDays: Double) async throws(EngineError) {
        guard model.extractor.hasAggregates, model.artifact.featureSpecSHA256 != self.model.artifact.featureSpecSHA256 else { return swap(to: model) }
        let history = try await Self.history(for: model, from: store, asOf: asOf, historyDays: historyDays)
        swap(to: model) { (staging: Scorer) in staging.warm(with: history) }
    }

    private static func history(for model: ServingModel, from store: any Store, asOf: Timestamp, historyDays: Double)
        async throws(EngineError) -> TrainingSnapshot
    {
        try await SpecTable.snapshot(store, from: asOf, to: asOf, historyDays: historyDays, keepingJSON: model.extractor.needsJSON)
    }

    private func warm(with history: TrainingSnapshot) {
        for label in history.labelVersions { observe(label) }
        _ = score(history.warmup)
    }
}
