import Dispatch
import Foundation
import RiskContract
import RiskFeatures
import Synchronization

/// Binary logistic regression trained by L-BFGS (OWL-QN with an L1 term) over BLAS.
///
/// Minimises scikit-learn's objective, so coefficients can be compared one to one:
///
///     C·Σᵢ sᵢ·logloss(yᵢ, w·xᵢ + b) + (1−ρ)/2·‖w‖² + ρ·‖w‖₁
///
/// where `sᵢ` is the sample weight times the class weight, `ρ` the L1 ratio (0: plain L2), and
/// the intercept `b` is not penalised. The objective is divided by `C·Σsᵢ` before optimising,
/// as scikit-learn does, so `tolerance` bounds the same gradient as scikit-learn's `tol`.
///
/// ```swift
/// let model = try LogisticRegression(hyperparameters: .init(c: 1)).fit(data)
/// let p = model.parameters.probabilities(data.features)
/// ```
public struct LogisticRegression: Sendable {
    public var hyperparameters: Hyperparameters

    public init(hyperparameters: Hyperparameters = Hyperparameters()) {
        self.hyperparameters = hyperparameters
    }

    public struct Hyperparameters: Sendable, Codable, Equatable {
        /// Inverse regularisation strength, > 0.
        public var c: Double = 1
        /// Share of the penalty that is L1 (0 ≤ ρ ≤ 1); 0 is plain L2.
        public var l1Ratio: Double = 0
        public var classWeight: ClassWeight = .none
        public var fitIntercept = true
        /// Fit on standardised columns (weighted mean 0, variance 1), kept in the model.
        public var standardize = false
        /// Stop when max |gradient| of the normalised objective is at most this.
        public var tolerance: Double = 1e-6
        public var maxIterations = 1000
        /// Correction pairs L-BFGS keeps.
        public var memory = 10

        public init(
            c: Double = 1, l1Ratio: Double = 0, classWeight: ClassWeight = .none, fitIntercept: Bool = true,
            standardize: Bool = false, tolerance: Double = 1e-6, maxIterations: Int = 1000, memory: Int = 10
        ) {
            self.c = c
            self.l1Ratio = l1Ratio
            self.classWeight = classWeight
            self.fitIntercept = fitIntercept
            self.standardize = standardize
            self.tolerance = tolerance
            self.maxIterations = maxIterations
            self.memory = memory
        }

        enum CodingKeys: String, CodingKey {
            case c, memory, standardize, tolerance
            case l1Ratio = "l1_ratio"
            case classWeight = "class_weight"
            case fitIntercept = "fit_intercept"
            case maxIterations = "max_iter"
        }

        public func validate() throws(ModelError) {
            guard c > 0, c.isFinite else { throw .invalidHyperparameter(name: "c", reason: "must be a positive number") }
            guard (0...1).contains(l1Ratio) else { throw .invalidHyperparameter(name: "l1-ratio", reason: "must be between 0 and 1") }
            guard tolerance > 0, tolerance.isFinite else { throw .invalidHyperparameter(name: "tol", reason: "must be positive") }
            guard maxIterations >= 1 else { throw .invalidHyperparameter(name: "max-iter", reason: "must be at least 1") }
            guard memory >= 1 else { throw .invalidHyperparameter(name: "memory", reason: "must be at least 1") }
        }
    }

    /// How rows of each class are weighted on top of their sample weights.
    public enum ClassWeight: String, Sendable, Codable, Equatable, CaseIterable {
        case none
        /// Each class weighs half of the total: Σw / (2·Σw of the class). Without sample weights
        /// this is n / (2·count(class)); with them it is scikit-learn's weighted version.
        case balanced
    }

    /// What an optimisation run did.
    public struct FitReport: Sendable, Codable, Equatable {
        public var iterations: Int
        public var converged: Bool
        /// max |gradient| of the normalised objective at the solution.
        public var finalGradientMax: Double
        /// The objective C·Σ sᵢ·logloss + penalty (not normalised) at the solution.
        public var objective: Double
        public var stopReason: String

        enum CodingKeys: String, CodingKey {
            case iterations, converged, objective
            case finalGradientMax = "final_gradient_max"
            case stopReason = "stop_reason"
        }
    }

    /// Fixed work split, independent of the core count, so sums and models are reproducible.
    static let chunkCount = 16

