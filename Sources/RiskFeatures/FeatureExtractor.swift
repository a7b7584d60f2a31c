import Dispatch
import Foundation
import RiskContract
import Synchronization

/// A feature spec compiled for speed: turns events into dense `Double` vectors with stable,
/// readable column names.
///
/// ```swift
/// let extractor = try FeatureExtractor(spec: spec)
/// var profiles = extractor.makeProfiles()
/// let row = extractor.vector(parsed, profiles: &profiles)   // scoring, point in time
/// let matrix = extractor.matrix(events, labels: labels)      // a training set from history
/// ```
///
/// Column names: `name` and `name=unknown` for numbers; `name=level` for discrete features
/// (`sim_swap_age=<24h`, `payee.new=unknown`); `a=x&b=y` for crosses; `name` for aggregates.
/// The same code builds training rows and scoring vectors.
public struct FeatureExtractor: Sendable {
    public let spec: FeatureSpec
    public let columns: [String]
    /// For each column, the index in `spec.features` of the feature it came from.
    public let featureOfColumn: [Int]
    let plans: [Plan]
    let aggregates: [AggregatePlan]
    /// What aggregates read for an entity with no history (0, or a fraud rate's prior), one
    /// value per aggregate in the order of ``EntityProfiles/record(_:)``.
    public let firstEventHistory: [Double]
    /// How many distinct aggregates and fraud rates the spec computes (features that compute the
    /// same one, a number and its bins, share it): the width of a history row.
    public var aggregateCount: Int { aggregates.count }

    /// Compiles `spec`, whose learnt parts (quantile bins, `standardize` statistics) must be
    /// learnt: see ``FeatureSpec/fitted(events:warmup:labels:rows:)``.
    ///
    /// - Throws: ``ContractError`` naming the member of the spec that is wrong, for example
    ///   `features[4].buckets_hours`.
    public init(spec: FeatureSpec) throws(ContractError) {
        try self.init(spec: spec, fitted: true)
    }

    /// Compiles `spec` whether or not its learnt parts are learnt: unlearnt quantile bins are one
    /// bin, unlearnt statistics leave numbers as they are. For checking a spec and fitting it,
    /// never for rows a model sees.
    public init(unfittedSpec spec: FeatureSpec) throws(ContractError) {
        try self.init(spec: spec, fitted: false)
    }

    private init(spec: FeatureSpec, fitted: Bool) throws(ContractError) {
        guard spec.format == FeatureSpec.currentFormat else {
            throw .invalidValue(field: "format", value: "\"\(spec.format)\"", reason: "must be \(FeatureSpec.currentFormat)")
        }
        guard !spec.features.isEmpty else {
            throw .invalidValue(field: "features", value: "[]", reason: "a spec needs at least one feature")
        }
        self.spec = spec
        var plans: [Plan] = [], columns: [String] = [], featureOfColumn: [Int] = [], aggregates: [AggregatePlan] = []
        var earlier = Earlier()
        var seen = Set<String>()
        for (index, feature) in spec.features.enumerated() {
            let at = "features[\(index)]"
            guard !feature.name.isEmpty else { throw .invalidValue(field: "\(at).name", value: "\"\"", reason: "must not be empty") }
            guard seen.insert(feature.name).inserted else {
                throw .invalidValue(field: "\(at).name", value: "\"\(feature.name)\"", reason: "another feature already has this name")
            }
            let offset = columns.count
            // An aggregate computed by an earlier feature (a number and its bins) shares its slot.
            var slot = aggregates.count
            if feature.kind == .aggregate || feature.kind == .fraudRate {
                let aggregate = try AggregatePlan(feature, at: at)
                if let same = aggregates.firstIndex(where: { $0.identity == aggregate.identity }) {
                    slot = same
                } else {
                    aggregates.append(aggregate)
                }
                earlier.aggregates[feature.name] = (slot, feature.kind == .aggregate ? feature.function : nil)
            }
            let plan = try Self.compile(feature, at: at, offset: offset, earlier: earlier, aggregateSlot: slot, fitted: fitted)
            switch plan {
            case .numeric:
                columns += [feature.name, feature.name + "=unknown"]
            case .discrete(let discrete, _):
                columns += discrete.levels.map { "\(feature.name)=\($0)" }
                earlier.discrete[feature.name] = (index, discrete)
            case .cross(let parts, _):
                columns += Self.crossNames(parts.map { (spec.features[$0.feature].name, $0.discrete.levels) })
            case .aggregate:
                columns.append(feature.name)
            }
            featureOfColumn += Array(repeating: index, count: columns.count - offset)
            plans.append(plan)
        }
        self.plans = plans
        self.columns = columns
        self.featureOfColumn = featureOfColumn
        self.aggregates = aggregates
        firstEventHistory = EntityProfiles(aggregates).emptyValues
    }

