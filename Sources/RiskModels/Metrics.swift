import Foundation

/// Evaluation metrics for binary scores, with scikit-learn's definitions and sample weights.
///
/// - ROC AUC: area under the ROC curve by the trapezoidal rule over distinct thresholds, so
///   tied scores count ½ (`roc_auc_score`).
/// - Average precision: Σₙ (Rₙ − Rₙ₋₁)·Pₙ over distinct thresholds, highest first
///   (`average_precision_score`); no interpolation.
/// - Log loss: weighted mean of −[y·log p + (1−y)·log(1−p)], p clipped to [ε, 1−ε] with ε the
///   double-precision machine epsilon (`log_loss`).
/// - Brier score: weighted mean of (y − p)² (`brier_score_loss`).
/// - KS: the largest TPR − FPR over thresholds.
/// - Calibration table: uniform bins on [0, 1], each (lower, upper], the first [0, upper]
///   (`calibration_curve`'s binning), with weighted mean prediction and fraud share.
/// - Precision and recall of "score ≥ threshold"; precision@k over the k highest scores, all rows
///   tied with the k-th included.
///
/// Metrics that need both classes are `nil` on a one-class set, with a note that says why.
public enum Metrics {
    /// Weighted true- and false-positive totals at each distinct threshold, highest score first.
    static func curve(labels: [Double], scores: [Double], weights: [Double]?) -> (tps: [Double], fps: [Double], thresholds: [Double]) {
        let order = scores.indices.sorted { scores[$0] > scores[$1] }
        var tps: [Double] = [], fps: [Double] = [], thresholds: [Double] = []
        var tp = 0.0, fp = 0.0
        for (position, row) in order.enumerated() {
            let w = weights?[row] ?? 1
            if labels[row] == 1 { tp += w } else { fp += w }
            if position == order.count - 1 || scores[order[position + 1]] != scores[row] {
                tps.append(tp)
                fps.append(fp)
                thresholds.append(scores[row])
            }
        }
        return (tps, fps, thresholds)
    }

    public static func rocAUC(labels: [Double], scores: [Double], weights: [Double]? = nil) -> Double? {
        let (tps, fps, _) = curve(labels: labels, scores: scores, weights: weights)
        guard let positives = tps.last, let negatives = fps.last, positives > 0, negatives > 0 else { return nil }
        var area = 0.0, previousTPR = 0.0, previousFPR = 0.0
        for index in tps.indices {
            let tpr = tps[index] / positives, fpr = fps[index] / negatives
            area += (fpr - previousFPR) * (tpr + previousTPR) / 2
            previousTPR = tpr
            previousFPR = fpr
        }
        return area
    }

    public static func averagePrecision(labels: [Double], scores: [Double], weights: [Double]? = nil) -> Double? {
        let (tps, fps, _) = curve(labels: labels, scores: scores, weights: weights)
        guard let positives = tps.last, positives > 0 else { return nil }
        var sum = 0.0, previousRecall = 0.0
        for index in tps.indices {
            let recall = tps[index] / positives
            let precision = tps[index] / (tps[index] + fps[index])
            sum += (recall - previousRecall) * precision
            previousRecall = recall
        }
        return sum
    }

    public static func ks(labels: [Double], scores: [Double], weights: [Double]? = nil) -> Double? {
        let (tps, fps, _) = curve(labels: labels, scores: scores, weights: weights)
        guard let positives = tps.last, let negatives = fps.last, positives > 0, negatives > 0 else { return nil }
        return tps.indices.map { tps[$0] / positives - fps[$0] / negatives }.reduce(0, max)
    }

    public static func logLoss(labels: [Double], probabilities: [Double], weights: [Double]? = nil) -> Double {
        let epsilon = Double.ulpOfOne
        var sum = 0.0, total = 0.0
        for row in labels.indices {
            let w = weights?[row] ?? 1
            let p = min(max(probabilities[row], epsilon), 1 - epsilon)
            sum -= w * (labels[row] == 1 ? log(p) : log(1 - p))
            total += w
        }
        return sum / total
    }

    public static func brier(labels: [Double], probabilities: [Double], weights: [Double]? = nil) -> Double {
        var sum = 0.0, total = 0.0
        for row in labels.indices {
            let w = weights?[row] ?? 1
            let error = labels[row] - probabilities[row]
            sum += w * error * error
            total += w
        }
        return sum / total
    }

    /// Precision and recall of flagging every row with `score ≥ threshold`; `nil` when undefined
    /// (nothing flagged, or no fraud).
    public static func precisionRecall(labels: [Double], scores: [Double], weights: [Double]? = nil, threshold: Double)
        -> (precision: Double?, recall: Double?)
    {
        var truePositive = 0.0, flagged = 0.0, positives = 0.0
        for row in labels.indices {
            let w = weights?[row] ?? 1
            if scores[row] >= threshold {
                flagged += w
                if labels[row] == 1 { truePositive += w }
            }
            if labels[row] == 1 { positives += w }
        }
        return (flagged > 0 ? truePositive / flagged : nil, positives > 0 ? truePositive / positives : nil)
    }

