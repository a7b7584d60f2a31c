import Dispatch
import Foundation
import RiskContract
import RiskFeatures
import Synchronization

/// Naive Bayes over mixed columns: Gaussian, Bernoulli and categorical in one model, with the
/// estimates of scikit-learn's `GaussianNB`, `BernoulliNB` and `CategoricalNB`.
///
/// - Gaussian columns: per-class weighted mean and (population) variance, plus
///   `varSmoothing × ` the largest variance of any Gaussian column over all rows (unweighted), as
///   scikit-learn's `epsilon_`.
/// - Bernoulli columns (values 0 or 1): P(x = 1 | class) = (Σw·x + α) / (Σw + 2α).
/// - Categorical columns (codes 0, 1, 2, …): P(x = k | class) = (Σw·[x = k] + α) / (Σw + α·K),
///   K the number of categories seen.
/// - Level columns (values 0 or 1): one level of a one-hot group of K columns (a number's bins),
///   the group read as one categorical feature: the set column adds log((Σw·x + α) / (Σw + α·K)),
///   the others nothing; scikit-learn's `CategoricalNB` on the group's codes.
///
/// The model keeps sufficient statistics (weights, means, sums of squared deviations, counts),
/// so ``NaiveBayesModel/partialFit(_:)`` merges new rows exactly: a fit in chunks equals a fit on
/// all rows.
///
/// ```swift
/// var model = try NaiveBayes(kinds: [.gaussian, .bernoulli]).fit(data)
/// try model.partialFit(newRows)
/// let p = model.probabilities(features)
/// ```
public struct NaiveBayes: Sendable {
    public var kinds: [ColumnKind]
    /// For each level column, the size of its one-hot group; ignored for other kinds.
    public var levelGroupSizes: [Int]?
    public var hyperparameters: Hyperparameters

    public init(kinds: [ColumnKind], levelGroupSizes: [Int]? = nil, hyperparameters: Hyperparameters = Hyperparameters()) {
        self.kinds = kinds
        self.levelGroupSizes = levelGroupSizes
        self.hyperparameters = hyperparameters
    }

    public enum ColumnKind: String, Sendable, Codable, Equatable, CaseIterable {
        case gaussian, bernoulli, categorical
        /// One column of a one-hot group read as one categorical feature (see ``NaiveBayes``).
        case level
    }

    public struct Hyperparameters: Sendable, Codable, Equatable {
        /// Added to every Gaussian variance, relative to the largest column variance.
        public var varSmoothing: Double = 1e-9
        /// Laplace smoothing of Bernoulli and categorical columns.
        public var alpha: Double = 1

        public init(varSmoothing: Double = 1e-9, alpha: Double = 1) {
            self.varSmoothing = varSmoothing
            self.alpha = alpha
        }

        enum CodingKeys: String, CodingKey {
            case alpha
            case varSmoothing = "var_smoothing"
        }
    }

    /// Fits on `data` (both classes needed).
    public func fit(_ data: TrainingData) throws(ModelError) -> NaiveBayesModel {
        guard kinds.count == data.features.columns else {
            throw .invalidData(field: nil, reason: "\(kinds.count) column kinds for \(data.features.columns) columns")
        }
        guard hyperparameters.varSmoothing >= 0, hyperparameters.alpha > 0 else {
            throw .invalidHyperparameter(name: "alpha / var-smoothing", reason: "alpha must be positive and var_smoothing non-negative")
        }
        if kinds.contains(.level) {
            guard let sizes = levelGroupSizes, sizes.count == kinds.count,
                kinds.indices.allSatisfy({ kinds[$0] != .level || sizes[$0] >= 2 })
            else {
                throw .invalidData(field: nil, reason: "level columns need the size (2 or more) of their one-hot group")
            }
        }
        try data.requireBothClasses()
        var model = NaiveBayesModel(
            kinds: kinds, levelGroupSizes: kinds.contains(.level) ? levelGroupSizes : nil, hyperparameters: hyperparameters)
        try model.partialFit(data)
        return model
    }
}

