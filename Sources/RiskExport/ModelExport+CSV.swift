import Foundation
import RiskEngine
import RiskModels

extension ModelExport {
    /// One row per column (RFC 4180, header first), numbers at full precision.
    ///
    /// Logistic regression: `weight` in the space the model was fitted in, the standardisation
    /// (`mean`, `scale`, empty when the model does not standardise) and `raw_weight`, the
    /// log-odds per unit of the column as extracted; the first row, `(intercept)`, holds the
    /// intercept in both spaces. Naive Bayes: the column's kind and, per class, the Gaussian mean
    /// and variance (smoothing included), P(x = 1) for a Bernoulli column, or P(x = code) for
    /// codes 0, 1, … of a categorical column (separated by `;`); the first row, `(class prior)`,
    /// holds P(genuine) and P(fraud) in the probability columns.
    func csv() -> String {
        let described = ["column", "feature", "kind", "source", "encoding", "meaning"]
        var lines: [[String]] = []
        if let logistic = artifact.logisticRegression {
            let (rawWeights, rawIntercept) = logistic.originalScale()
            lines.append(described + ["weight", "mean", "scale", "raw_weight"])
            lines.append([
                "(intercept)", "", "", "", "", "log-odds of fraud when every column is 0", "\(logistic.intercept)", "", "",
                "\(rawIntercept)",
            ])
            for (j, column) in columns.enumerated() {
                let mean = logistic.standardization.map { "\($0.mean[j])" } ?? ""
                let scale = logistic.standardization.map { "\($0.scale[j])" } ?? ""
                lines.append(Self.fields(column) + ["\(logistic.weights[j])", mean, scale, "\(rawWeights[j])"])
            }
        } else if let naiveBayes = artifact.naiveBayes {
            let classes = ["genuine", "fraud"]
            lines.append(
                described + ["nb_kind"] + classes.flatMap { ["\($0)_mean", "\($0)_variance"] }
                    + classes.map { "\($0)_probability" } + classes.map { "\($0)_category_probabilities" })
            let total = naiveBayes.classWeights.reduce(0, +)
            lines.append(
                ["(class prior)", "", "", "", "", "share of each class in the training rows (by weight)", ""] + ["", "", "", ""]
                    + naiveBayes.classWeights.map { "\($0 / total)" } + ["", ""])
            for (j, column) in columns.enumerated() {
                var gaussian = ["", "", "", ""], bernoulli = ["", ""], categorical = ["", ""]
                switch naiveBayes.kinds[j] {
                case .gaussian:
                    gaussian = (0..<2).flatMap { c in ["\(naiveBayes.means[c][j])", "\(naiveBayes.variance(class: c, column: j))"] }
                case .bernoulli, .level:
                    // A level column: its level's probability within its group.
                    bernoulli = (0..<2).map { c in "\(naiveBayes.probabilityOfOne(class: c, column: j))" }
                case .categorical:
                    categorical = (0..<2).map { c in
                        naiveBayes.categoryProbabilities(class: c, column: j).map { "\($0)" }.joined(separator: ";")
                    }
                }
                lines.append(Self.fields(column) + [naiveBayes.kinds[j].rawValue] + gaussian + bernoulli + categorical)
            }
        }
        return lines.map { $0.map(Self.csvField).joined(separator: ",") }.joined(separator: "\n") + "\n"
    }

    static func fields(_ column: ColumnDescription) -> [String] {
        [column.name, column.feature, column.kind, column.source, column.encoding, column.meaning]
    }

    /// A CSV field (RFC 4180), quoted when it holds a comma, a quote or a line break.
    public static func csvField(_ field: String) -> String {
        guard field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return field }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
