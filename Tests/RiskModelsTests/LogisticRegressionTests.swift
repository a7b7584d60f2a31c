import Foundation
import RiskContract
import RiskFeatures
import Testing

@testable import RiskModels

struct LogisticFixture: Decodable, Sendable {
    struct Dataset: Decodable, Sendable {
        var x: [[Double]]
        var y: [Double]
        var sampleWeight: [Double]?
    }

    struct Case: Decodable, Sendable, CustomTestStringConvertible {
        var dataset: String
        var c: Double
        var fitIntercept: Bool
        var classWeight: String
        var l1Ratio: Double
        var sklearnCoef: [Double]
        var sklearnIntercept: Double
        var coef: [Double]
        var intercept: Double
        var objective: Double
        var predictProba: [Double]
        var testDescription: String {
            "\(dataset) C=\(c) intercept=\(fitIntercept) class_weight=\(classWeight) l1_ratio=\(l1Ratio)"
        }
    }

    var datasets: [String: Dataset]
    var cases: [Case]
}

@Suite struct LogisticRegressionTests {
    static let fixture = Fixtures.decode(LogisticFixture.self, "logistic_regression")

    static func data(_ name: String) throws -> TrainingData {
        let dataset = fixture.datasets[name]!
        return try TrainingData(features: Fixtures.matrix(dataset.x), labels: dataset.y, sampleWeights: dataset.sampleWeight)
    }

