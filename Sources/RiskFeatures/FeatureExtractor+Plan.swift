import Foundation
import RiskContract

extension FeatureExtractor {
    /// One feature, compiled.
    enum Plan: Sendable {
        /// Columns `offset` (the value) and `offset + 1` (unknown).
        case numeric(NumberSource, offset: Int, NumericTransform)
        /// One column per level from `offset`.
        case discrete(Discrete, offset: Int)
        /// One column per combination; a part's level times its stride, summed.
        case cross([CrossPart], offset: Int)
        /// One column, the value of aggregate `slot` (0 when it has no history).
        case aggregate(slot: Int, offset: Int, NumericTransform)
    }

    /// Where a number comes from: a field of the event, an aggregate of its entity, or a field
    /// against an aggregate (a ratio). `nil` is unknown.
    enum NumberSource: Sendable {
        case field(FieldReader)
        case aggregate(slot: Int)
        /// The field against aggregate `usual`: a log ratio, or with `spread` (an aggregate
        /// `std`) the difference in standard deviations.
        case ratio(FieldReader, usual: Int, spread: Int?)

        @inline(__always)
        func value(_ parsed: ParsedEvent, history: UnsafeBufferPointer<Double>) -> Double? {
            switch self {
            case .field(let reader):
                return FeatureExtractor.number(reader.read(parsed))
            case .aggregate(let slot):
                let value = history[slot]
                return value.isNaN ? nil : value
            case .ratio(let reader, let usual, let spread):
                // NaN (no history) fails every comparison below: unknown.
                guard let value = FeatureExtractor.number(reader.read(parsed)), !history[usual].isNaN else { return nil }
                if let spread {
                    let deviation = history[spread]
                    guard deviation > 0 else { return nil }
                    return (value - history[usual]) / deviation
                }
                let ratio = (1 + value) / (1 + history[usual])
                guard ratio > 0, ratio.isFinite else { return nil }
                return Foundation.log(ratio)
            }
        }
    }

    struct CrossPart: Sendable {
        /// Index in `spec.features` (and in the per-event level table).
        var feature: Int
        var discrete: Discrete
        var stride: Int
    }

    /// Clip, then transform.
    struct NumericTransform: Sendable {
        var low = -Double.infinity
        var high = Double.infinity
        var transform: Feature.Transform = .none
        var mean = 0.0
        var scale = 1.0

        @inline(__always)
        func apply(_ value: Double) -> Double {
            let clipped = min(max(value, low), high)
            switch transform {
            case .none: return clipped
            case .log1p: return clipped < 0 ? -Foundation.log1p(-clipped) : Foundation.log1p(clipped)
            case .standardize: return (clipped - mean) / scale
            }
        }
    }

