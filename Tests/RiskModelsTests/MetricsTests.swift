import Foundation
import RiskContract
import RiskFeatures
import Testing

@testable import RiskModels

struct MetricsFixture: Decodable, Sendable {
    struct Calibration: Decodable, Sendable {
        var fractionPositive: [Double]
        var meanPredicted: [Double]
    }

    struct Case: Decodable, Sendable, CustomTestStringConvertible {
        var name: String
        var weighted: Bool
        var y: [Double]
        var score: [Double]
        var sampleWeight: [Double]?
        var rocAuc: Double
        var averagePrecision: Double
        var logLoss: Double
        var brier: Double
        var ks: Double
        var threshold: Double
        var precisionAtThreshold: Double
        var recallAtThreshold: Double
        var k: Int
        var precisionAtK: Double
        var calibrationUnweighted: Calibration
        var testDescription: String { "\(name)\(weighted ? " weighted" : "")" }
    }

    var cases: [Case]
}

@Suite struct MetricsTests {
    static let fixture = Fixtures.decode(MetricsFixture.self, "metrics")

    /// Every metric within 1e-12 of scikit-learn's, on tie-heavy and weighted inputs.
    @Test(arguments: fixture.cases)
    func matchesScikitLearn(testCase: MetricsFixture.Case) throws {
        let (y, score, w) = (testCase.y, testCase.score, testCase.sampleWeight)
        #expect(close(try #require(Metrics.rocAUC(labels: y, scores: score, weights: w)), testCase.rocAuc, 1e-12))
        #expect(close(try #require(Metrics.averagePrecision(labels: y, scores: score, weights: w)), testCase.averagePrecision, 1e-12))
        #expect(close(Metrics.logLoss(labels: y, probabilities: score, weights: w), testCase.logLoss, 1e-12))
        #expect(close(Metrics.brier(labels: y, probabilities: score, weights: w), testCase.brier, 1e-12))
        #expect(close(try #require(Metrics.ks(labels: y, scores: score, weights: w)), testCase.ks, 1e-12))
        let (precision, recall) = Metrics.precisionRecall(labels: y, scores: score, weights: w, threshold: testCase.threshold)
        #expect(close(try #require(precision), testCase.precisionAtThreshold, 1e-12))
        #expect(close(try #require(recall), testCase.recallAtThreshold, 1e-12))
        #expect(
            close(try #require(Metrics.precisionAtK(labels: y, scores: score, weights: w, k: testCase.k)), testCase.precisionAtK, 1e-12))
        let table = Metrics.calibrationTable(labels: y, probabilities: score)
        #expect(table.count == testCase.calibrationUnweighted.meanPredicted.count)
        for (bin, (mean, fraction)) in zip(
            table, zip(testCase.calibrationUnweighted.meanPredicted, testCase.calibrationUnweighted.fractionPositive))
        {
            #expect(close(bin.meanPredicted, mean, 1e-12))
            #expect(close(bin.fraudShare, fraction, 1e-12))
        }
    }

    @Test func handDerivedTiesCountHalf() {
        // One fraud and one genuine row with the same score: the ROC curve is the diagonal.
        #expect(Metrics.rocAUC(labels: [1, 0], scores: [0.4, 0.4]) == 0.5)
        // Scores 0.9 (fraud), 0.5 (genuine), 0.5 (fraud), 0.1 (genuine): pairs ranked right 3 of 4, one tie: (3 + 0.5) / 4.
        #expect(Metrics.rocAUC(labels: [1, 0, 1, 0], scores: [0.9, 0.5, 0.5, 0.1]) == 0.875)
        // AP: threshold 0.9 → R = 1/2, P = 1; threshold 0.5 → R = 1, P = 2/3: 1/2 · 1 + 1/2 · 2/3.
        #expect(abs(Metrics.averagePrecision(labels: [1, 0, 1, 0], scores: [0.9, 0.5, 0.5, 0.1])! - (0.5 + 1.0 / 3)) < 1e-15)
    }

    @Test func aOneClassSetHasNoAUCAndSaysWhy() {
        let metrics = Metrics.evaluate(labels: [0, 0, 0], probabilities: [0.1, 0.2, 0.3])
        #expect(metrics.rocAUC == nil && metrics.averagePrecision == nil && metrics.ks == nil)
        #expect(metrics.notes.first?.contains("only one class") == true)
        #expect(metrics.logLoss.isFinite)
        #expect(metrics.atThresholds.first?.recall == nil)
    }
}

struct CalibrationFixture: Decodable, Sendable {
    struct Case: Decodable, Sendable {
        var weighted: Bool
        var plattA: Double
        var plattB: Double
        var sklearnPlattA: Double
        var sklearnPlattB: Double
        var isotonicGrid: [Double]
        var isotonicPredict: [Double]
    }