    /// Coefficients within 1e-5 of scikit-learn's, relative to the largest coefficient.
    @Test(arguments: fixture.cases)
    func matchesScikitLearn(testCase: LogisticFixture.Case) throws {
        let data = try Self.data(testCase.dataset)
        let hyperparameters = LogisticRegression.Hyperparameters(
            c: testCase.c, l1Ratio: testCase.l1Ratio, classWeight: testCase.classWeight == "balanced" ? .balanced : .none,
            fitIntercept: testCase.fitIntercept, tolerance: 1e-10, maxIterations: 20_000)
        let (model, report) = try LogisticRegression(hyperparameters: hyperparameters).fit(data)
        let scale = max(1, testCase.sklearnCoef.map(abs).max()!)
        for (ours, theirs) in zip(model.weights, testCase.sklearnCoef) {
            #expect(abs(ours - theirs) <= 1e-5 * scale, "coefficient \(ours) vs scikit-learn \(theirs); \(report.stopReason)")
        }
        #expect(abs(model.intercept - testCase.sklearnIntercept) <= 1e-5 * scale)
        // Against the Newton-polished optimum the agreement is tighter, and the objective matches.
        for (ours, optimum) in zip(model.weights, testCase.coef) { #expect(abs(ours - optimum) <= 1e-6 * scale) }
        #expect(close(report.objective, testCase.objective, 1e-9), "objective \(report.objective) vs \(testCase.objective)")
        let head = Matrix(rows: 20, columns: data.features.columns, values: Array(data.features.values.prefix(20 * data.features.columns)))
        for (ours, theirs) in zip(model.probabilities(head), testCase.predictProba) { #expect(abs(ours - theirs) <= 1e-6) }
        #expect(report.converged || testCase.l1Ratio > 0, "\(report.stopReason) after \(report.iterations)")
    }
}

struct StandardizedFixture: Decodable, Sendable {
    struct Case: Decodable, Sendable {
        var dataset: String
        var c: Double
        var mean: [Double]
        var scale: [Double]
        var sklearnCoef: [Double]
        var sklearnIntercept: Double
    }

    var standardized: Case
}

@Suite struct LogisticRegressionBehaviourTests {
    static let data = try! LogisticRegressionTests.data("well")

    @Test func standardisationMatchesAScikitLearnPipeline() throws {
        let fixture = Fixtures.decode(StandardizedFixture.self, "logistic_regression").standardized
        let data = try LogisticRegressionTests.data(fixture.dataset)
        let hyperparameters = LogisticRegression.Hyperparameters(c: fixture.c, standardize: true, tolerance: 1e-10)
        let (model, report) = try LogisticRegression(hyperparameters: hyperparameters).fit(data)
        #expect(report.converged)
        let standardization = try #require(model.standardization)
        for j in fixture.mean.indices {
            #expect(close(standardization.mean[j], fixture.mean[j], 1e-12))
            #expect(close(standardization.scale[j], fixture.scale[j], 1e-12))
            #expect(abs(model.weights[j] - fixture.sklearnCoef[j]) <= 1e-5 * max(1, fixture.sklearnCoef.map(abs).max()!))
        }
        #expect(abs(model.intercept - fixture.sklearnIntercept) <= 1e-5)
    }

    @Test func aWarmStartFromTheOptimumStopsAtOnce() throws {
        let learner = LogisticRegression(hyperparameters: .init(c: 1, tolerance: 1e-8))
        let (model, _) = try learner.fit(Self.data)
        let (again, report) = try learner.fit(Self.data, warmStart: model)
        #expect(report.iterations == 0 && report.converged)
        #expect(again == model)
        let cold = try learner.fit(Self.data)
        #expect(cold.report.iterations > 3)
    }

    @Test func aFitThatRunsOutOfIterationsSaysSo() throws {
        let (_, report) = try LogisticRegression(hyperparameters: .init(c: 100, tolerance: 1e-12, maxIterations: 2)).fit(Self.data)
        #expect(!report.converged)
        #expect(report.iterations == 2)
        #expect(report.stopReason.contains("max_iter 2"))
    }

    @Test func l1ZeroesCoefficientsAndMeetsTheOptimalityConditions() throws {
        // Optimality of C·Σ logloss + ρ‖w‖₁ (ρ = 1): |∂/∂wⱼ C·Σ logloss| ≤ 1 where wⱼ = 0, and = −sign(wⱼ) elsewhere.
        let c = 0.02
        let (model, report) = try LogisticRegression(hyperparameters: .init(c: c, l1Ratio: 1, tolerance: 1e-8, maxIterations: 10_000)).fit(
            Self.data)
        #expect(report.converged, "\(report.stopReason)")
        #expect(model.weights.contains(0), "no coefficient was zeroed: \(model.weights)")
        let scores = model.decisionFunction(Self.data.features)
        var gradient = [Double](repeating: 0, count: model.weights.count)
        for row in 0..<Self.data.rowCount {
            let residual = Logistic.sigmoid(scores[row]) - Self.data.labels[row]
            for j in gradient.indices { gradient[j] += c * residual * Self.data.features[row, j] }
        }
        for (weight, g) in zip(model.weights, gradient) {
            if weight == 0 { #expect(abs(g) <= 1 + 1e-6) } else { #expect(abs(g + (weight > 0 ? 1 : -1)) <= 1e-5) }
        }
    }

    @Test func refusesBadInputAndBadHyperparameters() throws {
        let features = Matrix(rows: 3, columns: 1, values: [1, 2, 3])
        #expect(throws: ModelError.self) { try TrainingData(features: features, labels: [0, 1, 2]) }
        #expect(throws: ModelError.invalidData(field: "x0", reason: "row 2: value is not a finite number")) {
            try TrainingData(features: Matrix(rows: 3, columns: 1, values: [1, .nan, 3]), labels: [0, 1, 0])
        }
        let oneClass = try TrainingData(features: features, labels: [1, 1, 1])
        #expect {
            try LogisticRegression().fit(oneClass)
        } throws: { error in
            guard case .invalidData(field: "label", let reason) = error as? ModelError else { return false }
            return reason.contains("only one class")
        }
        for bad in [LogisticRegression.Hyperparameters(c: 0), .init(l1Ratio: 1.5), .init(tolerance: -1), .init(maxIterations: 0)] {
            #expect(throws: ModelError.self) { try LogisticRegression(hyperparameters: bad).fit(Self.data) }
        }
    }
}

@Suite struct SparseRowsTests {
    /// One-hot rows like a feature spec's (about a fifth nonzero): an amount, a category of 10 and
    /// two flags, weighted.
    static let oneHot: TrainingData = {
        // Deterministic scatter: multiplicative hashing of the row number stands in for draws.
        func draw(_ row: Int, _ salt: Int, _ modulus: Int) -> Int { ((row &+ 1) &* (2_654_435_761 &+ salt * 40_503)) % 1_000_003 % modulus }
        let rows = 3_000, columns = 13
        var values = [Double](repeating: 0, count: rows * columns)
        var labels = [Double](repeating: 0, count: rows)
        for row in 0..<rows {
            let amount = Double(draw(row, 1, 1000)) / 100
            let category = draw(row, 2, 10), flagA = draw(row, 3, 5) == 0, flagB = draw(row, 4, 3) == 0
            values[row * columns] = amount
            values[row * columns + 1 + category] = 1
            if flagA { values[row * columns + 11] = 1 }
            if flagB { values[row * columns + 12] = 1 }
            let logit = -2 + 0.2 * amount + (category == 2 ? 1.5 : 0) + (flagA ? 2 : 0) - (flagB ? 1 : 0)
            labels[row] = Double(draw(row, 5, 10_000)) / 10_000 < 1 / (1 + exp(-logit)) ? 1 : 0
        }
        let weights = (0..<rows).map { Double(1 + $0 % 3) / 2 }
        return try! TrainingData(features: Matrix(rows: rows, columns: columns, values: values), labels: labels, sampleWeights: weights)
    }()

