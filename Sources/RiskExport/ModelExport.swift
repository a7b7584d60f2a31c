import Foundation
import RiskContract
import RiskEngine
import RiskFeatures
import RiskModels
import RiskScoring

/// The formats a model is exported in (`riskloop export`, `GET /v1/models/{id}/export`).
public enum ExportFormat: String, Sendable, CaseIterable {
    /// The artifact as stored, with its SHA-256 (ARCHITECTURE.md §5.4).
    case json
    /// One row per column: what it is, how it is encoded, and its parameters.
    case csv
    /// PMML 4.4: `RegressionModel` (logit) for logistic regression, `NaiveBayesModel` for naive Bayes.
    case pmml
    /// ONNX-ML: `LinearClassifier` with a logistic post-transform (logistic regression only).
    case onnx
    /// A model card: one self-contained HTML file with inline SVG plots.
    case card

    /// The HTTP media type of the export.
    public var mediaType: String {
        switch self {
        case .json: "application/json"
        case .csv: "text/csv; charset=utf-8"
        case .pmml: "application/xml"
        case .onnx: "application/octet-stream"
        case .card: "text/html; charset=utf-8"
        }
    }

    /// The usual file name extension.
    public var fileExtension: String {
        switch self {
        case .json: "json"
        case .csv: "csv"
        case .pmml: "pmml"
        case .onnx: "onnx"
        case .card: "html"
        }
    }
}

/// A model artifact in the formats auditors and other tools read.
///
/// ```swift
/// let export = ModelExport(artifact)
/// let pmml = try export.data(.pmml)        // PMML 4.4, probabilities within 1e-9 of RiskLoop's
/// let card = try export.data(.card, card: context)
/// ```
///
/// PMML and ONNX carry the model over its expanded columns (the feature extraction stays in
/// RiskLoop), with standardisation and Platt calibration folded into the linear terms.
/// Isotonic calibration has no such form and is refused for them, as is a calibrated naive Bayes.
public struct ModelExport: Sendable {
    public let artifact: ModelArtifact
    /// What each column is, from the feature spec (or the bare column names of a model trained
    /// on a table).
    public let columns: [ColumnDescription]
    /// The serving form, for models trained on events through a spec.
    let serving: ServingModel?
    /// The artifact's bytes as stored, which the json export returns unchanged.
    let storedJSON: Data?

    /// - Parameter storedJSON: the bytes `artifact` was decoded from (checksum already checked),
    ///   to export as they are; else the json export encodes the artifact.
    public init(_ artifact: ModelArtifact, storedJSON: Data? = nil) {
        self.artifact = artifact
        self.storedJSON = storedJSON
        serving = try? ServingModel(artifact)
        columns = Self.describe(artifact, serving)
    }

    /// The export in `format`.
    ///
    /// - Parameter card: what the model card shows beyond the artifact (policy, drift); used by `.card` only.
    /// - Throws: ``EngineError/invalidOptions(option:reason:)`` naming `--format` when the model
    ///   has no form in that format (an NB model as ONNX, an isotonic calibration as PMML or ONNX).
    public func data(_ format: ExportFormat, card: ModelCard.Context = ModelCard.Context()) throws(EngineError) -> Data {
        switch format {
        case .json: storedJSON ?? artifact.encoded()
        case .csv: Data(csv().utf8)
        case .pmml: Data(try pmml().utf8)
        case .onnx: try onnx()
        case .card: Data(ModelCard(export: self, context: card).html().utf8)
        }
    }

    /// The logistic model over raw columns with any Platt calibration folded in:
    /// `P(fraud) = σ(intercept + weights·x)`.
    func linearForm(for format: ExportFormat) throws(EngineError) -> (weights: [Double], intercept: Double) {
        guard let logistic = artifact.logisticRegression else {
            throw .invalidOptions(option: "--format", reason: "\(format.rawValue) export needs a logistic regression model")
        }
        var (weights, intercept) = logistic.originalScale()
        switch artifact.calibration {
        case nil: break
        case .platt(let a, let b)?:
            // σ(−(a·f + b)) with f = intercept + w·x.
            weights = weights.map { -a * $0 }
            intercept = -a * intercept - b
        case .isotonic?:
            throw .invalidOptions(
                option: "--format",
                reason: "\(format.rawValue) has no form for isotonic calibration; export json, or retrain with --calibration platt or none")
        }
        return (weights, intercept)
    }
}

/// One expanded column: its name, the feature it came from and how that feature is encoded.
public struct ColumnDescription: Sendable, Equatable {
    public var name: String
    /// The spec feature's name (the column itself for a model trained on a table).
    public var feature: String
    /// The feature's kind (`numeric`, `cross`, …), or `column` for a table column.
    public var kind: String
    /// Where the value comes from: the dotted path, or for aggregates the key and field.
    public var source: String
    /// How the feature becomes this column, in words.
    public var encoding: String
    /// What a value of 1 (an indicator) or the number (a numeric column) says, in an analyst's words.
    public var meaning: String
}

extension ModelExport {
    static func describe(_ artifact: ModelArtifact, _ serving: ServingModel?) -> [ColumnDescription] {
        guard let serving else {
            return artifact.columns.map {
                ColumnDescription(name: $0, feature: $0, kind: "column", source: $0, encoding: "the table's value as given", meaning: $0)
            }
        }
        let features = serving.extractor.spec.features
        return artifact.columns.indices.map { column in
            let feature = features[serving.extractor.featureOfColumn[column]]
            let name = artifact.columns[column]
            return ColumnDescription(
                name: name, feature: feature.name, kind: feature.kind.rawValue, source: source(of: feature),
                encoding: encoding(of: feature, column: name), meaning: serving.meaning(column: column))
        }
    }

