import Crypto
import Foundation
import RiskContract

/// A versioned list of features: what the extractor turns an event into (ARCHITECTURE.md §5.3).
///
/// ```json
/// {"format": "riskloop.features/1", "name": "ss7", "version": 1, "features": [
///   {"name": "sim_swap_age", "kind": "time_since", "source": "telco.sim_swap.latest_change",
///    "buckets_hours": [1, 24, 72, 168, 720]},
///   {"name": "payee.new", "kind": "boolean", "source": "payee.new"},
///   {"name": "swap_x_payee", "kind": "cross", "of": ["sim_swap_age", "payee.new"]}]}
/// ```
///
/// Its identity is the SHA-256 of its canonical JSON (sorted keys, no whitespace), stored in
/// every model trained with it. ``FeatureExtractor`` validates and compiles it.
public struct FeatureSpec: Sendable, Codable, Equatable {
    public static let currentFormat = "riskloop.features/1"

    public var format: String
    public var name: String
    public var version: Int
    public var description: String?
    public var features: [Feature]

    public init(name: String, version: Int = 1, description: String? = nil, features: [Feature]) {
        format = Self.currentFormat
        self.name = name
        self.version = version
        self.description = description
        self.features = features
    }

    /// The canonical form: sorted keys, no whitespace.
    public var canonicalJSON: Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try! encoder.encode(self)
    }

    /// SHA-256 of ``canonicalJSON``, lower-case hex.
    public var sha256: String {
        SHA256.hash(data: canonicalJSON).map { String(format: "%02x", $0) }.joined()
    }

    /// Whether some part of the spec is learnt from training rows and not learnt yet: quantile
    /// bins without edges, or `standardize` without statistics (see ``fitted(events:warmup:labels:rows:)``).
    public var needsFitting: Bool {
        features.contains { $0.needsFitting }
    }

    /// The spec as a generic JSON value (to embed in a model artifact).
    public var jsonValue: JSONValue {
        (try? JSONValue.parse(Array(canonicalJSON))) ?? .null
    }

    /// Reads a spec from JSON.
    ///
    /// - Throws: ``ContractError`` naming the member that is wrong (`features[3].kind`).
    public static func decode(from data: Data) throws(ContractError) -> FeatureSpec {
        do {
            return try JSONDecoder().decode(FeatureSpec.self, from: data)
        } catch let error as DecodingError {
            switch error {
            case .keyNotFound(let key, let context):
                throw .missingField(field: (context.codingPath + [key]).dottedPath)
            case .typeMismatch(_, let context), .valueNotFound(_, let context):
                throw .wrongType(field: context.codingPath.dottedPath, expected: context.debugDescription)
            case .dataCorrupted(let context):
                if context.codingPath.isEmpty { throw .malformedJSON(reason: "\(context.debugDescription)") }
                throw .invalidValue(field: context.codingPath.dottedPath, value: "", reason: context.debugDescription)
            @unknown default:
                throw .malformedJSON(reason: "\(error)")
            }
        } catch {
            throw .malformedJSON(reason: "\(error)")
        }
    }
}

/// One feature of a spec. Which members apply depends on ``kind``; the extractor checks them.
public struct Feature: Sendable, Codable, Equatable {
    public enum Kind: String, Sendable, Codable, CaseIterable {
        /// A number at `source`: columns `name` and `name=unknown`.
        case numeric
        /// true / false / unknown at `source`.
        case boolean
        /// A string at `source` in `vocabulary`, else `<other>`, or `unknown`.
        case categorical
        /// A string at `source` hashed (FNV-1a) into `buckets` levels, or `unknown`.
        case hashed
        /// Hours from the timestamp at `source` to the event, bucketed by `buckets_hours`;
        /// `none` when the signal says there was none (`null`), `unknown` when it is missing.
        case timeSince = "time_since"
        /// The event's hour (UTC), 24 levels.
        case hourOfDay = "hour_of_day"
        /// The event's ISO day of week (UTC), 7 levels.
        case dayOfWeek = "day_of_week"
        /// true when the event's hour (UTC) is in [from_hour, to_hour).
        case night
        /// Whether the list at `source` contains `value`: true / false / unknown.
        case contains
        /// The combination of 2 or 3 discrete features named in `of`.
        case cross
        /// count, sum, mean, std, min, max or distinct count over the key's events in the past
        /// `window_hours` (with `include_current`, the event itself too).
        case aggregate
        /// The share of fraud among the key's labelled past events in `window_hours`, from labels
        /// reported at least `label_delay_hours` before the event, smoothed towards `prior_rate`.
        case fraudRate = "fraud_rate"
        /// The number at `source` against an aggregate of the same event (`against`): the log
        /// ratio `ln((1 + value) / (1 + usual))`, or with `spread` (an aggregate `std`) the
        /// difference in standard deviations; unknown when the aggregate has no history.
        case ratio