    @Test func holdsEachRowsNonzerosInColumnOrder() throws {
        let matrix = Matrix(rows: 3, columns: 4, values: [0, 2, 0, 3, 0, 0, 0, 0, 5, 0, 0, -1])
        let sparse = try #require(SparseRows(matrix, maximumDensity: 0.5))
        #expect(sparse.starts == [0, 2, 2, 4])
        #expect(sparse.columnIndices == [1, 3, 0, 3])
        #expect(sparse.values == [2, 3, 5, -1])
        // Denser than allowed: the dense pass is kept.
        #expect(SparseRows(matrix, maximumDensity: 0.3) == nil)
        #expect(SparseRows(LogisticRegressionBehaviourTests.data.features) == nil)
    }

    @Test func thePassOverNonzerosSumsWhatGemvSums() throws {
        let data = Self.oneHot
        guard let sparse = SparseRows(data.features) else {
            Issue.record("one-hot rows were taken for dense ones")
            return
        }
        let weights = [0.3, -1.25, 0.5, 2, 0, 1.75, -0.5, 0.25, -2, 1, 0.125, 3, -0.75], rowWeights = data.sampleWeights!
        let overNonzeros = LogisticRegression.fusedPass(data, sparse: sparse, weights: weights, intercept: -0.7, rowWeights: rowWeights)
        let dense = LogisticRegression.fusedPass(data, sparse: nil, weights: weights, intercept: -0.7, rowWeights: rowWeights)
        // The same terms in the same order: equal with the reference BLAS, within rounding with
        // any other (BaselineModelTests checks the bits of a whole fit).
        #expect(close(overNonzeros.loss, dense.loss, 1e-12))
        #expect(close(overNonzeros.interceptGradient, dense.interceptGradient, 1e-12))
        for j in weights.indices { #expect(close(overNonzeros.gradient[j], dense.gradient[j], 1e-12)) }
    }

    @Test func aFitOnOneHotRowsReachesTheOptimum() throws {
        // At the optimum the gradient of C·Σ sᵢ·logloss + ½‖w‖² vanishes: computed here row by row.
        let data = Self.oneHot, c = 2.0
        #expect(SparseRows(data.features) != nil, "the fit takes the pass over nonzeros")
        let (model, report) = try LogisticRegression(hyperparameters: .init(c: c, tolerance: 1e-10)).fit(data)
        #expect(report.converged)
        var gradient = model.weights, interceptGradient = 0.0
        for row in 0..<data.rowCount {
            var z = model.intercept
            for j in 0..<data.features.columns { z += model.weights[j] * data.features[row, j] }
            let residual = c * data.sampleWeights![row] * (Logistic.sigmoid(z) - data.labels[row])
            interceptGradient += residual
            for j in 0..<data.features.columns { gradient[j] += residual * data.features[row, j] }
        }
        #expect(gradient.allSatisfy { abs($0) < 1e-6 } && abs(interceptGradient) < 1e-6, "\(gradient) \(interceptGradient)")
    }
}
