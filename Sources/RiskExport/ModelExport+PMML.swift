import Foundation
import RiskEngine
import RiskModels

extension ModelExport {
    /// The PMML target field: 1 for fraud, 0 for genuine.
    static let pmmlTarget = "fraud"
    /// The PMML output field holding P(fraud).
    static let pmmlProbability = "probability_fraud"
    /// Naive Bayes in PMML replaces any per-column probability below this by it; RiskLoop's
    /// probabilities are never below it except for a categorical code never seen in training.
    static let pmmlNaiveBayesThreshold = 1e-300

    /// PMML 4.4 over the expanded columns.
    ///
    /// Logistic regression: a `RegressionModel` (classification, `logit` normalisation) whose
    /// table for target 1 holds the raw-scale weights (standardisation and Platt calibration
    /// folded in) and whose table for target 0 is zero. Naive Bayes: a `NaiveBayesModel` with a
    /// `GaussianDistribution` per class for Gaussian columns and `PairCounts` for Bernoulli and
    /// categorical columns, the counts scaled so that count ÷ class count is RiskLoop's smoothed
    /// probability. Either way the output field `probability_fraud` is P(fraud).
    func pmml() throws(EngineError) -> String {
        var xml = XMLWriter()
        xml.line("<?xml version=\"1.0\" encoding=\"UTF-8\"?>")
        xml.open("PMML", ["xmlns": "http://www.dmg.org/PMML-4_4", "version": "4.4"])
        xml.open(
            "Header",
            [
                "description": "RiskLoop \(artifact.algorithm.rawValue) model \(artifact.id) over the expanded columns of its feature spec",
                "modelVersion": artifact.id,
            ])
        xml.empty("Application", ["name": "RiskLoop", "version": artifact.format])
        xml.element("Annotation", "model id: \(artifact.id)")
        xml.element("Annotation", "feature spec sha256: \(artifact.featureSpecSHA256)")
        xml.element("Annotation", "artifact sha256: \(artifact.sha256 ?? "")")
        xml.element("Timestamp", artifact.createdAt.rfc3339)
        xml.close("Header")

        let naiveBayes = artifact.naiveBayes
        if let naiveBayes, naiveBayes.kinds.contains(.level) {
            throw .invalidOptions(
                option: "--format",
                reason:
                    "pmml has no form for naive Bayes over a number's bins (each bin group read as one categorical feature); export json or csv"
            )
        }
        if naiveBayes != nil, artifact.calibration != nil {
            throw .invalidOptions(
                option: "--format",
                reason: "pmml has no form for a calibrated naive Bayes model; export json, or retrain without calibration")
        }
        xml.open("DataDictionary", ["numberOfFields": "\(columns.count + 1)"])
        for (j, column) in columns.enumerated() {
            let discrete = naiveBayes.map { $0.kinds[j] != .gaussian } ?? false
            xml.empty("DataField", ["name": column.name, "optype": discrete ? "categorical" : "continuous", "dataType": "double"])
        }
        xml.open("DataField", ["name": Self.pmmlTarget, "optype": "categorical", "dataType": "integer"])
        xml.empty("Value", ["value": "0"])
        xml.empty("Value", ["value": "1"])
        xml.close("DataField")
        xml.close("DataDictionary")

        func schema() {
            xml.open("MiningSchema")
            xml.empty("MiningField", ["name": Self.pmmlTarget, "usageType": "target"])
            for column in columns { xml.empty("MiningField", ["name": column.name]) }
            xml.close("MiningSchema")
            xml.open("Output")
            xml.empty(
                "OutputField",
                ["name": Self.pmmlProbability, "optype": "continuous", "dataType": "double", "feature": "probability", "value": "1"])
            xml.close("Output")
        }

        if let naiveBayes {
            xml.open(
                "NaiveBayesModel",
                [
                    "modelName": artifact.id, "functionName": "classification",
                    "threshold": "\(Self.pmmlNaiveBayesThreshold)",
                ])
            schema()
            xml.open("BayesInputs")
            for (j, column) in columns.enumerated() {
                xml.open("BayesInput", ["fieldName": column.name])
                switch naiveBayes.kinds[j] {
                case .gaussian:
                    xml.open("TargetValueStats")
                    for c in 0..<2 {
                        xml.open("TargetValueStat", ["value": "\(c)"])
                        xml.empty(
                            "GaussianDistribution",
                            ["mean": "\(naiveBayes.means[c][j])", "variance": "\(naiveBayes.variance(class: c, column: j))"])
                        xml.close("TargetValueStat")
                    }
                    xml.close("TargetValueStats")
                case .bernoulli, .categorical, .level:
                    // P(x = v | c) per value v, as counts over the class count.
                    let probabilities: [[Double]] = (0..<2).map { c in
                        naiveBayes.kinds[j] == .bernoulli
                            ? [1 - naiveBayes.probabilityOfOne(class: c, column: j), naiveBayes.probabilityOfOne(class: c, column: j)]
                            : naiveBayes.categoryProbabilities(class: c, column: j)
                    }
                    for value in probabilities[0].indices {
                        xml.open("PairCounts", ["value": "\(value)"])
                        xml.open("TargetValueCounts")
                        for c in 0..<2 {
                            let count = probabilities[c][value] * naiveBayes.classWeights[c]
                            xml.empty("TargetValueCount", ["value": "\(c)", "count": "\(count)"])
                        }
                        xml.close("TargetValueCounts")
                        xml.close("PairCounts")
                    }
                }
                xml.close("BayesInput")
            }
            xml.close("BayesInputs")
            xml.open("BayesOutput", ["fieldName": Self.pmmlTarget])
            xml.open("TargetValueCounts")
            for c in 0..<2 { xml.empty("TargetValueCount", ["value": "\(c)", "count": "\(naiveBayes.classWeights[c])"]) }
            xml.close("TargetValueCounts")
            xml.close("BayesOutput")
            xml.close("NaiveBayesModel")
        } else {
            let (weights, intercept) = try linearForm(for: .pmml)
            xml.open(
                "RegressionModel",
                [
                    "modelName": artifact.id, "functionName": "classification", "algorithmName": "logisticRegression",
                    "normalizationMethod": "logit",
                ])
            schema()
            xml.open("RegressionTable", ["targetCategory": "1", "intercept": "\(intercept)"])
            for (j, column) in columns.enumerated() {
                xml.empty("NumericPredictor", ["name": column.name, "coefficient": "\(weights[j])"])
            }
            xml.close("RegressionTable")
            xml.empty("RegressionTable", ["targetCategory": "0", "intercept": "0"])
            xml.close("RegressionModel")
        }
        xml.close("PMML")
        return xml.text
    }
}

/// Indented XML, attributes in a fixed (sorted) order so an export is reproducible.
struct XMLWriter {
    private(set) var text = ""
    private var depth = 0

    mutating func line(_ content: String) {
        text += String(repeating: "  ", count: depth) + content + "\n"
    }

    mutating func open(_ name: String, _ attributes: [String: String] = [:]) {
        line("<\(name)\(Self.attributes(attributes))>")
        depth += 1
    }

    mutating func close(_ name: String) {
        depth -= 1
        line("</\(name)>")
    }

    mutating func empty(_ name: String, _ attributes: [String: String] = [:]) {
        line("<\(name)\(Self.attributes(attributes))/>")
    }

    mutating func element(_ name: String, _ content: String) {
        line("<\(name)>\(HTML.escape(content))</\(name)>")
    }

    static func attributes(_ attributes: [String: String]) -> String {
        attributes.sorted { $0.key < $1.key }.map { " \($0.key)=\"\(HTML.escape($0.value))\"" }.joined()
    }
}