/// A naive Bayes model: its sufficient statistics and what they predict.
public struct NaiveBayesModel: Sendable, Codable, Equatable {
    public var kinds: [NaiveBayes.ColumnKind]
    /// For each level column, the size of its one-hot group (absent without level columns).
    public var levelGroupSizes: [Int]?
    public var hyperparameters: NaiveBayes.Hyperparameters
    /// Σ weights of each class: [genuine, fraud].
    public var classWeights: [Double]
    /// Per class, per column: weighted mean (Gaussian columns; 0 elsewhere).
    public var means: [[Double]]
    /// Per class, per column: weighted sum of squared deviations from the mean (Gaussian columns).
    public var squaredDeviations: [[Double]]
    /// Rows seen, unweighted, and per column their mean and sum of squared deviations: the
    /// variance behind scikit-learn's `epsilon_`.
    public var rowsSeen: Double
    public var overallMeans: [Double]
    public var overallSquaredDeviations: [Double]
    /// Per class, per column: Σw·x (Bernoulli and level columns).
    public var ones: [[Double]]
    /// Per class, per column, per category code: Σw·[x = k] (categorical columns; empty elsewhere).
    public var categoryCounts: [[[Double]]]

    init(kinds: [NaiveBayes.ColumnKind], levelGroupSizes: [Int]? = nil, hyperparameters: NaiveBayes.Hyperparameters) {
        let columns = kinds.count
        self.kinds = kinds
        self.levelGroupSizes = levelGroupSizes
        self.hyperparameters = hyperparameters
        classWeights = [0, 0]
        means = Array(repeating: Array(repeating: 0, count: columns), count: 2)
        squaredDeviations = means
        rowsSeen = 0
        overallMeans = Array(repeating: 0, count: columns)
        overallSquaredDeviations = overallMeans
        ones = means
        categoryCounts = Array(repeating: Array(repeating: [], count: columns), count: 2)
    }

    enum CodingKeys: String, CodingKey {
        case kinds, hyperparameters, means, ones
        case classWeights = "class_weights"
        case squaredDeviations = "squared_deviations"
        case levelGroupSizes = "level_group_sizes"
        case rowsSeen = "rows_seen"
        case overallMeans = "overall_means"
        case overallSquaredDeviations = "overall_squared_deviations"
        case categoryCounts = "category_counts"
    }

    /// Rows per work chunk; chunks are merged in order, so results do not depend on the core count.
    static let chunkRows = 8192

