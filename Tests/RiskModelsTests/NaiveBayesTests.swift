import Foundation
import RiskContract
import RiskFeatures
import Testing

@testable import RiskModels

struct NaiveBayesFixture: Decodable, Sendable {
    struct Expected: Decodable, Sendable {
        var predictProba: [Double]
        var theta: [[Double]]?
        var `var`: [[Double]]?
        var epsilon: Double?
    }

    var y: [Double]
    var sampleWeight: [Double]
    var gaussian: [[Double]]
    var bernoulli: [[Double]]
    var categorical: [[Double]]
    var testRows: Int
    var gaussianOnly: Expected
    var bernoulliOnly: Expected
    var categoricalOnly: Expected
    var mixed: Expected
}

@Suite struct NaiveBayesTests {
    static let fixture = Fixtures.decode(NaiveBayesFixture.self, "naive_bayes")

    /// The fixture's columns side by side, with their kinds.
    static func columns(_ groups: [([[Double]], NaiveBayes.ColumnKind)]) -> (Matrix, [NaiveBayes.ColumnKind]) {
        let rows = fixture.y.count
        var values: [Double] = []
        for row in 0..<rows { for (group, _) in groups { values += group[row] } }
        let kinds = groups.flatMap { group, kind in Array(repeating: kind, count: group[0].count) }
        return (Matrix(rows: rows, columns: kinds.count, values: values), kinds)
    }

    static func head(_ matrix: Matrix) -> Matrix {
        Matrix(rows: fixture.testRows, columns: matrix.columns, values: Array(matrix.values.prefix(fixture.testRows * matrix.columns)))
    }

    static let groups: [String: ([([[Double]], NaiveBayes.ColumnKind)], NaiveBayesFixture.Expected)] = [
        "gaussian": ([(fixture.gaussian, .gaussian)], fixture.gaussianOnly),
        "bernoulli": ([(fixture.bernoulli, .bernoulli)], fixture.bernoulliOnly),
        "categorical": ([(fixture.categorical, .categorical)], fixture.categoricalOnly),
        "mixed": ([(fixture.gaussian, .gaussian), (fixture.bernoulli, .bernoulli), (fixture.categorical, .categorical)], fixture.mixed),
    ]

    @Test(arguments: ["gaussian", "bernoulli", "categorical", "mixed"])
    func predictProbaMatchesScikitLearn(group: String) throws {
        let (columns, expected) = Self.groups[group]!
        let (matrix, kinds) = Self.columns(columns)
        let data = try TrainingData(features: matrix, labels: Self.fixture.y, sampleWeights: Self.fixture.sampleWeight)
        let model = try NaiveBayes(kinds: kinds).fit(data)
        let probabilities = model.probabilities(Self.head(matrix))
        for (ours, theirs) in zip(probabilities, expected.predictProba) {
            #expect(abs(ours - theirs) <= 1e-9, "\(group): \(ours) vs scikit-learn \(theirs)")
        }
        if let theta = expected.theta, let variance = expected.var, let epsilon = expected.epsilon {
            #expect(close(model.epsilon, epsilon, 1e-12))
            for c in 0..<2 {
                for j in kinds.indices {
                    #expect(close(model.means[c][j], theta[c][j], 1e-12))
                    #expect(close(model.variance(class: c, column: j), variance[c][j], 1e-12))
                }
            }
        }
    }

    @Test(arguments: [[1], [7, 100, 393], [250, 250], [1, 1, 1, 497]])
    func partialFitInChunksEqualsOneFit(chunkSizes: [Int]) throws {
        let (columns, _) = Self.groups["mixed"]!
        let (matrix, kinds) = Self.columns(columns)
        let all = try TrainingData(features: matrix, labels: Self.fixture.y, sampleWeights: Self.fixture.sampleWeight)
        let whole = try NaiveBayes(kinds: kinds).fit(all)
        var model = NaiveBayesModel(kinds: kinds, hyperparameters: .init())
        var start = 0
        for size in chunkSizes + [all.rowCount - chunkSizes.reduce(0, +)] where size > 0 {
            try model.partialFit(all.subset(start..<(start + size)))
            start += size
        }
        for (ours, reference) in zip(model.probabilities(matrix), whole.probabilities(matrix)) {
            #expect(abs(ours - reference) <= 1e-12)
        }
        for c in 0..<2 { #expect(close(model.classWeights[c], whole.classWeights[c], 1e-13)) }
        #expect(close(model.epsilon, whole.epsilon, 1e-12))
    }

    @Test func refusesValuesOutsideAColumnsKind() throws {
        let features = Matrix(rows: 4, columns: 2, values: [0, 1, 1, 2, 0.5, 0, 1, 3])
        let data = try TrainingData(features: features, labels: [0, 1, 0, 1], columns: ["flag", "code"])
        #expect(throws: ModelError.invalidData(field: "flag", reason: "row 3: Bernoulli column holds 0.5, not 0 or 1")) {
            try NaiveBayes(kinds: [.bernoulli, .categorical]).fit(data)
        }
        let negative = try TrainingData(features: Matrix(rows: 2, columns: 1, values: [1, -1]), labels: [0, 1], columns: ["code"])
        #expect(throws: ModelError.self) { try NaiveBayes(kinds: [.categorical]).fit(negative) }
        #expect(throws: ModelError.self) { try NaiveBayes(kinds: [.gaussian]).fit(data) }
    }

