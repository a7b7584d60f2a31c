import RiskContract
import RiskFeatures

/// Labelled rows for a trainer: a dense matrix, 0/1 labels and optional sample weights.
///
/// ```swift
/// let data = try TrainingData(features: matrix, labels: [0, 1, 1], columns: ["a", "b"])
/// ```
public struct TrainingData: Sendable {
    public var features: Matrix
    /// 1 for fraud, 0 for genuine.
    public var labels: [Double]
    /// One non-negative weight per row; `nil` means every row weighs 1.
    public var sampleWeights: [Double]?
    public var columns: [String]

    /// Checks shapes and values.
    ///
    /// - Throws: ``ModelError/invalidData(field:reason:)`` for a label other than 0 or 1, a
    ///   non-finite feature (naming its column), a negative or non-finite weight, or no rows.
    public init(features: Matrix, labels: [Double], sampleWeights: [Double]? = nil, columns: [String]? = nil)
        throws(ModelError)
    {
        let names = columns ?? (0..<features.columns).map { "x\($0)" }
        guard names.count == features.columns else {
            throw .invalidData(field: nil, reason: "\(names.count) column names for \(features.columns) columns")
        }
        guard features.rows > 0 else { throw .invalidData(field: nil, reason: "no rows to train on") }
        guard labels.count == features.rows else {
            throw .invalidData(field: nil, reason: "\(labels.count) labels for \(features.rows) rows")
        }
        if let index = labels.firstIndex(where: { $0 != 0 && $0 != 1 }) {
            throw .invalidData(field: "label", reason: "row \(index + 1): label \(labels[index]) is not 0 or 1")
        }
        if let index = features.values.firstIndex(where: { !$0.isFinite }) {
            throw .invalidData(
                field: names[index % features.columns], reason: "row \(index / features.columns + 1): value is not a finite number")
        }
        if let sampleWeights {
            guard sampleWeights.count == features.rows else {
                throw .invalidData(field: "weight", reason: "\(sampleWeights.count) weights for \(features.rows) rows")
            }
            if let index = sampleWeights.firstIndex(where: { !($0.isFinite && $0 >= 0) }) {
                throw .invalidData(field: "weight", reason: "row \(index + 1): weight must be finite and non-negative")
            }
        }
        self.init(checked: features, labels: labels, sampleWeights: sampleWeights, columns: names)
    }

    /// Rows already checked (a subset of checked data): a second scan of a gigabyte of features
    /// would find nothing.
    private init(checked features: Matrix, labels: [Double], sampleWeights: [Double]?, columns: [String]) {
        self.features = features
        self.labels = labels
        self.sampleWeights = sampleWeights
        self.columns = columns
    }

    public var rowCount: Int { features.rows }

    /// The weight of row `i` (1 when unweighted).
    @inlinable public func weight(_ row: Int) -> Double { sampleWeights?[row] ?? 1 }

    /// Total weight of the positive and the negative rows.
    public var classWeightTotals: (negative: Double, positive: Double) {
        var negative = 0.0, positive = 0.0
        for row in 0..<rowCount {
            if labels[row] == 1 { positive += weight(row) } else { negative += weight(row) }
        }
        return (negative, positive)
    }

    /// Fails unless both classes carry weight: no trainer can learn from one class.
    public func requireBothClasses() throws(ModelError) {
        let totals = classWeightTotals
        guard totals.positive > 0, totals.negative > 0 else {
            let present = totals.positive > 0 ? "fraud (1)" : "genuine (0)"
            throw .invalidData(field: "label", reason: "only one class present (\(present)); training needs both fraud and genuine rows")
        }
    }

    /// The rows at `indices`, in that order.
    public func subset(_ indices: some Collection<Int>) throws(ModelError) -> TrainingData {
        guard !indices.isEmpty else { throw .invalidData(field: nil, reason: "no rows to train on") }
        return TrainingData(
            checked: features.rows(indices),
            labels: indices.map { labels[$0] }, sampleWeights: sampleWeights.map { weights in indices.map { weights[$0] } },
            columns: columns)
    }
}
