import RiskContract

/// Learning a spec's learnt parts from training rows: the statistics of `standardize` features
/// and the edges of quantile bins.
extension FeatureSpec {
    /// This spec with every part not learnt yet learnt from `rows` (indices into `events`, which
    /// are in time order): `standardize` statistics (mean and population standard deviation of
    /// the clipped value) and quantile bin edges (numpy's linear quantiles at `i / quantiles`,
    /// equal edges merged), unknown values left out. Aggregates and ratios are read as of each
    /// row's time, history from `warmup` then the events before it, fraud rates from `labels` as
    /// they were reported. Parts already learnt (or fixed) stay as they are.
    ///
    /// - Throws: ``ContractError`` naming the member when a feature has no values to learn from,
    ///   or a constant one to standardise.
    public func fitted(events: [ParsedEvent], warmup: [ParsedEvent] = [], labels: [Label] = [], rows: [Int]) throws(ContractError)
        -> FeatureSpec
    {
        guard needsFitting else { return self }
        let readsHistory = features.contains { feature in
            feature.needsFitting && [Feature.Kind.aggregate, .fraudRate, .ratio].contains(feature.kind)
        }
        let history = readsHistory ? try FeatureExtractor(unfittedSpec: self).history(of: events, warmup: warmup, labels: labels) : []
        return try fitted(events: events, history: history, rows: rows)
    }

    /// ``fitted(events:warmup:labels:rows:)`` given the events' aggregates as
    /// ``FeatureExtractor/history(of:warmup:labels:)`` computes them (with this spec, fitted or
    /// not: learnt parts do not change the aggregates), so that a caller that needs them for its
    /// rows too computes them once; empty when no learnt part reads an aggregate.
    public func fitted(events: [ParsedEvent], history: [Double], rows: [Int]) throws(ContractError) -> FeatureSpec {
        guard needsFitting else { return self }
        let extractor = try FeatureExtractor(unfittedSpec: self)
        let width = extractor.aggregateCount
        let (history, stride) = history.isEmpty ? (extractor.firstEventHistory, 0) : (history, width)
        precondition(stride == 0 || history.count == events.count * width, "one row of aggregates per event")
        var fitted = self
        for (index, feature) in features.enumerated() where feature.needsFitting {
            guard let source = extractor.numberSource(ofFeature: index) else { continue }
            let at = "features[\(index)]"
            let values = history.withUnsafeBufferPointer { history in
                rows.compactMap { row in
                    source.value(events[row], history: UnsafeBufferPointer(rebasing: history[(row * stride)..<(row * stride + width)]))
                }
            }
            if let bins = feature.bins {
                guard !values.isEmpty else {
                    throw .invalidValue(
                        field: "\(at).bins", value: "0 values",
                        reason: "feature '\(feature.name)': the training rows have no value to learn bins from")
                }
                let (edges, positions) = Self.quantileEdges(values, quantiles: bins.quantiles ?? 2)
                fitted.features[index].bins = .init(quantiles: bins.quantiles, edges: edges, edgeQuantiles: positions)
            } else {
                let low = feature.clip?.first ?? -.infinity, high = feature.clip?.last ?? .infinity
                var count = 0.0, mean = 0.0, squares = 0.0
                for raw in values {
                    let value = min(max(raw, low), high)
                    count += 1
                    let delta = value - mean
                    mean += delta / count
                    squares += delta * (value - mean)
                }
                let deviation = count > 0 ? (squares / count).squareRoot() : 0
                guard deviation > 0 else {
                    throw .invalidValue(
                        field: "\(at).statistics", value: "\(Int(count)) values",
                        reason: "cannot standardise '\(feature.name)': the training rows have no spread in it")
                }
                fitted.features[index].statistics = .init(mean: mean, standardDeviation: deviation)
            }
        }
        return fitted
    }

    /// The interior quantile edges of `values` at `i / quantiles` for i = 1 … quantiles − 1, as
    /// numpy's `quantile(values, q)` computes them (method `linear`), equal edges merged (the
    /// first one's quantile kept); with the quantile each edge was taken at.
    public static func quantileEdges(_ values: [Double], quantiles: Int) -> (edges: [Double], quantiles: [Double]) {
        let sorted = values.sorted()
        var edges: [Double] = [], positions: [Double] = []
        guard !sorted.isEmpty else { return ([], []) }
        for step in 1..<quantiles {
            let q = Double(step) / Double(quantiles)
            let virtual = Double(sorted.count - 1) * q
            let below = Int(virtual.rounded(.down)), fraction = virtual - virtual.rounded(.down)
            let a = sorted[below], b = sorted[min(below + 1, sorted.count - 1)]
            // numpy's `_lerp`, from the nearer end.
            let edge = fraction >= 0.5 ? b - (b - a) * (1 - fraction) : a + (b - a) * fraction
            if let last = edges.last, last == edge { continue }
            edges.append(edge)
            positions.append(q)
        }
        return (edges, positions)
    }
}
