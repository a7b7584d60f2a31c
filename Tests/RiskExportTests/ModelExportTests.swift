import Foundation
import FoundationXML
import RiskContract
import RiskFeatures
import RiskModels
import RiskScoring
import SwiftProtobuf
import Testing

@testable import RiskEngine
@testable import RiskExport

@Suite struct ModelExportTests {
    static let now = Timestamp(year: 2026, month: 11, day: 23)!
    static let lineage = ModelArtifact.TrainingLineage(
        source: "hand-built", rows: 5, positives: 3, totalWeight: 8, dataSHA256: "", durationSeconds: 0, holdoutRows: 5,
        calibrationRows: 0)
    /// Rows of (x, flag) the tests score.
    static let rows: [[Double]] = [[0, 0], [1, 1], [3.5, 0], [-2, 1], [10, 1], [0.25, 0]]

    /// p = σ(−(a·f + b)), f = 0.3 + 1.5·(x − 1)/2 − 2·(flag − 0.5)/0.25, a = −1.2, b = 0.4: the
    /// model written out by hand.
    static func handProbability(_ row: [Double]) -> Double {
        let raw = 0.3 + 1.5 * (row[0] - 1) / 2 - 2 * (row[1] - 0.5) / 0.25
        return 1 / (1 + exp(-1.2 * raw + 0.4))
    }

    static func logistic(calibration: Calibration? = .platt(a: -1.2, b: 0.4), metrics: BinaryMetrics? = nil) -> ModelArtifact {
        ModelArtifact(
            algorithm: .logisticRegression, createdAt: now, featureSpec: TrainingPipeline.columnSpec(["x", "flag"]),
            columns: ["x", "flag"],
            logisticRegression: LogisticModel(
                intercept: 0.3, weights: [1.5, -2], standardization: Standardization(mean: [1, 0.5], scale: [2, 0.25])),
            calibration: calibration, hyperparameters: .init(holdout: "none"), training: lineage,
            metrics: .init(holdout: metrics))
    }

    /// Naive Bayes fitted on 8 rows: a Gaussian column and a Bernoulli column.
    static func naiveBayes(calibrated: Bool = false) throws -> ModelArtifact {
        let features = Matrix(rows: 8, columns: 2, values: [0.5, 0, 1.5, 1, 2.5, 1, 0.1, 0, 3, 1, 2, 0, -1, 0, 0.7, 1])
        let data = try TrainingData(features: features, labels: [0, 1, 1, 0, 1, 0, 0, 1], columns: ["amount", "forwarded"])
        let model = try NaiveBayes(kinds: [.gaussian, .bernoulli]).fit(data)
        return ModelArtifact(
            algorithm: .naiveBayes, createdAt: now, featureSpec: TrainingPipeline.columnSpec(["amount", "forwarded"]),
            columns: ["amount", "forwarded"], naiveBayes: model, calibration: calibrated ? .platt(a: -1, b: 0) : nil,
            hyperparameters: .init(holdout: "none"), training: lineage, metrics: .init(holdout: nil))
    }

    static func xml(_ data: Data) throws -> XMLElement {
        try #require(try XMLDocument(data: data).rootElement())
    }

    static func elements(_ node: XMLElement, _ name: String) -> [XMLElement] {
        node.children?.compactMap { $0 as? XMLElement }.flatMap { child in (child.name == name ? [child] : []) + elements(child, name) }
            ?? []
    }

    /// An attribute's text (FoundationXML's `attribute(forName:)` misses attributes under a default namespace).
    static func attribute(_ element: XMLElement, _ name: String) -> String? {
        element.attributes?.first { $0.name == name }?.stringValue
    }

    static func number(_ element: XMLElement, _ attribute: String) throws -> Double {
        let text = try #require(Self.attribute(element, attribute))
        return try #require(Double(text))
    }

    static func close(_ value: Double, _ reference: Double, relative: Double) -> Bool {
        abs(value - reference) <= relative * abs(reference)
    }