    /// Whether some feature reads a field outside the event contract (so events must keep their
    /// JSON tree); when not, parsers can drop it.
    public var needsJSON: Bool {
        spec.features.contains { feature in
            [feature.source, feature.key, feature.field].contains { path in path.map { FieldReader($0).needsJSON } ?? false }
        }
    }

    /// Each feature's number source, for the features read as numbers (numeric, aggregate, fraud
    /// rate, ratio, in bins or not): what fitting learns statistics and edges from.
    func numberSource(ofFeature index: Int) -> NumberSource? {
        switch plans[index] {
        case .numeric(let source, _, _): source
        case .aggregate(let slot, _, _): .aggregate(slot: slot)
        case .discrete(.binned(let source, _, _), _): source
        default: nil
        }
    }

    /// The features that need history (aggregates and fraud rates).
    public var hasAggregates: Bool { !aggregates.isEmpty }

    /// Empty entity profiles for this spec: the state aggregates read and update.
    public func makeProfiles() -> EntityProfiles {
        EntityProfiles(aggregates)
    }

    /// The vector of one event as of its time, then records the event in `profiles`: the live
    /// scoring path. Events must come in time order.
    public func vector(_ parsed: ParsedEvent, profiles: inout EntityProfiles) -> [Double] {
        vector(parsed, history: profiles.record(parsed))
    }

    /// The vector of one event given its aggregates (from ``EntityProfiles/record(_:)``), for
    /// callers that keep the history behind a lock and extract outside it.
    public func vector(_ parsed: ParsedEvent, history: [Double]) -> [Double] {
        var row = [Double](repeating: 0, count: columns.count)
        row.withUnsafeMutableBufferPointer { row in history.withUnsafeBufferPointer { fill(into: row, parsed, aggregates: $0) } }
        return row
    }

    /// Writes one event's columns into `row` (which must hold zeros: only the columns that are
    /// set are written), given its aggregates: the allocation-free path for callers that reuse a
    /// buffer.
    public func fill(into row: UnsafeMutableBufferPointer<Double>, _ parsed: ParsedEvent, aggregates history: UnsafeBufferPointer<Double>) {
        precondition(row.count == columns.count, "the row buffer must hold one value per column")
        precondition(history.count == aggregates.count, "one value per aggregate")
        fill(into: row, at: 0, parsed, aggregates: history)
    }

    /// The vector of one event without history (aggregates read as for a first event).
    public func vector(_ parsed: ParsedEvent) -> [Double] {
        var profiles = makeProfiles()
        return vector(parsed, profiles: &profiles)
    }

    /// The training matrix of `events` (in time order) with point-in-time aggregates: each row
    /// sees only the events before it and the labels reported by its time (minus each feature's
    /// delay). Stateless columns are computed on all cores, history in one ordered pass.
    public func matrix(_ events: [ParsedEvent], labels: [Label] = []) -> Matrix {
        var profiles = makeProfiles()
        for label in labels { profiles.observe(label) }
        return matrix(events, profiles: &profiles)
    }

    /// The matrix of the next `events` of a stream, continuing from `profiles` (which the caller
    /// feeds with labels): a long file is processed in batches with one history.
    public func matrix(_ events: [ParsedEvent], profiles: inout EntityProfiles) -> Matrix {
        // The aggregates first (each as of its event, on all cores), then the rows.
        matrix(events, history: hasAggregates ? profiles.history(for: events) : [])
    }

    /// Every event's aggregates as of its time, row-major (`events.count × aggregateCount`; empty
    /// without aggregates): history from `warmup` then the events before it, fraud rates from
    /// `labels` as they were reported. What ``matrix(_:history:)`` and fitting a spec read.
    public func history(of events: [ParsedEvent], warmup: [ParsedEvent] = [], labels: [Label] = []) -> [Double] {
        guard hasAggregates else { return [] }
        var profiles = makeProfiles()
        for label in labels { profiles.observe(label) }
        if !warmup.isEmpty { _ = profiles.history(for: warmup) }
        return profiles.history(for: events)
    }