    /// A feature with a finite set of levels. `indirect`: the per-event loop copies each plan it
    /// reads, and a boxed payload is one reference count where the vocabularies and readers
    /// inline were three or four (-800 instructions per scored event).
    indirect enum Discrete: Sendable {
        case boolean(FieldReader)
        case categorical(FieldReader, index: [String: Int], vocabulary: [String])
        case hashed(FieldReader, buckets: Int)
        /// Upper bounds of the buckets in milliseconds.
        case timeSince(FieldReader, boundaries: [Int64], labels: [String])
        case hourOfDay
        case dayOfWeek
        case night(from: Int, to: Int)
        case contains(FieldReader, value: String)
        /// A number in bins: level `i` is `[edges[i-1], edges[i])`, then `unknown`.
        case binned(NumberSource, edges: [Double], labels: [String])

        static let weekdays = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        /// A clock feature of a record without a time: no column is set (and crosses with it neither).
        static let noLevel = -1

        var levels: [String] {
            switch self {
            case .boolean, .contains: ["true", "false", "unknown"]
            case .categorical(_, _, let vocabulary): vocabulary + ["<other>", "unknown"]
            case .hashed(_, let buckets): (0..<buckets).map { "#\($0)" } + ["unknown"]
            case .timeSince(_, _, let labels): labels + ["none", "unknown"]
            case .hourOfDay: (0..<24).map { $0 < 10 ? "0\($0)" : "\($0)" }
            case .dayOfWeek: Self.weekdays
            case .night: ["true", "false"]
            case .binned(_, _, let labels): labels + ["unknown"]
            }
        }

        /// The level of `parsed`, whose aggregates are `history` (binned aggregates and ratios
        /// read them).
        @inline(__always)
        func level(_ parsed: ParsedEvent, history: UnsafeBufferPointer<Double>) -> Int {
            switch self {
            case .binned(let source, let edges, _):
                guard let value = source.value(parsed, history: history) else { return edges.count + 1 }
                return edges.firstIndex { value < $0 } ?? edges.count
            case .boolean(let reader):
                switch reader.read(parsed) {
                case .bool(let flag): return flag ? 0 : 1
                case .number(let number) where number == 0 || number == 1: return number == 1 ? 0 : 1
                default: return 2
                }
            case .categorical(let reader, let index, let vocabulary):
                switch reader.read(parsed) {
                case .string(let text):
                    // Small vocabularies: comparing short strings beats hashing them.
                    if vocabulary.count <= 16 { return vocabulary.firstIndex(of: text) ?? vocabulary.count }
                    return index[text] ?? vocabulary.count
                case .bool(let flag): return index[flag ? "true" : "false"] ?? vocabulary.count
                case .number(let number): return index[Self.text(number)] ?? vocabulary.count
                case .time(let time): return index[time.rfc3339] ?? vocabulary.count
                default: return vocabulary.count + 1
                }
            case .hashed(let reader, let buckets):
                let text: String
                switch reader.read(parsed) {
                case .string(let value): text = value
                case .number(let number): text = Self.text(number)
                case .bool(let flag): text = flag ? "true" : "false"
                case .time(let time): text = time.rfc3339
                default: return buckets
                }
                return Int(FNV1a.hash(text) % UInt64(buckets))
            case .timeSince(let reader, let boundaries, _):
                switch reader.read(parsed) {
                case .time(let then):
                    guard let now = parsed.time else { return boundaries.count + 2 }
                    let age = now.millisecondsSinceEpoch - then.millisecondsSinceEpoch
                    // A change after the event cannot have been known at its time: unknown, not recent.
                    guard age >= 0 else { return boundaries.count + 2 }
                    return boundaries.firstIndex { age < $0 } ?? boundaries.count
                case .null: return boundaries.count + 1
                default: return boundaries.count + 2
                }
            case .hourOfDay:
                return parsed.time?.hourUTC ?? Self.noLevel
            case .dayOfWeek:
                return parsed.time.map { $0.isoWeekdayUTC - 1 } ?? Self.noLevel
            case .night(let from, let to):
                guard let hour = parsed.time?.hourUTC else { return Self.noLevel }
                let inside = from <= to ? (from <= hour && hour < to) : (hour >= from || hour < to)
                return inside ? 0 : 1
            case .contains(let reader, let value):
                guard let found = reader.contains(parsed, value) else { return 2 }
                return found ? 0 : 1
            }
        }

        /// Whole numbers without a fraction, so `3` matches the vocabulary word "3".
        static func text(_ number: Double) -> String { JSONValue.wordText(number) }
    }

    /// What the features compiled so far offer those after them: discrete features for crosses,
    /// aggregate slots for ratios.
    struct Earlier {
        var discrete: [String: (index: Int, discrete: Discrete)] = [:]
        var aggregates: [String: (slot: Int, function: Feature.Function?)] = [:]
    }