    @Test func anUnseenCategoryGetsTheSmoothedShareOfNothing() throws {
        // Hand-derived: class 0 has codes [0, 0] (weight 2), class 1 has [1] (weight 1); α = 1, K = 2.
        let data = try TrainingData(features: Matrix(rows: 3, columns: 1, values: [0, 0, 1]), labels: [0, 0, 1])
        let model = try NaiveBayes(kinds: [.categorical]).fit(data)
        let jll = model.jointLogLikelihoods(Matrix(rows: 1, columns: 1, values: [5]))[0]
        #expect(close(jll[0], log(2.0 / 3) + log(1.0 / 4), 1e-15))
        #expect(close(jll[1], log(1.0 / 3) + log(1.0 / 3), 1e-15))
    }
}

/// A number's bins are one categorical feature spread over one-hot columns: read as level
/// columns, they give exactly what the categorical reading of their codes gives (which the
/// scikit-learn fixtures check against `CategoricalNB`).
@Suite struct NaiveBayesLevelTests {
    @Test func aGroupOfLevelsIsItsCategoricalCode() throws {
        // 3 bins, a Gaussian column beside them; every code seen by both classes.
        let codes: [Double] = [0, 1, 2, 2, 1, 0, 2, 2, 0, 1, 1, 2]
        let labels: [Double] = [0, 0, 0, 1, 1, 0, 1, 1, 0, 0, 1, 0]
        let numbers: [Double] = [1.5, 2.0, 0.3, 4.1, 3.3, 1.1, 5.0, 2.2, 0.7, 1.9, 3.0, 2.5]
        let weights: [Double] = [1, 2, 1, 1, 0.5, 1, 1, 3, 1, 1, 2, 1]
        let oneHot = Matrix(
            rows: codes.count, columns: 4,
            values: codes.indices.flatMap { row in (0..<3).map { codes[row] == Double($0) ? 1 : 0 } + [numbers[row]] })
        let coded = Matrix(rows: codes.count, columns: 2, values: codes.indices.flatMap { [codes[$0], numbers[$0]] })
        let levels = try NaiveBayes(kinds: [.level, .level, .level, .gaussian], levelGroupSizes: [3, 3, 3, 0]).fit(
            TrainingData(features: oneHot, labels: labels, sampleWeights: weights))
        let categorical = try NaiveBayes(kinds: [.categorical, .gaussian]).fit(
            TrainingData(features: coded, labels: labels, sampleWeights: weights))
        for (a, b) in zip(levels.decisionFunction(oneHot), categorical.decisionFunction(coded)) { #expect(abs(a - b) < 1e-12) }
        // By hand: the fraud class weighs 1 + 0.5 + 1 + 3 + 2 = 7.5, of it code 2 weighs 1 + 1 + 3 = 5.
        #expect(abs(levels.probabilityOfOne(class: 1, column: 2) - (5 + 1) / (7.5 + 3)) < 1e-15)
        // Without the groups' sizes the model cannot read them.
        #expect(throws: ModelError.self) {
            try NaiveBayes(kinds: [.level, .level, .level, .gaussian]).fit(TrainingData(features: oneHot, labels: labels))
        }
        // A level column holds 0 or 1 only.
        var bad = oneHot
        bad.values[0] = 2
        #expect(throws: ModelError.self) {
            try NaiveBayes(kinds: [.level, .level, .level, .gaussian], levelGroupSizes: [3, 3, 3, 0]).fit(
                TrainingData(features: bad, labels: labels))
        }
    }
}