    package static func source(of feature: Feature) -> String {
        switch feature.kind {
        case .aggregate, .fraudRate:
            [feature.key.map { "per \($0)" }, feature.field.map { "of \($0)" }].compactMap { $0 }.joined(separator: ", ")
        case .cross: (feature.of ?? []).joined(separator: " × ")
        case .ratio: "\(feature.source ?? "") against \(feature.against ?? "")" + (feature.spread.map { " in units of \($0)" } ?? "")
        case .hourOfDay, .dayOfWeek, .night: "occurred_at"
        default: feature.source ?? ""
        }
    }

    package static func encoding(of feature: Feature, column: String) -> String {
        let level = column.count > feature.name.count ? String(column.dropFirst(feature.name.count + 1)) : nil
        let indicator = level.map { "1 when the level is '\($0)', else 0" } ?? ""
        if let bins = feature.bins {
            // Six significant digits, as the columns' names show them.
            let edges = (bins.edges ?? []).map { short(Double(String(format: "%.6g", $0)) ?? $0) }.joined(separator: ", ")
            let learnt = bins.quantiles.map { " (the training rows' \($0)-quantiles)" } ?? ""
            return "\(number(of: feature)), in bins at \(edges)\(learnt), plus unknown, one-hot: " + indicator
        }
        switch feature.kind {
        case .numeric:
            if level == "unknown" { return "1 when the number is missing, else 0" }
            var steps: [String] = []
            if let clip = feature.clip, clip.count == 2 { steps.append("clipped to [\(clip[0]), \(clip[1])]") }
            switch feature.transform ?? .none {
            case .none: break
            case .log1p: steps.append("log(1 + x)")
            case .standardize:
                let mean = feature.statistics?.mean ?? 0, deviation = feature.statistics?.standardDeviation ?? 1
                steps.append("standardised: (x − \(mean)) / \(deviation)")
            }
            return (["the number"] + steps).joined(separator: ", ") + "; 0 when missing"
        case .ratio:
            if level == "unknown" { return "1 when the value or its usual is missing, else 0" }
            var steps: [String] = [number(of: feature)]
            if let clip = feature.clip, clip.count == 2 { steps.append("clipped to [\(clip[0]), \(clip[1])]") }
            if feature.transform == .log1p { steps.append("log(1 + x)") }
            if feature.transform == .standardize {
                steps.append("standardised: (x − \(feature.statistics?.mean ?? 0)) / \(feature.statistics?.standardDeviation ?? 1)")
            }
            return steps.joined(separator: ", ") + "; 0 when unknown"
        case .boolean, .contains, .night:
            return "true / false / unknown, one-hot: " + indicator
        case .categorical:
            return "vocabulary of \(feature.vocabulary?.count ?? 0) values plus <other> and unknown, one-hot: " + indicator
        case .hashed:
            return "FNV-1a hash into \(feature.buckets ?? 0) buckets plus unknown, one-hot: " + indicator
        case .timeSince:
            let edges = (feature.bucketsHours ?? []).map { "\(short($0)) h" }.joined(separator: ", ")
            return "hours since the timestamp, bucketed at \(edges), plus none and unknown, one-hot: " + indicator
        case .hourOfDay: return "the hour (UTC), 24 levels, one-hot: " + indicator
        case .dayOfWeek: return "the ISO day of week (UTC), 7 levels, one-hot: " + indicator
        case .cross: return "the combination of \((feature.of ?? []).joined(separator: ", ")), one-hot: " + indicator
        case .aggregate:
            return number(of: feature) + ", at event time"
        case .fraudRate:
            let window = short(feature.windowHours ?? 0)
            let delay = short(feature.labelDelayHours ?? 0)
            return
                "fraud share of the key's labelled events in \(window) h, labels reported \(delay) h before the event, "
                + "smoothed towards \(feature.priorRate ?? 0) with weight \(feature.priorWeight ?? 0)"
        }
    }

    /// What number a numeric, aggregate or ratio feature reads, in words.
    static func number(of feature: Feature) -> String {
        let window = short(feature.windowHours ?? 0)
        switch feature.kind {
        case .aggregate:
            let kinds = feature.eventKinds.map { " (events of kind \($0.joined(separator: ", ")))" } ?? ""
            let events = feature.includeCurrent == true ? "events up to and including this one" : "earlier events"
            let empty = [.mean, .std, .min, .max].contains(feature.function) ? " (0 with none)" : ""
            return "\(feature.function?.rawValue ?? "count") over the key's \(events) in \(window) h\(kinds)\(empty)"
        case .fraudRate:
            return "fraud share of the key's labelled events in \(window) h"
        case .ratio:
            let source = feature.source ?? "", against = feature.against ?? ""
            if let spread = feature.spread { return "(\(source) − \(against)) / \(spread), unknown without history or spread" }
            return "ln((1 + \(source)) / (1 + \(against))), unknown without history"
        default:
            return "the number"
        }
    }

    /// A number as people write it: `24`, not `24.0`.
    static func short(_ number: Double) -> String {
        number == number.rounded() && abs(number) < 1e15 ? String(Int64(number)) : "\(number)"
    }
}