        /// Refuses an unknown kind naming the valid ones, as the other spec errors do.
        public init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            guard let kind = Kind(rawValue: text) else {
                throw DecodingError.dataCorruptedError(
                    in: container,
                    debugDescription: "must be one of \(Kind.allCases.map(\.rawValue).joined(separator: ", ")) (got \"\(text)\")")
            }
            self = kind
        }
    }

    public enum Transform: String, Sendable, Codable, CaseIterable {
        case none, log1p, standardize
    }

    public enum Function: String, Sendable, Codable, CaseIterable {
        case count, sum, mean, std, min, max
        case distinctCount = "distinct_count"
    }

    /// Learnt or fixed bins of a number: one column per bin plus `unknown` instead of the value.
    ///
    /// `{"quantiles": 10}` asks for edges at the training rows' deciles (numpy's linear
    /// quantiles, equal edges merged), learnt when the spec is fitted; `{"edges": [50, 200]}`
    /// fixes them. A value `v` falls in the bin `[edges[i-1], edges[i])`: below the first edge,
    /// between two, or at or above the last.
    public struct Bins: Sendable, Codable, Equatable {
        /// How many quantile bins to learn; `nil` for fixed edges.
        public var quantiles: Int?
        /// The edges in increasing order: given, or learnt by fitting.
        public var edges: [Double]?
        /// For learnt edges, the quantile (0–1) each edge was taken at, to name bins in words.
        public var edgeQuantiles: [Double]?

        public init(quantiles: Int? = nil, edges: [Double]? = nil, edgeQuantiles: [Double]? = nil) {
            self.quantiles = quantiles
            self.edges = edges
            self.edgeQuantiles = edgeQuantiles
        }

        /// The bins' level names (`<50`, `[50,200)`, `>=200`; `unknown` follows them); one level,
        /// `all`, before quantile edges are learnt.
        public var levelNames: [String] {
            guard let edges, !edges.isEmpty else { return ["all"] }
            // Six significant digits read well (`6.338`, not `6.338000000000002`); full precision
            // only where two edges would then read the same.
            let short = edges.map { JSONValue.wordText(Double(String(format: "%.6g", $0)) ?? $0) }
            let words = Set(short).count == short.count ? short : edges.map(JSONValue.wordText)
            return ["<" + words[0]] + zip(words, words.dropFirst()).map { "[\($0),\($1))" } + [">=" + words.last!]
        }

        /// Whether the edges still have to be learnt.
        public var needsFitting: Bool { quantiles != nil && edges == nil }

        enum CodingKeys: String, CodingKey {
            case quantiles, edges
            case edgeQuantiles = "edge_quantiles"
        }
    }

    /// How a ratio compares a value with its entity's usual.
    public enum Comparison: String, Sendable, Codable, CaseIterable {
        /// `ln((1 + value) / (1 + usual))`: 0 when equal, defined at zero.
        case logRatio = "log_ratio"
        /// `(value − usual) / spread`, `spread` an aggregate `std`.
        case standardDeviations = "standard_deviations"
    }

    /// Mean and standard deviation of a standardised feature, learnt at training time.
    public struct Statistics: Sendable, Codable, Equatable {
        public var mean: Double
        public var standardDeviation: Double

        public init(mean: Double, standardDeviation: Double) {
            self.mean = mean
            self.standardDeviation = standardDeviation
        }

        enum CodingKeys: String, CodingKey {
            case mean
            case standardDeviation = "standard_deviation"
        }
    }

    public var name: String
    public var kind: Kind
    /// A dotted path into the event (`telco.sim_swap.latest_change`, `merchant.mcc`).
    public var source: String?
    /// What the feature means, in an analyst's words (used for reason codes and the model card).
    public var description: String?
    public var transform: Transform?
    /// [low, high]: numbers are clipped into it before the transform.
    public var clip: [Double]?
    public var statistics: Statistics?
    /// Numbers (numeric, aggregate, fraud rate, ratio) become bins instead of a value.
    public var bins: Bins?
    public var vocabulary: [String]?
    public var buckets: Int?
    public var bucketsHours: [Double]?
    public var fromHour: Int?
    public var toHour: Int?
    public var value: String?
    public var of: [String]?
    /// Dotted path of the entity key (`customer_id`, `device.id`, `payee.id`).
    public var key: String?
    public var function: Function?
    /// Dotted path of the aggregated value (sum, mean, distinct count).
    public var field: String?
    public var windowHours: Double?
    /// Only events of these kinds count towards an aggregate; all when absent.
    public var eventKinds: [String]?
    /// Aggregates: whether the event itself counts in its window (known at scoring time: its
    /// amount, its device). Never for a fraud rate, whose event's label is not known yet.
    public var includeCurrent: Bool?
    /// Ratio: the aggregate feature (defined earlier) holding the entity's usual value.
    public var against: String?
    /// Ratio: how to compare; `log_ratio` when absent.
    public var compare: Comparison?
    /// Ratio by standard deviations: the aggregate `std` feature (defined earlier).
    public var spread: String?
    public var labelDelayHours: Double?
    public var priorRate: Double?
    public var priorWeight: Double?

    /// Whether this feature has a part learnt from training rows that is not learnt yet.
    public var needsFitting: Bool {
        (bins?.needsFitting ?? false) || (transform == .standardize && statistics == nil && bins == nil)
    }

    public init(name: String, kind: Kind, source: String? = nil, description: String? = nil) {
        self.name = name
        self.kind = kind
        self.source = source
        self.description = description
    }

    enum CodingKeys: String, CodingKey {
        case name, kind, source, description, transform, clip, statistics, bins, vocabulary, buckets, value, of, key, function, field
        case against, compare, spread
        case includeCurrent = "include_current"
        case bucketsHours = "buckets_hours"
        case fromHour = "from_hour"
        case toHour = "to_hour"
        case windowHours = "window_hours"
        case eventKinds = "event_kinds"
        case labelDelayHours = "label_delay_hours"
        case priorRate = "prior_rate"
        case priorWeight = "prior_weight"
    }
}

extension Array where Element == any CodingKey {
    /// `features[3].kind`: object keys joined by dots, array positions in brackets.
    var dottedPath: String {
        var path = ""
        for key in self {
            if let index = key.intValue {
                path += "[\(index)]"
            } else {
                if !path.isEmpty { path += "." }
                path += key.stringValue
            }
        }
        return path
    }
}