    /// Adds `data` to the model, exactly as if it had been part of the first fit.
    ///
    /// - Throws: ``ModelError`` when a Bernoulli column holds something other than 0 or 1, or a
    ///   categorical column something other than a non-negative whole number.
    public mutating func partialFit(_ data: TrainingData) throws(ModelError) {
        guard kinds.count == data.features.columns else {
            throw .invalidData(field: nil, reason: "model has \(kinds.count) columns, the data \(data.features.columns)")
        }
        try validateValues(data.features, columns: data.columns)
        let rows = data.rowCount
        let chunks = (rows + Self.chunkRows - 1) / Self.chunkRows
        let partials = Mutex<[NaiveBayesModel?]>(Array(repeating: nil, count: chunks))
        let empty = NaiveBayesModel(kinds: kinds, levelGroupSizes: levelGroupSizes, hyperparameters: hyperparameters)
        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
            let range = (chunk * Self.chunkRows)..<min((chunk + 1) * Self.chunkRows, rows)
            let statistics = empty.chunkStatistics(data, rows: range)
            partials.withLock { $0[chunk] = statistics }
        }
        for partial in partials.withLock({ $0 }) {
            merge(partial!)
        }
    }

    private func validateValues(_ features: Matrix, columns: [String]) throws(ModelError) {
        for (j, kind) in kinds.enumerated() where kind != .gaussian {
            for row in 0..<features.rows {
                let value = features[row, j]
                switch kind {
                case .bernoulli where value != 0 && value != 1, .level where value != 0 && value != 1:
                    throw .invalidData(
                        field: columns[j],
                        reason: "row \(row + 1): \(kind == .level ? "level" : "Bernoulli") column holds \(value), not 0 or 1")
                case .categorical where !(value >= 0 && value == value.rounded() && value < 1e6):
                    throw .invalidData(
                        field: columns[j], reason: "row \(row + 1): categorical column holds \(value), not a code 0, 1, 2, …")
                default: break
                }
            }
        }
    }

    /// The statistics of one chunk of rows in a single pass over them.
    ///
    /// Sums are taken of `x − shift`, with the chunk's first row as the shift, so that the sums
    /// of squares do not cancel (the shifted values are of the order of a standard deviation);
    /// mean and squared deviations follow from them, and ``merge(_:)`` combines chunks exactly.
    /// One pass that the compiler vectorises over columns reads the matrix once, where BLAS would
    /// need a pass per class and per moment.
    private func chunkStatistics(_ data: TrainingData, rows: Range<Int>) -> NaiveBayesModel {
        var statistics = self
        let columns = kinds.count
        let shift = Array(data.features.values[(rows.lowerBound * columns)..<((rows.lowerBound + 1) * columns)])
        // Per class: Σw·d and Σw·d² (d = x − shift); over all rows, unweighted: Σd and Σd².
        var sums = [[Double]](repeating: [Double](repeating: 0, count: columns), count: 2)
        var squares = sums
        var overallSum = [Double](repeating: 0, count: columns), overallSquares = overallSum
        let categorical = kinds.indices.filter { kinds[$0] == .categorical }
        data.features.values.withUnsafeBufferPointer { values in
            shift.withUnsafeBufferPointer { shift in
                for row in rows {
                    let c = Int(data.labels[row]), w = data.weight(row)
                    statistics.classWeights[c] += w
                    let x = UnsafeBufferPointer(rebasing: values[(row * columns)..<((row + 1) * columns)])
                    sums[c].withUnsafeMutableBufferPointer { sum in
                        squares[c].withUnsafeMutableBufferPointer { square in
                            overallSum.withUnsafeMutableBufferPointer { overall in
                                overallSquares.withUnsafeMutableBufferPointer { overallSquare in
                                    for j in 0..<columns {
                                        let d = x[j] - shift[j]
                                        sum[j] += w * d
                                        square[j] += w * d * d
                                        overall[j] += d
                                        overallSquare[j] += d * d
                                    }
                                }
                            }
                        }
                    }
                    for j in categorical {
                        let code = Int(x[j])
                        for k in 0..<2 where statistics.categoryCounts[k][j].count <= code {
                            statistics.categoryCounts[k][j] += repeatElement(0, count: code + 1 - statistics.categoryCounts[k][j].count)
                        }
                        statistics.categoryCounts[c][j][code] += w
                    }
                }
            }
        }
        let n = Double(rows.count)
        statistics.rowsSeen = n
        for j in 0..<columns {
            switch kinds[j] {
            case .gaussian:
                for c in 0..<2 where statistics.classWeights[c] > 0 {
                    let weight = statistics.classWeights[c]
                    statistics.means[c][j] = shift[j] + sums[c][j] / weight
                    statistics.squaredDeviations[c][j] = max(squares[c][j] - sums[c][j] * sums[c][j] / weight, 0)
                }
                statistics.overallMeans[j] = shift[j] + overallSum[j] / n
                statistics.overallSquaredDeviations[j] = max(overallSquares[j] - overallSum[j] * overallSum[j] / n, 0)
            case .bernoulli, .level:
                // Σw·x = Σw·d + shift·Σw.
                for c in 0..<2 { statistics.ones[c][j] = sums[c][j] + shift[j] * statistics.classWeights[c] }
            case .categorical:
                break
            }
        }
        return statistics
    }

    /// Chan et al.'s pairwise update: exact up to rounding, in any grouping.
    private mutating func merge(_ other: NaiveBayesModel) {
        for c in 0..<2 {
            let (a, b) = (classWeights[c], other.classWeights[c])
            let total = a + b
            for j in kinds.indices {
                switch kinds[j] {
                case .gaussian where total > 0:
                    let delta = other.means[c][j] - means[c][j]
                    means[c][j] += delta * b / total
                    squaredDeviations[c][j] += other.squaredDeviations[c][j] + delta * delta * a * b / total
                case .bernoulli, .level:
                    ones[c][j] += other.ones[c][j]
                case .categorical:
                    let width = max(categoryCounts[c][j].count, other.categoryCounts[c][j].count)
                    categoryCounts[c][j] += repeatElement(0, count: width - categoryCounts[c][j].count)
                    for (k, count) in other.categoryCounts[c][j].enumerated() { categoryCounts[c][j][k] += count }
                default: break
                }
            }
            classWeights[c] = total
        }
        let (n, m) = (rowsSeen, other.rowsSeen)
        for j in kinds.indices where kinds[j] == .gaussian && n + m > 0 {
            let delta = other.overallMeans[j] - overallMeans[j]
            overallMeans[j] += delta * m / (n + m)
            overallSquaredDeviations[j] += other.overallSquaredDeviations[j] + delta * delta * n * m / (n + m)
        }
        rowsSeen = n + m
    }

    /// scikit-learn's `epsilon_`: `varSmoothing ×` the largest Gaussian column variance.
    public var epsilon: Double {
        let largest = kinds.indices.filter { kinds[$0] == .gaussian }.map { overallSquaredDeviations[$0] / rowsSeen }.max() ?? 0
        return hyperparameters.varSmoothing * largest
    }

    /// The per-class variance of a Gaussian column, smoothed.
    public func variance(class c: Int, column j: Int) -> Double {
        squaredDeviations[c][j] / classWeights[c] + epsilon
    }

    /// P(xⱼ = 1 | class c) of a Bernoulli column: (Σw·x + α) / (Σw + 2α); of a level column,
    /// its level's probability (Σw·x + α) / (Σw + α·K).
    public func probabilityOfOne(class c: Int, column j: Int) -> Double {
        (ones[c][j] + hyperparameters.alpha) / (classWeights[c] + Double(levels(column: j)) * hyperparameters.alpha)
    }

    /// How many values column `j` takes: its group's size for a level column, else 2.
    func levels(column j: Int) -> Int {
        kinds[j] == .level ? levelGroupSizes?[j] ?? 2 : 2
    }

    /// P(xⱼ = k | class c) of a categorical column for each code k seen in training (by either
    /// class): (Σw·[x = k] + α) / (Σw + α·K). An unseen code has α / (Σw + α·K).
    public func categoryProbabilities(class c: Int, column j: Int) -> [Double] {
        let categories = max(categoryCounts[0][j].count, categoryCounts[1][j].count)
        let alpha = hyperparameters.alpha, denominator = classWeights[c] + alpha * Double(categories)
        return (0..<categories).map { k in ((k < categoryCounts[c][j].count ? categoryCounts[c][j][k] : 0) + alpha) / denominator }
    }

    /// log P(class) + Σⱼ log P(xⱼ | class) for each row: [[genuine, fraud]].
    public func jointLogLikelihoods(_ features: Matrix) -> [[Double]] {
        precondition(features.columns == kinds.count, "model has \(kinds.count) columns, data \(features.columns)")
        let terms = columnTerms()
        return (0..<features.rows).map { row in
            (0..<2).map { c in
                var sum = terms.logPrior[c]
                let base = row * features.columns
                for j in kinds.indices { sum += terms.logLikelihood(c, j, features.values[base + j]) }
                return sum
            }
        }
    }

    /// P(fraud) of every row, normalised with log-sum-exp.
    public func probabilities(_ features: Matrix) -> [Double] {
        jointLogLikelihoods(features).map { jll in
            let top = max(jll[0], jll[1])
            let logTotal = top + log(exp(jll[0] - top) + exp(jll[1] - top))
            return exp(jll[1] - logTotal)
        }
    }

    /// log-odds of fraud: the raw score that calibration and reason codes start from.
    public func decisionFunction(_ features: Matrix) -> [Double] {
        jointLogLikelihoods(features).map { $0[1] - $0[0] }
    }

    /// Precomputed per-class constants so that scoring a row is a few operations per column.
    func columnTerms() -> ColumnTerms {
        ColumnTerms(self)
    }

    struct ColumnTerms {
        let logPrior: [Double]
        let kinds: [NaiveBayes.ColumnKind]
        let means: [[Double]]
        let inverseVariance: [[Double]]
        /// −½·log(2π·var) for Gaussian columns.
        let gaussianConstant: [[Double]]
        let logOne: [[Double]]
        let logZero: [[Double]]
        let logCategory: [[[Double]]]
        /// log(α / (Σw + α·K)): a code never seen in training.
        let logUnseen: [[Double]]

        init(_ model: NaiveBayesModel) {
            let total = model.classWeights.reduce(0, +)
            let alpha = model.hyperparameters.alpha
            logPrior = model.classWeights.map { log($0 / total) }
            kinds = model.kinds
            means = model.means
            var inverseVariance = model.means, gaussianConstant = model.means
            var logOne = model.means, logZero = model.means, logUnseen = model.means
            var logCategory = model.categoryCounts
            for c in 0..<2 {
                for j in model.kinds.indices {
                    switch model.kinds[j] {
                    case .gaussian:
                        let variance = model.variance(class: c, column: j)
                        inverseVariance[c][j] = 1 / variance
                        gaussianConstant[c][j] = -0.5 * log(2 * Double.pi * variance)
                    case .bernoulli:
                        let denominator = log(model.classWeights[c] + 2 * alpha)
                        logOne[c][j] = log(model.ones[c][j] + alpha) - denominator
                        logZero[c][j] = log(model.classWeights[c] - model.ones[c][j] + alpha) - denominator
                    case .level:
                        // Only the group's set column speaks for it.
                        logOne[c][j] = log(model.probabilityOfOne(class: c, column: j))
                        logZero[c][j] = 0
                    case .categorical:
                        let categories = max(model.categoryCounts[0][j].count, model.categoryCounts[1][j].count)
                        let denominator = log(model.classWeights[c] + alpha * Double(categories))
                        var counts = model.categoryCounts[c][j]
                        counts += repeatElement(0, count: categories - counts.count)
                        logCategory[c][j] = counts.map { log($0 + alpha) - denominator }
                        logUnseen[c][j] = log(alpha) - denominator
                    }
                }
            }
            self.inverseVariance = inverseVariance
            self.gaussianConstant = gaussianConstant
            self.logOne = logOne
            self.logZero = logZero
            self.logCategory = logCategory
            self.logUnseen = logUnseen
        }

        /// log P(xⱼ = value | class c).
        @inline(__always)
        func logLikelihood(_ c: Int, _ j: Int, _ value: Double) -> Double {
            switch kinds[j] {
            case .gaussian:
                let deviation = value - means[c][j]
                return gaussianConstant[c][j] - 0.5 * deviation * deviation * inverseVariance[c][j]
            case .bernoulli, .level:
                return value == 1 ? logOne[c][j] : logZero[c][j]
            case .categorical:
                let code = Int(exactly: value) ?? -1
                return code >= 0 && code < logCategory[c][j].count ? logCategory[c][j][code] : logUnseen[c][j]
            }
        }
    }
}