    /// Trains on `data`.
    ///
    /// - Parameter warmStart: a previous model over the same columns to start from.
    /// - Throws: ``ModelError`` for bad hyperparameters, one-class data, or a warm start with other columns.
    public func fit(_ data: TrainingData, warmStart: LogisticModel? = nil) throws(ModelError) -> (model: LogisticModel, report: FitReport) {
        try hyperparameters.validate()
        try data.requireBothClasses()
        let columns = data.features.columns
        let rowWeights = rowWeights(data)
        let standardization = hyperparameters.standardize ? Standardization(data, rowWeights: data.sampleWeights) : nil
        let fitIntercept = hyperparameters.fitIntercept
        let parameterCount = columns + (fitIntercept ? 1 : 0)
        let c = hyperparameters.c, l1Ratio = hyperparameters.l1Ratio
        let normaliser = 1 / (c * rowWeights.reduce(0, +))

        var start = [Double](repeating: 0, count: parameterCount)
        if let warmStart {
            guard warmStart.weights.count == columns else {
                throw .invalidData(field: nil, reason: "warm start model has \(warmStart.weights.count) columns, the data \(columns)")
            }
            let (weights, intercept) = warmStart.originalScale()
            for j in 0..<columns { start[j] = weights[j] * (standardization?.scale[j] ?? 1) }
            if fitIntercept {
                start[columns] = intercept + (standardization.map { s in (0..<columns).reduce(0) { $0 + weights[$1] * s.mean[$1] } } ?? 0)
            }
        }

        let sparse = SparseRows(data.features)
        let objective = { (theta: [Double], gradient: inout [Double]) -> Double in
            let model = LogisticModel(
                intercept: fitIntercept ? theta[columns] : 0, weights: Array(theta[0..<columns]), standardization: standardization)
            let (weights, intercept) = model.originalScale()
            let pass = Self.fusedPass(data, sparse: sparse, weights: weights, intercept: intercept, rowWeights: rowWeights)
            var penalty = 0.0
            for j in 0..<columns {
                let gradientW = pass.gradient[j] - (standardization?.mean[j] ?? 0) * pass.interceptGradient
                gradient[j] = (c * gradientW / (standardization?.scale[j] ?? 1) + (1 - l1Ratio) * theta[j]) * normaliser
                penalty += 0.5 * (1 - l1Ratio) * theta[j] * theta[j]
            }
            if fitIntercept { gradient[columns] = c * pass.interceptGradient * normaliser }
            return (c * pass.loss + penalty) * normaliser
        }
        var l1: [Double]? = nil
        if l1Ratio > 0 {
            var strengths = [Double](repeating: l1Ratio * normaliser, count: parameterCount)
            if fitIntercept { strengths[columns] = 0 }
            l1 = strengths
        }
        let optimizer = LBFGS(
            memory: hyperparameters.memory, tolerance: hyperparameters.tolerance, maxIterations: hyperparameters.maxIterations)
        let result = optimizer.minimize(from: start, l1: l1, objective: objective)
        let model = LogisticModel(
            intercept: fitIntercept ? result.x[columns] : 0, weights: Array(result.x[0..<columns]), standardization: standardization)
        let report = FitReport(
            iterations: result.iterations, converged: result.converged, finalGradientMax: result.gradientMax,
            objective: result.value / normaliser, stopReason: result.stopReason)
        return (model, report)
    }

    /// `sᵢ`: sample weight times class weight.
    func rowWeights(_ data: TrainingData) -> [Double] {
        var weights = (0..<data.rowCount).map { data.weight($0) }
        if hyperparameters.classWeight == .balanced {
            let totals = data.classWeightTotals
            let total = totals.negative + totals.positive
            let positive = total / (2 * totals.positive), negative = total / (2 * totals.negative)
            for row in 0..<data.rowCount { weights[row] *= data.labels[row] == 1 ? positive : negative }
        }
        return weights
    }