    @Test func pmmlLogisticRegressionIsTheHandModelWithStandardisationAndPlattFolded() throws {
        let artifact = Self.logistic()
        let root = try Self.xml(try ModelExport(artifact).data(.pmml))
        #expect(Self.attribute(root, "version") == "4.4")
        let annotations = Self.elements(root, "Annotation").map { $0.stringValue ?? "" }
        #expect(annotations.contains("model id: \(artifact.id)"))
        #expect(annotations.contains("feature spec sha256: \(artifact.featureSpecSHA256)"))
        #expect(Self.elements(root, "Timestamp").first?.stringValue == Self.now.rfc3339)
        #expect(Self.elements(root, "DataField").compactMap { Self.attribute($0, "name") } == ["x", "flag", "fraud"])
        let model = try #require(Self.elements(root, "RegressionModel").first)
        #expect(Self.attribute(model, "normalizationMethod") == "logit")
        let table = try #require(Self.elements(model, "RegressionTable").first { Self.attribute($0, "targetCategory") == "1" })
        var coefficients: [String: Double] = [:]
        for predictor in Self.elements(table, "NumericPredictor") {
            coefficients[Self.attribute(predictor, "name")!] = try Self.number(predictor, "coefficient")
        }
        let intercept = try Self.number(table, "intercept")
        for row in Self.rows {
            // PMML's logit normalisation: 1 / (1 + exp(−y)).
            let y = intercept + coefficients["x"]! * row[0] + coefficients["flag"]! * row[1]
            #expect(Self.close(1 / (1 + exp(-y)), Self.handProbability(row), relative: 1e-12))
        }
    }

    @Test func pmmlNaiveBayesGivesTheModelsPosterior() throws {
        let artifact = try Self.naiveBayes()
        let root = try Self.xml(try ModelExport(artifact).data(.pmml))
        let model = try #require(Self.elements(root, "NaiveBayesModel").first)
        // PMML's naive Bayes: P(c) ∏ P(xⱼ | c), normalised; counts over the class's total.
        var classCounts = [0.0, 0.0]
        for count in Self.elements(try #require(Self.elements(model, "BayesOutput").first), "TargetValueCount") {
            classCounts[Int(Self.attribute(count, "value")!)!] = try Self.number(count, "count")
        }
        let inputs = Self.elements(model, "BayesInput")
        #expect(inputs.map { Self.attribute($0, "fieldName") } == ["amount", "forwarded"])
        let gaussian = try Self.elements(inputs[0], "GaussianDistribution").map {
            (try Self.number($0, "mean"), try Self.number($0, "variance"))
        }
        var pairCounts: [[Double]] = [[0, 0], [0, 0]]  // [value][class]
        for pair in Self.elements(inputs[1], "PairCounts") {
            let value = Int(Self.attribute(pair, "value")!)!
            for count in Self.elements(pair, "TargetValueCount") {
                pairCounts[value][Int(Self.attribute(count, "value")!)!] = try Self.number(count, "count")
            }
        }
        let expected = artifact.probabilities(Matrix(rows: 4, columns: 2, values: [0.5, 0, 2.2, 1, -0.3, 1, 4, 0]))
        for (index, row) in [[0.5, 0.0], [2.2, 1], [-0.3, 1], [4, 0]].enumerated() {
            let joint = (0..<2).map { c in
                let (mean, variance) = gaussian[c]
                let density = exp(-(row[0] - mean) * (row[0] - mean) / (2 * variance)) / sqrt(2 * Double.pi * variance)
                return classCounts[c] / classCounts.reduce(0, +) * density * pairCounts[Int(row[1])][c]
                    / (pairCounts[0][c] + pairCounts[1][c])
            }
            #expect(Self.close(joint[1] / (joint[0] + joint[1]), expected[index], relative: 1e-12))
        }
    }

    @Test func onnxIsOneLinearClassifierWithTheFoldedWeightsInFloat32() throws {
        let artifact = Self.logistic()
        let model = try Onnx_ModelProto(serializedBytes: try ModelExport(artifact).data(.onnx))
        #expect(model.irVersion == 8)
        #expect(model.opsetImport.map(\.domain).sorted() == ["", "ai.onnx.ml"])
        #expect(model.metadataProps.first { $0.key == "model_id" }?.value == artifact.id)
        #expect(model.graph.input.map(\.name) == ["features"])
        #expect(model.graph.input[0].type.tensorType.shape.dim.map(\.dimValue) == [0, 2])
        let node = try #require(model.graph.node.first)
        #expect(model.graph.node.count == 1 && node.opType == "LinearClassifier" && node.domain == "ai.onnx.ml")
        let attributes = Dictionary(uniqueKeysWithValues: node.attribute.map { ($0.name, $0) })
        #expect(String(decoding: try #require(attributes["post_transform"]).s, as: UTF8.self) == "LOGISTIC")
        #expect(attributes["classlabels_ints"]?.ints == [0, 1])
        let coefficients = try #require(attributes["coefficients"]).floats, intercepts = try #require(attributes["intercepts"]).floats
        #expect(coefficients.count == 4 && intercepts.count == 2)
        for row in Self.rows {
            // Class 1's score through the logistic post-transform.
            let z = Double(intercepts[1]) + Double(coefficients[2]) * row[0] + Double(coefficients[3]) * row[1]
            #expect(abs(1 / (1 + exp(-z)) - Self.handProbability(row)) < 1e-5)
        }
    }