    /// The fraud share (by weight) among the `k` highest scores, ties with the k-th included.
    public static func precisionAtK(labels: [Double], scores: [Double], weights: [Double]? = nil, k: Int) -> Double? {
        guard k >= 1, !scores.isEmpty else { return nil }
        let cutoff = scores.sorted(by: >)[min(k, scores.count) - 1]
        var fraud = 0.0, total = 0.0
        for row in labels.indices where scores[row] >= cutoff {
            let w = weights?[row] ?? 1
            total += w
            if labels[row] == 1 { fraud += w }
        }
        return total > 0 ? fraud / total : nil
    }

    /// Uniform-width bins over [0, 1]; only bins that hold rows are returned.
    public static func calibrationTable(labels: [Double], probabilities: [Double], weights: [Double]? = nil, bins: Int = 10)
        -> [CalibrationBin]
    {
        precondition(bins >= 1, "at least one bin")
        // numpy.linspace's edges: k · (1 / bins).
        let step = 1 / Double(bins)
        var weight = [Double](repeating: 0, count: bins), predicted = weight, fraud = weight
        var count = [Int](repeating: 0, count: bins)
        for row in labels.indices {
            let p = probabilities[row]
            var bin = 0
            while bin < bins - 1, Double(bin + 1) * step < p { bin += 1 }
            let w = weights?[row] ?? 1
            count[bin] += 1
            weight[bin] += w
            predicted[bin] += w * p
            fraud[bin] += w * labels[row]
        }
        return (0..<bins).filter { count[$0] > 0 }.map { bin in
            CalibrationBin(
                lower: Double(bin) * step, upper: bin == bins - 1 ? 1 : Double(bin + 1) * step, rows: count[bin], weight: weight[bin],
                meanPredicted: predicted[bin] / weight[bin], fraudShare: fraud[bin] / weight[bin])
        }
    }

    /// Every metric at once, for a model card or `riskloop evaluate`.
    ///
    /// - Parameters:
    ///   - probabilities: calibrated P(fraud) of each row.
    ///   - thresholds: where to report precision and recall (the policy's thresholds).
    ///   - topK: where to report precision@k.
    public static func evaluate(
        labels: [Double], probabilities: [Double], weights: [Double]? = nil, thresholds: [Double] = [0.5], topK: [Int] = [100]
    ) -> BinaryMetrics {
        precondition(labels.count == probabilities.count, "one probability per label")
        var notes: [String] = []
        let positives = labels.indices.reduce(0.0) { $0 + (labels[$1] == 1 ? weights?[$1] ?? 1 : 0) }
        let total = labels.indices.reduce(0.0) { $0 + (weights?[$1] ?? 1) }
        if positives == 0 || positives == total {
            notes.append(
                "only one class (\(positives == 0 ? "genuine" : "fraud")) in these rows: ROC AUC, average precision and KS are undefined")
        }
        return BinaryMetrics(
            rows: labels.count, positiveWeight: positives, totalWeight: total,
            rocAUC: rocAUC(labels: labels, scores: probabilities, weights: weights),
            averagePrecision: averagePrecision(labels: labels, scores: probabilities, weights: weights),
            logLoss: logLoss(labels: labels, probabilities: probabilities, weights: weights),
            brier: brier(labels: labels, probabilities: probabilities, weights: weights),
            ks: ks(labels: labels, scores: probabilities, weights: weights),
            calibration: calibrationTable(labels: labels, probabilities: probabilities, weights: weights),
            atThresholds: thresholds.map { threshold in
                let (precision, recall) = precisionRecall(labels: labels, scores: probabilities, weights: weights, threshold: threshold)
                return .init(threshold: threshold, precision: precision, recall: recall)
            },
            precisionAtK: topK.map {
                .init(k: $0, precision: precisionAtK(labels: labels, scores: probabilities, weights: weights, k: $0))
            },
            operatingPoints: operatingPoints(labels: labels, scores: probabilities, weights: weights),
            notes: notes)
    }

    /// How many points of the score curve ``operatingPoints(labels:scores:weights:)`` keeps,
    /// besides the fixed grid.
    public static let operatingCurvePoints = 200
    /// The fixed thresholds every operating curve includes: k / 100 for k = 0…100 (each the
    /// double nearest the decimal, so a threshold written `0.95` in a policy is on the grid).
    public static let operatingGridDivisions = 100