    /// One pass over the data: Σ sᵢ·logloss, Xᵀ(s∘(p−y)) and Σ s∘(p−y), in original columns.
    ///
    /// - Parameter sparse: the nonzeros of `data.features`, when it is sparse enough for them to
    ///   be the faster pass; else ``DenseRows`` visits each dense row once.
    static func fusedPass(_ data: TrainingData, sparse: SparseRows?, weights: [Double], intercept: Double, rowWeights: [Double])
        -> (loss: Double, gradient: [Double], interceptGradient: Double)
    {
        let rows = data.rowCount, columns = data.features.columns
        let chunks = min(chunkCount, rows)
        let partials = Mutex<[(loss: Double, gradient: [Double], interceptGradient: Double)?]>(Array(repeating: nil, count: chunks))
        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
            let range = (rows * chunk / chunks)..<(rows * (chunk + 1) / chunks)
            var gradient = [Double](repeating: 0, count: columns)
            var loss = 0.0, interceptGradient = 0.0
            /// Adds row `row`'s loss and returns its residual.
            func visit(_ row: Int, _ score: Double) -> Double {
                let z = score + intercept
                let s = rowWeights[row], y = data.labels[row]
                loss += s * Logistic.logLoss(label: y, score: z)
                let residual = s * (Logistic.sigmoid(z) - y)
                interceptGradient += residual
                return residual
            }
            if let sparse {
                weights.withUnsafeBufferPointer { weights in
                    gradient.withUnsafeMutableBufferPointer { gradient in
                        sparse.pass(range, weights: weights, gradient: gradient, visit)
                    }
                }
            } else {
                data.features.values.withUnsafeBufferPointer { values in
                    weights.withUnsafeBufferPointer { weights in
                        gradient.withUnsafeMutableBufferPointer { gradient in
                            for row in range {
                                let x = values.baseAddress! + row * columns
                                let residual = visit(row, DenseRows.dot(x, weights.baseAddress!, count: columns))
                                DenseRows.axpy(residual, x, gradient.baseAddress!, count: columns)
                            }
                        }
                    }
                }
            }
            partials.withLock { $0[chunk] = (loss, gradient, interceptGradient) }
        }
        var loss = 0.0, interceptGradient = 0.0
        var gradient = [Double](repeating: 0, count: columns)
        for partial in partials.withLock({ $0 }) {
            guard let partial else { continue }
            loss += partial.loss
            interceptGradient += partial.interceptGradient
            BLAS.axpy(1, partial.gradient, &gradient)
        }
        return (loss, gradient, interceptGradient)
    }
}

/// A trained logistic regression: `p = σ(b + Σⱼ wⱼ·x̃ⱼ)`, where `x̃ⱼ = (xⱼ − meanⱼ) / scaleⱼ`
/// when the model standardises, else `xⱼ`.
public struct LogisticModel: Sendable, Codable, Equatable {
    public var intercept: Double
    /// One weight per column, in the (standardised, if so) space the model was fitted in.
    public var weights: [Double]
    public var standardization: Standardization?

    public init(intercept: Double, weights: [Double], standardization: Standardization? = nil) {
        self.intercept = intercept
        self.weights = weights
        self.standardization = standardization
    }

    /// The same model over raw columns: `p = σ(b′ + w′·x)`.
    public func originalScale() -> (weights: [Double], intercept: Double) {
        guard let standardization else { return (weights, intercept) }
        var raw = weights, offset = intercept
        for j in weights.indices {
            raw[j] = weights[j] / standardization.scale[j]
            offset -= raw[j] * standardization.mean[j]
        }
        return (raw, offset)
    }

    /// The raw scores `b + w·x̃` of every row (log-odds before calibration).
    public func decisionFunction(_ features: Matrix) -> [Double] {
        precondition(features.columns == weights.count, "model has \(weights.count) columns, data \(features.columns)")
        let (raw, offset) = originalScale()
        var scores = [Double](repeating: offset, count: features.rows)
        BLAS.gemv(features, raw, beta: 1, into: &scores)
        return scores
    }

    /// P(fraud) of every row.
    public func probabilities(_ features: Matrix) -> [Double] {
        decisionFunction(features).map(Logistic.sigmoid)
    }
}

/// Per-column centring and scaling learnt from training data.
public struct Standardization: Sendable, Codable, Equatable {
    public var mean: [Double]
    /// The standard deviation, or 1 for a constant column.
    public var scale: [Double]

    public init(mean: [Double], scale: [Double]) {
        self.mean = mean
        self.scale = scale
    }

    /// Weighted means and (population) standard deviations of the columns, two passes.
    init(_ data: TrainingData, rowWeights: [Double]?) {
        let rows = data.rowCount, columns = data.features.columns
        let weights = rowWeights ?? [Double](repeating: 1, count: rows)
        let total = weights.reduce(0, +)
        var mean = [Double](repeating: 0, count: columns)
        BLAS.gemv(data.features, transposed: true, weights, alpha: 1 / total, into: &mean)
        var variance = [Double](repeating: 0, count: columns)
        for row in 0..<rows {
            let base = row * columns
            for j in 0..<columns {
                let deviation = data.features.values[base + j] - mean[j]
                variance[j] += weights[row] * deviation * deviation
            }
        }
        self.mean = mean
        scale = variance.map { $0 > 0 ? ($0 / total).squareRoot() : 1 }
    }
}