    @Test func formatsWithoutAFormForTheModelAreRefusedByName() throws {
        let refusals: [(ModelArtifact, ExportFormat, String)] = [
            (try Self.naiveBayes(), .onnx, "needs a logistic regression"),
            (try Self.naiveBayes(calibrated: true), .pmml, "calibrated naive Bayes"),
            (Self.logistic(calibration: .isotonic(x: [0, 1], y: [0, 1])), .pmml, "isotonic"),
            (Self.logistic(calibration: .isotonic(x: [0, 1], y: [0, 1])), .onnx, "isotonic"),
        ]
        for (artifact, format, words) in refusals {
            #expect {
                try ModelExport(artifact).data(format)
            } throws: { error in
                guard case EngineError.invalidOptions("--format", let reason) = error else { return false }
                return reason.contains(words)
            }
        }
        // An uncalibrated naive Bayes and an isotonic model's json, csv and card still export.
        for format in [ExportFormat.json, .csv, .card, .pmml] { _ = try ModelExport(try Self.naiveBayes()).data(format) }
    }

    @Test func csvHasOneRowPerColumnWithFittedAndRawWeights() throws {
        let text = String(decoding: try ModelExport(Self.logistic()).data(.csv), as: UTF8.self)
        let lines = text.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        #expect(lines[0] == ["column", "feature", "kind", "source", "encoding", "meaning", "weight", "mean", "scale", "raw_weight"])
        #expect(lines.count == 4)
        #expect(lines[1][0] == "(intercept)" && Double(lines[1][6]) == 0.3)
        // raw = w / scale; intercept − Σ raw·mean = 0.3 − 0.75·1 + 8·0.5.
        #expect(Double(lines[1][9]) == 0.3 - 0.75 + 4)
        #expect(lines[2][0] == "x" && Double(lines[2][6]) == 1.5 && Double(lines[2][7]) == 1 && Double(lines[2][8]) == 2)
        #expect(Double(lines[2][9]) == 0.75)
        #expect(lines[3][0] == "flag" && Double(lines[3][9]) == -8)

        let naive = String(decoding: try ModelExport(try Self.naiveBayes()).data(.csv), as: UTF8.self)
        let rows = naive.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        #expect(rows[1][0] == "(class prior)" && Double(rows[1][11]) == 0.5 && Double(rows[1][12]) == 0.5)
        // forwarded = 1 in none of the 4 genuine rows and all 4 fraud rows, α = 1: (0 + 1) / (4 + 2) and (4 + 1) / (4 + 2).
        #expect(rows[3][6] == "bernoulli" && Double(rows[3][11]) == 1.0 / 6 && Double(rows[3][12]) == 5.0 / 6)
    }

    @Test func theCardShowsTheConfusionMatrixAtEachPolicyThreshold() throws {
        // The hand-counted rows of the operating-points test: fraud weight 5, genuine 3.
        let metrics = Metrics.evaluate(
            labels: [1, 0, 1, 0, 1], probabilities: [0.95, 0.95, 0.5, 0.25, 0.004], weights: [1, 2, 1, 1, 3], thresholds: [0.5])
        let policy = DecisionPolicy(version: "test-1", thresholds: .init(stepUp: 0.004, review: 0.5, block: 0.97))
        let html = String(
            decoding: try ModelExport(Self.logistic(metrics: metrics)).data(.card, card: .init(policy: policy)), as: UTF8.self)
        func row(_ name: String, _ threshold: String, _ counts: [Int]) -> String {
            "<tr><td>\(name)</td><td class=\"n\">\(threshold)</td>" + counts.map { "<td class=\"n\">\($0)</td>" }.joined()
        }
        #expect(html.contains(row("step_up", "0.004", [5, 0, 3, 0])))
        #expect(html.contains(row("review", "0.5", [2, 3, 2, 1])))
        #expect(html.contains(row("block", "0.97", [0, 5, 0, 3])))
        // ROC, precision–recall, calibration and the score distribution.
        #expect(html.components(separatedBy: "<svg").count - 1 == 4)
        for section in [
            "Purpose", "Training data and lineage", "Holdout metrics", "What drives the score", "Drift since training", "Known limits",
        ] {
            #expect(html.contains("<h2>\(section)</h2>"))
        }
        #expect(html.contains("Policy <code>test-1</code>"))
    }
}
