import Foundation

/// A map from a model's raw output to a calibrated probability, fitted on held-out rows only.
///
/// - Platt: `p = 1 / (1 + exp(a·f + b))` on the raw score `f` (log-odds), fitted by maximum
///   likelihood against Platt's prior-corrected targets `(N₊ + 1)/(N₊ + 2)` and `1/(N₋ + 2)`
///   (weights count as rows), as scikit-learn's sigmoid calibration.
/// - Isotonic: the weighted isotonic (non-decreasing) regression of the label on the uncalibrated
///   probability, by pool-adjacent-violators, read by linear interpolation between the fitted
///   points and clipped to their range, as scikit-learn's `IsotonicRegression(out_of_bounds="clip")`.
public enum Calibration: Sendable, Equatable {
    case platt(a: Double, b: Double)
    case isotonic(x: [Double], y: [Double])

    public enum Method: String, Sendable, Codable, CaseIterable {
        case none, platt, isotonic
    }

    /// The calibrated probability of a row with raw score `raw` and uncalibrated probability `probability`.
    public func apply(raw: Double, probability: Double) -> Double {
        switch self {
        case .platt(let a, let b):
            return Logistic.sigmoid(-(a * raw + b))
        case .isotonic(let x, let y):
            return Self.interpolate(x: x, y: y, at: probability)
        }
    }

    /// Fits Platt scaling on raw scores.
    public static func fitPlatt(scores: [Double], labels: [Double], weights: [Double]? = nil) -> Calibration {
        var positives = 0.0, negatives = 0.0
        for row in labels.indices {
            if labels[row] == 1 { positives += weights?[row] ?? 1 } else { negatives += weights?[row] ?? 1 }
        }
        let targetPositive = (positives + 1) / (positives + 2), targetNegative = 1 / (negatives + 2)
        let total = positives + negatives
        let objective = { (ab: [Double], gradient: inout [Double]) -> Double in
            var loss = 0.0, ga = 0.0, gb = 0.0
            for row in scores.indices {
                let w = weights?[row] ?? 1
                let t = labels[row] == 1 ? targetPositive : targetNegative
                let z = -(ab[0] * scores[row] + ab[1])
                loss += w * Logistic.logLoss(label: t, score: z)
                // d loss / dz = σ(z) − t; dz/da = −f, dz/db = −1.
                let residual = w * (Logistic.sigmoid(z) - t)
                ga -= residual * scores[row]
                gb -= residual
            }
            gradient[0] = ga / total
            gradient[1] = gb / total
            return loss / total
        }
        let start = [0, log((negatives + 1) / (positives + 1))]
        let result = LBFGS(tolerance: 1e-12, maxIterations: 1000).minimize(from: start, objective: objective)
        return .platt(a: result.x[0], b: result.x[1])
    }

    /// Fits isotonic regression of the labels on uncalibrated probabilities.
    public static func fitIsotonic(probabilities: [Double], labels: [Double], weights: [Double]? = nil) -> Calibration {
        let order = probabilities.indices.sorted { probabilities[$0] < probabilities[$1] }
        // Equal x values first become one point: weighted mean label, summed weight.
        var xs: [Double] = [], means: [Double] = [], totals: [Double] = []
        for row in order {
            let w = weights?[row] ?? 1
            if let last = xs.last, last == probabilities[row] {
                let index = xs.count - 1
                let combined = totals[index] + w
                if combined > 0 { means[index] = (means[index] * totals[index] + labels[row] * w) / combined }
                totals[index] = combined
            } else {
                xs.append(probabilities[row])
                means.append(labels[row])
                totals.append(w)
            }
        }
        // Pool adjacent violators over blocks of points.
        var blockValue: [Double] = [], blockWeight: [Double] = [], blockEnd: [Int] = []
        for index in xs.indices {
            blockValue.append(means[index])
            blockWeight.append(totals[index])
            blockEnd.append(index)
            while blockValue.count > 1, blockValue[blockValue.count - 2] > blockValue[blockValue.count - 1] {
                let w = blockWeight[blockWeight.count - 2] + blockWeight[blockWeight.count - 1]
                let value =
                    w > 0
                    ? (blockValue[blockValue.count - 2] * blockWeight[blockWeight.count - 2]
                        + blockValue[blockValue.count - 1] * blockWeight[blockWeight.count - 1]) / w
                    : blockValue[blockValue.count - 1]
                blockValue.removeLast()
                blockWeight.removeLast()
                let end = blockEnd.removeLast()
                blockValue[blockValue.count - 1] = value
                blockWeight[blockWeight.count - 1] = w
                blockEnd[blockEnd.count - 1] = end
            }
        }
        var fitted = [Double](repeating: 0, count: xs.count)
        var start = 0
        for (block, end) in blockEnd.enumerated() {
            for index in start...end { fitted[index] = min(max(blockValue[block], 0), 1) }
            start = end + 1
        }
        return .isotonic(x: xs, y: fitted)
    }

    /// Linear interpolation through (x, y), x ascending, clipped to [x₀, xₙ].
    static func interpolate(x: [Double], y: [Double], at value: Double) -> Double {
        guard let first = x.first, let last = x.last else { return value }
        if value <= first { return y[0] }
        if value >= last { return y[y.count - 1] }
        var low = 0, high = x.count - 1
        while high - low > 1 {
            let middle = (low + high) / 2
            if x[middle] <= value { low = middle } else { high = middle }
        }
        let fraction = (value - x[low]) / (x[high] - x[low])
        return y[low] + fraction * (y[high] - y[low])
    }
}

extension Calibration: Codable {
    enum CodingKeys: String, CodingKey {
        case method, a, b, x, y
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        switch try container.decode(String.self, forKey: .method) {
        case "platt":
            self = .platt(a: try container.decode(Double.self, forKey: .a), b: try container.decode(Double.self, forKey: .b))
        case "isotonic":
            let x = try container.decode([Double].self, forKey: .x), y = try container.decode([Double].self, forKey: .y)
            guard x.count == y.count, !x.isEmpty, zip(x, x.dropFirst()).allSatisfy({ $0 < $1 }) else {
                throw DecodingError.dataCorruptedError(
                    forKey: .x, in: container, debugDescription: "isotonic points must be non-empty, paired and strictly increasing in x")
            }
            self = .isotonic(x: x, y: y)
        case let other:
            throw DecodingError.dataCorruptedError(forKey: .method, in: container, debugDescription: "unknown calibration '\(other)'")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .platt(let a, let b):
            try container.encode("platt", forKey: .method)
            try container.encode(a, forKey: .a)
            try container.encode(b, forKey: .b)
        case .isotonic(let x, let y):
            try container.encode("isotonic", forKey: .method)
            try container.encode(x, forKey: .x)
            try container.encode(y, forKey: .y)
        }
    }
}
