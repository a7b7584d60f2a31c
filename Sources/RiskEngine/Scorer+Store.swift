import RiskFeatures
import RiskScoring
import RiskStore

extension Scorer {
    /// Gives the scorer the entity history it would have had, had it scored every stored event
    /// of the `historyDays` before `asOf`: those events (in time order, their scores discarded)
    /// and every label version reported at or before `asOf` (each counts from its own report time
    /// plus the feature's delay). A scorer that starts serving, a replay and the demo start here,
    /// so their velocity and fraud-rate features equal those of training.
    public func warm(from store: Store, asOf: Timestamp, historyDays: Double) throws(EngineError) {
        guard model.extractor.hasAggregates else { return }
        let snapshot = try SpecTable.snapshot(store, from: asOf, to: asOf, historyDays: historyDays, keepingJSON: model.extractor.needsJSON)
        for label in snapshot.labelVersions { observe(label) }
        _ = score(snapshot.warmup)
    }
}

extension Scorer {
    /// Swaps to `model`; a model with another spec is first warmed from the store (as a server
    /// warms on start) while the old model goes on scoring, so it never takes traffic with an
    /// empty history.
    public func swap(to model: ServingModel, warmingFrom store: Store, asOf: Timestamp, historyDays: Double) throws(EngineError) {
        try swap(to: model) { (staging: Scorer) throws(EngineError) in
            try staging.warm(from: store, asOf: asOf, historyDays: historyDays)
        }
    }
}