    /// The weighted confusion counts of "score ≥ threshold" at a sample of thresholds, highest
    /// first: up to ``operatingCurvePoints`` distinct scores spread evenly along the curve (so the
    /// ROC and precision–recall curves keep their shape where the scores crowd), plus every
    /// k / ``operatingGridDivisions`` in [0, 1] (so a policy threshold on that grid reads its
    /// confusion matrix exactly, and score histograms come from differences).
    public static func operatingPoints(labels: [Double], scores: [Double], weights: [Double]? = nil) -> [OperatingPoint] {
        let (tps, fps, thresholds) = curve(labels: labels, scores: scores, weights: weights)
        let positives = tps.last ?? 0, negatives = fps.last ?? 0
        // Counts at "score ≥ t": the last distinct threshold (they descend) that is ≥ t.
        func point(at threshold: Double) -> OperatingPoint {
            var low = 0, high = thresholds.count
            while low < high {
                let middle = (low + high) / 2
                if thresholds[middle] >= threshold { low = middle + 1 } else { high = middle }
            }
            let tp = low == 0 ? 0 : tps[low - 1], fp = low == 0 ? 0 : fps[low - 1]
            return OperatingPoint(
                threshold: threshold, truePositives: tp, falsePositives: fp, falseNegatives: positives - tp, trueNegatives: negatives - fp)
        }
        var chosen = Set((0...operatingGridDivisions).map { Double($0) / Double(operatingGridDivisions) })
        if !thresholds.isEmpty {
            let step = max(1, thresholds.count / operatingCurvePoints)
            for index in stride(from: 0, to: thresholds.count, by: step) { chosen.insert(thresholds[index]) }
            chosen.insert(thresholds[thresholds.count - 1])
        }
        return chosen.sorted(by: >).map(point(at:))
    }
}

/// The weighted confusion matrix of flagging every row whose score is at least `threshold`.
public struct OperatingPoint: Sendable, Codable, Equatable {
    public var threshold: Double
    public var truePositives: Double
    public var falsePositives: Double
    public var falseNegatives: Double
    public var trueNegatives: Double

    /// Share of fraud flagged; `nil` without fraud.
    public var recall: Double? {
        truePositives + falseNegatives > 0 ? truePositives / (truePositives + falseNegatives) : nil
    }
    /// Share of genuine rows flagged; `nil` without genuine rows.
    public var falsePositiveRate: Double? {
        falsePositives + trueNegatives > 0 ? falsePositives / (falsePositives + trueNegatives) : nil
    }
    /// Share of fraud among flagged rows; `nil` when nothing is flagged.
    public var precision: Double? {
        truePositives + falsePositives > 0 ? truePositives / (truePositives + falsePositives) : nil
    }

    enum CodingKeys: String, CodingKey {
        case threshold
        case truePositives = "tp"
        case falsePositives = "fp"
        case falseNegatives = "fn"
        case trueNegatives = "tn"
    }
}

/// One bin of a calibration table.
public struct CalibrationBin: Sendable, Codable, Equatable {
    public var lower: Double
    public var upper: Double
    public var rows: Int
    public var weight: Double
    public var meanPredicted: Double
    public var fraudShare: Double

    enum CodingKeys: String, CodingKey {
        case lower, upper, rows, weight
        case meanPredicted = "mean_predicted"
        case fraudShare = "fraud_share"
    }
}

/// The metrics of a model on a set of rows.
public struct BinaryMetrics: Sendable, Codable, Equatable {
    public struct AtThreshold: Sendable, Codable, Equatable {
        public var threshold: Double
        public var precision: Double?
        public var recall: Double?
    }

    public struct AtK: Sendable, Codable, Equatable {
        public var k: Int
        public var precision: Double?
    }

    public var rows: Int
    public var positiveWeight: Double
    public var totalWeight: Double
    public var rocAUC: Double?
    public var averagePrecision: Double?
    public var logLoss: Double
    public var brier: Double
    public var ks: Double?
    public var calibration: [CalibrationBin]
    public var atThresholds: [AtThreshold]
    public var precisionAtK: [AtK]
    /// Confusion counts along the score curve, highest threshold first (ROC, precision–recall,
    /// score histograms and policy confusion matrices for the model card); absent in models
    /// evaluated before it existed.
    public var operatingPoints: [OperatingPoint]?
    /// Why a metric is missing, in words.
    public var notes: [String]

    enum CodingKeys: String, CodingKey {
        case rows, brier, ks, calibration, notes
        case positiveWeight = "positive_weight"
        case totalWeight = "total_weight"
        case rocAUC = "roc_auc"
        case averagePrecision = "average_precision"
        case logLoss = "log_loss"
        case atThresholds = "at_thresholds"
        case precisionAtK = "precision_at_k"
        case operatingPoints = "operating_points"
    }
}