    static func compile(
        _ feature: Feature, at: String, offset: Int, earlier: Earlier, aggregateSlot: Int, fitted: Bool
    ) throws(ContractError) -> Plan {
        func source() throws(ContractError) -> FieldReader {
            guard let source = feature.source else { throw .missingField(field: "\(at).source") }
            guard !source.isEmpty, !source.split(separator: ".", omittingEmptySubsequences: false).contains(where: \.isEmpty) else {
                throw .invalidValue(
                    field: "\(at).source", value: "\"\(source)\"", reason: "must be a dotted path like telco.sim_swap.latest_change")
            }
            return FieldReader(source)
        }
        func notUsed(_ members: [(String, Bool)]) throws(ContractError) {
            for (name, present) in members where present {
                throw .invalidValue(field: "\(at).\(name)", value: "", reason: "does not apply to a \(feature.kind.rawValue) feature")
            }
        }
        let numericMembers = [
            ("transform", feature.transform != nil), ("clip", feature.clip != nil), ("statistics", feature.statistics != nil),
            ("bins", feature.bins != nil),
        ]
        try notUsed([
            ("include_current", feature.includeCurrent != nil && feature.kind != .aggregate && feature.kind != .fraudRate),
            ("against", feature.against != nil && feature.kind != .ratio), ("compare", feature.compare != nil && feature.kind != .ratio),
            ("spread", feature.spread != nil && feature.kind != .ratio),
        ])
        /// A number as a value column and `unknown`, or in bins.
        func number(_ source: NumberSource) throws(ContractError) -> Plan {
            guard let bins = feature.bins else {
                return .numeric(source, offset: offset, try numericTransform(feature, at: at, fitted: fitted))
            }
            try notUsed(Array(numericMembers.prefix(3)))
            let (edges, labels) = try binEdges(bins, feature: feature, at: at, fitted: fitted)
            return .discrete(.binned(source, edges: edges, labels: labels), offset: offset)
        }
        switch feature.kind {
        case .numeric:
            return try number(.field(try source()))
        case .ratio:
            func aggregate(_ member: String, _ name: String?, functions: [Feature.Function]) throws(ContractError) -> Int {
                guard let name else { throw .missingField(field: "\(at).\(member)") }
                guard let (slot, function) = earlier.aggregates[name], let function, functions.contains(function) else {
                    throw .invalidValue(
                        field: "\(at).\(member)", value: "\"\(name)\"",
                        reason:
                            "must name an aggregate with function \(functions.map(\.rawValue).joined(separator: " or ")) defined before the ratio"
                    )
                }
                return slot
            }
            let usual = try aggregate("against", feature.against, functions: [.mean, .min, .max])
            switch feature.compare ?? .logRatio {
            case .logRatio:
                try notUsed([("spread", feature.spread != nil)])
                return try number(.ratio(try source(), usual: usual, spread: nil))
            case .standardDeviations:
                let spread = try aggregate("spread", feature.spread, functions: [.std])
                return try number(.ratio(try source(), usual: usual, spread: spread))
            }
        case .boolean:
            try notUsed(numericMembers)
            return .discrete(.boolean(try source()), offset: offset)
        case .categorical:
            try notUsed(numericMembers)
            guard let vocabulary = feature.vocabulary else { throw .missingField(field: "\(at).vocabulary") }
            guard !vocabulary.isEmpty, Set(vocabulary).count == vocabulary.count else {
                throw .invalidValue(field: "\(at).vocabulary", value: "\(vocabulary)", reason: "must be a non-empty list of distinct words")
            }
            let index = Dictionary(uniqueKeysWithValues: vocabulary.enumerated().map { ($1, $0) })
            return .discrete(.categorical(try source(), index: index, vocabulary: vocabulary), offset: offset)
        case .hashed:
            try notUsed(numericMembers)
            guard let buckets = feature.buckets else { throw .missingField(field: "\(at).buckets") }
            guard (2...1_000_000).contains(buckets) else {
                throw .invalidValue(field: "\(at).buckets", value: "\(buckets)", reason: "must be between 2 and 1,000,000")
            }
            return .discrete(.hashed(try source(), buckets: buckets), offset: offset)
        case .timeSince:
            try notUsed(numericMembers)
            guard let hours = feature.bucketsHours else { throw .missingField(field: "\(at).buckets_hours") }
            guard !hours.isEmpty, hours.allSatisfy({ $0 > 0 && $0.isFinite }), zip(hours, hours.dropFirst()).allSatisfy({ $0 < $1 }) else {
                throw .invalidValue(field: "\(at).buckets_hours", value: "\(hours)", reason: "must be positive hours in increasing order")
            }
            let labels = hours.map { "<" + Self.duration($0) } + [">=" + Self.duration(hours.last!)]
            let boundaries = hours.map { Int64(($0 * 3_600_000).rounded()) }
            return .discrete(.timeSince(try source(), boundaries: boundaries, labels: labels), offset: offset)
        case .hourOfDay:
            try notUsed(numericMembers)
            return .discrete(.hourOfDay, offset: offset)
        case .dayOfWeek:
            try notUsed(numericMembers)
            return .discrete(.dayOfWeek, offset: offset)
        case .night:
            try notUsed(numericMembers)
            let from = feature.fromHour ?? 0, to = feature.toHour ?? 6
            guard (0...23).contains(from), (0...24).contains(to), from != to else {
                throw .invalidValue(
                    field: "\(at).from_hour", value: "\(from)–\(to)", reason: "hours must be 0–23 (to_hour up to 24) and differ")
            }
            return .discrete(.night(from: from, to: to), offset: offset)
        case .contains:
            try notUsed(numericMembers)
            guard let value = feature.value else { throw .missingField(field: "\(at).value") }
            return .discrete(.contains(try source(), value: value), offset: offset)
        case .cross:
            try notUsed(numericMembers)
            guard let names = feature.of else { throw .missingField(field: "\(at).of") }
            guard (2...3).contains(names.count), Set(names).count == names.count else {
                throw .invalidValue(field: "\(at).of", value: "\(names)", reason: "a cross combines 2 or 3 different features")
            }
            var parts: [CrossPart] = []
            for name in names {
                guard let (index, discrete) = earlier.discrete[name] else {
                    throw .invalidValue(
                        field: "\(at).of", value: "\"\(name)\"",
                        reason:
                            "must name a discrete feature (boolean, categorical, hashed, time_since, hour_of_day, day_of_week, night, contains, or a number in bins) defined before the cross"
                    )
                }
                parts.append(CrossPart(feature: index, discrete: discrete, stride: 1))
            }
            var stride = 1
            for position in parts.indices.reversed() {
                parts[position].stride = stride
                stride *= parts[position].discrete.levels.count
            }
            guard stride <= 10_000 else {
                throw .invalidValue(
                    field: "\(at).of", value: "\(names)", reason: "the cross would have \(stride) columns; keep it under 10,000")
            }
            return .cross(parts, offset: offset)
        case .aggregate, .fraudRate:
            if feature.bins != nil { return try number(.aggregate(slot: aggregateSlot)) }
            return .aggregate(slot: aggregateSlot, offset: offset, try numericTransform(feature, at: at, fitted: fitted))
        }
    }