    /// The matrix of `events` given their aggregates from ``history(of:warmup:labels:)``.
    public func matrix(_ events: [ParsedEvent], history: [Double]) -> Matrix {
        let width = columns.count, count = events.count, slots = aggregates.count
        guard count > 0, width > 0 else { return Matrix(rows: count, columns: width) }
        precondition(!hasAggregates || history.count == count * slots, "one row of aggregates per event")
        // Every row is zeroed and filled by the core that owns its chunk: a million rows are
        // 1.5 GB, and touching them once, in parallel, beats zeroing them all on one thread first.
        let history = hasAggregates ? history : firstEventHistory
        let aggregatesPerRow = hasAggregates ? slots : 0
        let chunkCount = max(1, min(64, count / 2048))
        let values: [Double] = LargeBuffer.array(count: count * width) { buffer in
            history.withUnsafeBufferPointer { history in
                // Safe to share: each chunk initialises and writes only the rows of its own range,
                // and the buffers outlive `concurrentPerform`, which returns when every chunk is done.
                nonisolated(unsafe) let (rows, history) = (buffer, history)
                DispatchQueue.concurrentPerform(iterations: chunkCount) { chunk in
                    for row in (count * chunk / chunkCount)..<(count * (chunk + 1) / chunkCount) {
                        (rows.baseAddress! + row * width).initialize(repeating: 0, count: width)
                        let first = row * aggregatesPerRow
                        fill(
                            into: rows, at: row * width, events[row],
                            aggregates: UnsafeBufferPointer(rebasing: history[first..<(first + slots)]))
                    }
                }
            }
        }
        return Matrix(rows: count, columns: width, values: values)
    }

    /// Writes one event's stateless columns into `row` from `start`, aggregates read as for a
    /// first event. `row` must hold zeros there: only the columns that are set are written.
    /// The allocation-free path for callers that reuse a buffer.
    public func fill(_ row: inout [Double], at start: Int, _ parsed: ParsedEvent) {
        precondition(start >= 0 && start + columns.count <= row.count, "the row buffer is too short")
        let history = firstEventHistory
        row.withUnsafeMutableBufferPointer { row in history.withUnsafeBufferPointer { fill(into: row, at: start, parsed, aggregates: $0) } }
    }

    private func fill(
        into row: UnsafeMutableBufferPointer<Double>, at start: Int, _ parsed: ParsedEvent, aggregates history: UnsafeBufferPointer<Double>
    ) {
        // The levels of this event's discrete features, for crosses; on the stack, not the heap.
        withUnsafeTemporaryAllocation(of: Int.self, capacity: plans.count) { levels in
            fill(into: row, at: start, parsed, aggregates: history, levels: levels)
        }
    }

    private func fill(
        into row: UnsafeMutableBufferPointer<Double>, at start: Int, _ parsed: ParsedEvent, aggregates history: UnsafeBufferPointer<Double>,
        levels: UnsafeMutableBufferPointer<Int>
    ) {
        // By index: iterating would copy every plan.
        for index in plans.indices {
            switch plans[index] {
            case .numeric(let source, let offset, let transform):
                if let value = source.value(parsed, history: history) {
                    row[start + offset] = transform.apply(value)
                } else {
                    row[start + offset + 1] = 1
                }
            case .discrete(let discrete, let offset):
                let level = discrete.level(parsed, history: history)
                levels[index] = level
                if level >= 0 { row[start + offset + level] = 1 }
            case .cross(let parts, let offset):
                var level = 0
                for part in parts {
                    guard levels[part.feature] >= 0 else {
                        level = -1
                        break
                    }
                    level += levels[part.feature] * part.stride
                }
                if level >= 0 { row[start + offset + level] = 1 }
            case .aggregate(let slot, let offset, let transform):
                // A mean, spread, minimum or maximum of nothing reads 0 here.
                let value = history[slot]
                row[start + offset] = transform.apply(value.isNaN ? 0 : value)
            }
        }
    }

    static func number(_ value: FieldValue) -> Double? {
        switch value {
        case .number(let number): number
        case .bool(let flag): flag ? 1 : 0
        default: nil
        }
    }

    /// `a=x&b=y` for every combination, the first part varying slowest.
    static func crossNames(_ parts: [(name: String, levels: [String])]) -> [String] {
        parts.reduce([""]) { prefixes, part in
            prefixes.flatMap { prefix in part.levels.map { (prefix.isEmpty ? "" : prefix + "&") + "\(part.name)=\($0)" } }
        }
    }
}
