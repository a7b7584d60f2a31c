import Foundation
import RiskContract
import RiskFeatures

/// A model artifact prepared for scoring one row at a time: raw-scale weights for logistic
/// regression, precomputed per-class terms for naive Bayes.
public struct CompiledModel: Sendable {
    public let artifact: ModelArtifact
    private let weights: [Double]
    private let intercept: Double
    private let terms: NaiveBayesModel.ColumnTerms?

    public init(_ artifact: ModelArtifact) {
        self.artifact = artifact
        if let logistic = artifact.logisticRegression {
            (weights, intercept) = logistic.originalScale()
            terms = nil
        } else {
            weights = []
            intercept = 0
            terms = artifact.naiveBayes!.columnTerms()
        }
    }

    /// The raw score (log-odds of fraud) of one row.
    public func rawScore(_ row: [Double]) -> Double {
        row.withUnsafeBufferPointer(rawScore)
    }

    /// ``rawScore(_:)-([Double])`` of a row in a buffer (the scorer's, on the stack).
    public func rawScore(_ row: UnsafeBufferPointer<Double>) -> Double {
        precondition(row.count == artifact.columns.count, "row has \(row.count) values, the model \(artifact.columns.count) columns")
        if let terms {
            var fraud = terms.logPrior[1], genuine = terms.logPrior[0]
            for j in row.indices {
                fraud += terms.logLikelihood(1, j, row[j])
                genuine += terms.logLikelihood(0, j, row[j])
            }
            return fraud - genuine
        }
        return weights.withUnsafeBufferPointer { intercept + BLAS.dot($0, row) }
    }

    /// Calibrated P(fraud) from a raw score.
    public func probability(raw: Double) -> Double {
        let uncalibrated = Logistic.sigmoid(raw)
        return artifact.calibration?.apply(raw: raw, probability: uncalibrated) ?? uncalibrated
    }

    /// What each column adds to the raw score (log-odds), against the documented baseline.
    ///
    /// Logistic regression: `wⱼ·xⱼ` in raw units, so the baseline is the row of zeros (every
    /// indicator off, every number at 0) and the contributions and the intercept sum to the raw
    /// score. Naive Bayes: the column's log-likelihood ratio `log P(xⱼ | fraud) − log P(xⱼ | genuine)`,
    /// against the baseline of the class priors; they and the log prior ratio sum to the raw score.
    public func contributions(_ row: [Double]) -> [Double] {
        var output = [Double](repeating: 0, count: row.count)
        contributions(row, into: &output)
        return output
    }

    /// ``contributions(_:)`` written into a buffer of the row's size (no allocation).
    public func contributions(_ row: [Double], into output: inout [Double]) {
        row.withUnsafeBufferPointer { row in output.withUnsafeMutableBufferPointer { contributions(row, into: $0) } }
    }

    /// ``contributions(_:)`` of a row in a buffer, written into a buffer of the row's size.
    public func contributions(_ row: UnsafeBufferPointer<Double>, into output: UnsafeMutableBufferPointer<Double>) {
        precondition(output.count == row.count, "one contribution per column")
        if let terms {
            for j in row.indices { output[j] = terms.logLikelihood(1, j, row[j]) - terms.logLikelihood(0, j, row[j]) }
        } else {
            weights.withUnsafeBufferPointer { weights in
                precondition(weights.count == row.count, "one weight per column")
                for j in row.indices { output[j] = weights[j] * row[j] }
            }
        }
    }
}