    /// The edges of `bins` and their levels' names (`<50`, `[50,200)`, `>=200`). Unfitted
    /// quantile bins (only when `fitted` is false: checking or fitting a spec) have no edges yet.
    static func binEdges(_ bins: Feature.Bins, feature: Feature, at: String, fitted: Bool) throws(ContractError) -> (
        edges: [Double], labels: [String]
    ) {
        if let quantiles = bins.quantiles {
            guard (2...1000).contains(quantiles) else {
                throw .invalidValue(field: "\(at).bins.quantiles", value: "\(quantiles)", reason: "must be between 2 and 1,000")
            }
        }
        guard let edges = bins.edges else {
            guard bins.quantiles != nil else {
                throw .invalidValue(field: "\(at).bins", value: "{}", reason: "needs quantiles (learnt edges) or edges (fixed ones)")
            }
            guard !fitted else { throw notFitted(feature, at: "\(at).bins", what: "its quantile edges") }
            return ([], ["all"])
        }
        guard !edges.isEmpty, edges.allSatisfy(\.isFinite), zip(edges, edges.dropFirst()).allSatisfy({ $0 < $1 }) else {
            throw .invalidValue(field: "\(at).bins.edges", value: "\(edges)", reason: "must be finite numbers in increasing order")
        }
        if let positions = bins.edgeQuantiles {
            guard positions.count == edges.count, positions.allSatisfy({ (0...1).contains($0) }) else {
                throw .invalidValue(
                    field: "\(at).bins.edge_quantiles", value: "\(positions)", reason: "must hold one quantile (0–1) per edge")
            }
        }
        return (edges, bins.levelNames)
    }

    /// A learnt part missing from a spec that is used as it is.
    static func notFitted(_ feature: Feature, at: String, what: String) -> ContractError {
        .invalidValue(
            field: at, value: "",
            reason:
                "feature '\(feature.name)' needs \(what) learnt from training rows: fit the spec first (riskloop spec fit), or train with it"
        )
    }

    static func numericTransform(_ feature: Feature, at: String, fitted: Bool) throws(ContractError) -> NumericTransform {
        var transform = NumericTransform()
        if let clip = feature.clip {
            guard clip.count == 2, clip[0] <= clip[1] else {
                throw .invalidValue(field: "\(at).clip", value: "\(clip)", reason: "must be [low, high] with low ≤ high")
            }
            transform.low = clip[0]
            transform.high = clip[1]
        }
        transform.transform = feature.transform ?? .none
        if transform.transform == .standardize {
            guard let statistics = feature.statistics else {
                guard !fitted else { throw notFitted(feature, at: "\(at).statistics", what: "the statistics of its standardisation") }
                return transform
            }
            guard statistics.standardDeviation > 0, statistics.mean.isFinite else {
                throw .invalidValue(
                    field: "\(at).statistics", value: "\(statistics.standardDeviation)", reason: "standard deviation must be positive")
            }
            transform.mean = statistics.mean
            transform.scale = statistics.standardDeviation
        }
        return transform
    }

    /// `1h`, `72h`, `7d`, `30d`: whole days from a week up, else hours.
    static func duration(_ hours: Double) -> String {
        if hours >= 168, hours.truncatingRemainder(dividingBy: 24) == 0 { return "\(Int(hours / 24))d" }
        return hours == hours.rounded() ? "\(Int(hours))h" : "\(hours)h"
    }
}

/// 64-bit FNV-1a: a fixed hash, the same in every process and on every machine (Swift's
/// `Hasher` is seeded per process, so it cannot bucket features).
public enum FNV1a {
    public static func hash(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01B3
        }
        return hash
    }
}