    var raw: [Double]
    var y: [Double]
    var sampleWeight: [Double]
    var cases: [Case]
}

extension MetricsTests {
    /// Five rows by hand: fraud at 0.95, 0.5 and 0.004, genuine at 0.95 and 0.25 (weights 1, 2, 1, 1, 3).
    @Test func operatingPointsCountEachSideOfEveryThreshold() {
        let labels: [Double] = [1, 0, 1, 0, 1], scores = [0.95, 0.95, 0.5, 0.25, 0.004], weights: [Double] = [1, 2, 1, 1, 3]
        let points = Metrics.operatingPoints(labels: labels, scores: scores, weights: weights)
        func at(_ threshold: Double) -> [Double]? {
            points.first { $0.threshold == threshold }.map { [$0.truePositives, $0.falsePositives, $0.falseNegatives, $0.trueNegatives] }
        }
        // "score ≥ t": fraud weight 5 in all, genuine 3.
        #expect(at(1) == [0, 0, 5, 3])
        #expect(at(0.95) == [1, 2, 4, 1])
        #expect(at(0.96) == [0, 0, 5, 3])
        #expect(at(0.5) == [2, 2, 3, 1])
        #expect(at(0.3) == [2, 2, 3, 1])
        #expect(at(0.25) == [2, 3, 3, 0])
        #expect(at(0.01) == [2, 3, 3, 0])
        #expect(at(0.004) == [5, 3, 0, 0])
        #expect(at(0) == [5, 3, 0, 0])
        // The whole grid (101 thresholds) plus the one score off it (0.004), highest first.
        #expect(points.count == 102)
        #expect(points.map(\.threshold) == points.map(\.threshold).sorted(by: >))
        let half = points.first { $0.threshold == 0.5 }!
        #expect(half.precision == 0.5 && half.recall == 0.4 && half.falsePositiveRate == 2.0 / 3)
    }
}

@Suite struct CalibrationTests {
    static let fixture = Fixtures.decode(CalibrationFixture.self, "calibration")

    @Test(arguments: [false, true])
    func plattMatchesTheReference(weighted: Bool) throws {
        let expected = try #require(Self.fixture.cases.first { $0.weighted == weighted })
        let calibration = Calibration.fitPlatt(
            scores: Self.fixture.raw, labels: Self.fixture.y, weights: weighted ? Self.fixture.sampleWeight : nil)
        guard case .platt(let a, let b) = calibration else {
            Issue.record("not Platt")
            return
        }
        #expect(
            close(a, expected.plattA, 1e-8) && close(b, expected.plattB, 1e-8), "(\(a), \(b)) vs (\(expected.plattA), \(expected.plattB))")
        // scikit-learn's own fit stops at gtol 1e-6: the same answer, less precisely.
        #expect(close(a, expected.sklearnPlattA, 1e-4) && close(b, expected.sklearnPlattB, 1e-4))
    }

    @Test(arguments: [false, true])
    func isotonicMatchesScikitLearn(weighted: Bool) throws {
        let expected = try #require(Self.fixture.cases.first { $0.weighted == weighted })
        let probabilities = Self.fixture.raw.map(Logistic.sigmoid)
        let calibration = Calibration.fitIsotonic(
            probabilities: probabilities, labels: Self.fixture.y, weights: weighted ? Self.fixture.sampleWeight : nil)
        for (x, value) in zip(expected.isotonicGrid, expected.isotonicPredict) {
            #expect(abs(calibration.apply(raw: Logistic.logit(x), probability: x) - value) <= 1e-12, "at \(x)")
        }
    }

    @Test func calibrationRoundTripsThroughJSON() throws {
        for calibration in [Calibration.platt(a: -1.25, b: 0.1), .isotonic(x: [0.1, 0.5], y: [0, 0.75])] {
            let data = try JSONEncoder().encode(calibration)
            #expect(try JSONDecoder().decode(Calibration.self, from: data) == calibration)
        }
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(Calibration.self, from: Data(#"{"method":"isotonic","x":[0.5,0.1],"y":[0,1]}"#.utf8))
        }
    }
}
