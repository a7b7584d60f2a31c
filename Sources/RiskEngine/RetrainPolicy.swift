import Foundation
import RiskContract
import RiskFeatures
import RiskModels

/// When and how the feedback loop retrains (ARCHITECTURE.md §7), as JSON
/// (`"format": "riskloop.retrain/1"`). Every member is optional in the file; a missing one takes
/// the default below, an unknown one is refused by name.
///
/// ```json
/// { "format": "riskloop.retrain/1", "min_new_labels": 500, "interval_hours": 168,
///   "window_days": 28, "holdout_days": 7, "ap_margin": 0.01, "auc_margin": 0.01 }
/// ```
public struct RetrainPolicy: Sendable, Equatable, Codable {
    public static let currentFormat = "riskloop.retrain/1"

    /// Algorithms to train a challenger with; the one with the best holdout AP goes to the gate.
    public var algorithms: [ModelArtifact.Algorithm] = [.logisticRegression]
    /// Trigger: at least this many label versions stored since the last cycle (`nil`: never by count).
    public var minNewLabels: Int? = 500
    /// Trigger: at least this long since the last cycle's cutoff (`nil`: never by time).
    public var intervalHours: Double? = 168
    /// Trigger: the champion's score PSI over the last ``driftDays`` at or above this (`nil`: off).
    public var psiThreshold: Double? = 0.25
    /// Recent traffic that drift is measured on.
    public var driftDays: Double = 7
    /// Events of the last `windowDays` before the cutoff are the training set and the holdout.
    public var windowDays: Double = 28
    /// The holdout: the labelled events of the last `holdoutDays` before the cutoff.
    public var holdoutDays: Double = 7
    /// Events this long before the window feed entity history (aggregates) without being trained on.
    public var historyDays: Double = 30
    /// The gate: the challenger is promoted unless its holdout average precision is below the
    /// champion's by more than this…
    public var apMargin: Double = 0.01
    /// …or its ROC AUC is below the champion's by more than this.
    public var aucMargin: Double = 0.01
    /// Start logistic regression from the champion's weights when the columns match.
    public var warmStart = true
    /// Between cycles, a naive Bayes champion absorbs the newly labelled events (partial fit,
    /// exactly as if they had been in its training set) whenever no cycle is due.
    public var naiveBayesOnline = true
    /// scikit-learn's default tolerance (1e-4): a retrain needs a good model on time, not the last digits.
    public var logisticRegression = LogisticRegression.Hyperparameters(tolerance: 1e-4, maxIterations: 500)
    public var naiveBayes = NaiveBayes.Hyperparameters()

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case format, algorithms, c, standardize, tol, alpha
        case minNewLabels = "min_new_labels"
        case intervalHours = "interval_hours"
        case psiThreshold = "psi_threshold"
        case driftDays = "drift_days"
        case windowDays = "window_days"
        case holdoutDays = "holdout_days"
        case historyDays = "history_days"
        case apMargin = "ap_margin"
        case aucMargin = "auc_margin"
        case warmStart = "warm_start"
        case naiveBayesOnline = "naive_bayes_online"
        case classWeight = "class_weight"
        case maxIter = "max_iter"
        case varSmoothing = "var_smoothing"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let format = try container.decodeIfPresent(String.self, forKey: .format) ?? Self.currentFormat
        guard format == Self.currentFormat else {
            throw DecodingError.dataCorruptedError(
                forKey: .format, in: container, debugDescription: "format '\(format)' is not \(Self.currentFormat)")
        }
        func value<T: Decodable>(_ key: CodingKeys, _ current: T) throws -> T {
            try container.decodeIfPresent(T.self, forKey: key) ?? current
        }
        algorithms = try value(.algorithms, algorithms)
        // An explicit null turns a trigger off.
        if container.contains(.minNewLabels) { minNewLabels = try container.decodeIfPresent(Int.self, forKey: .minNewLabels) }
        if container.contains(.intervalHours) { intervalHours = try container.decodeIfPresent(Double.self, forKey: .intervalHours) }
        if container.contains(.psiThreshold) { psiThreshold = try container.decodeIfPresent(Double.self, forKey: .psiThreshold) }
        driftDays = try value(.driftDays, driftDays)
        windowDays = try value(.windowDays, windowDays)
        holdoutDays = try value(.holdoutDays, holdoutDays)
        historyDays = try value(.historyDays, historyDays)
        apMargin = try value(.apMargin, apMargin)
        aucMargin = try value(.aucMargin, aucMargin)
        warmStart = try value(.warmStart, warmStart)
        naiveBayesOnline = try value(.naiveBayesOnline, naiveBayesOnline)
        logisticRegression.c = try value(.c, logisticRegression.c)
        logisticRegression.standardize = try value(.standardize, logisticRegression.standardize)
        logisticRegression.tolerance = try value(.tol, logisticRegression.tolerance)
        logisticRegression.classWeight = try value(.classWeight, logisticRegression.classWeight)
        logisticRegression.maxIterations = try value(.maxIter, logisticRegression.maxIterations)
        naiveBayes.alpha = try value(.alpha, naiveBayes.alpha)
        naiveBayes.varSmoothing = try value(.varSmoothing, naiveBayes.varSmoothing)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(Self.currentFormat, forKey: .format)
        try container.encode(algorithms, forKey: .algorithms)
        try container.encode(minNewLabels, forKey: .minNewLabels)
        try container.encode(intervalHours, forKey: .intervalHours)
        try container.encode(psiThreshold, forKey: .psiThreshold)
        try container.encode(driftDays, forKey: .driftDays)
        try container.encode(windowDays, forKey: .windowDays)
        try container.encode(holdoutDays, forKey: .holdoutDays)
        try container.encode(historyDays, forKey: .historyDays)
        try container.encode(apMargin, forKey: .apMargin)
        try container.encode(aucMargin, forKey: .aucMargin)
        try container.encode(warmStart, forKey: .warmStart)
        try container.encode(naiveBayesOnline, forKey: .naiveBayesOnline)
        try container.encode(logisticRegression.c, forKey: .c)
        try container.encode(logisticRegression.standardize, forKey: .standardize)
        try container.encode(logisticRegression.tolerance, forKey: .tol)
        try container.encode(logisticRegression.classWeight, forKey: .classWeight)
        try container.encode(logisticRegression.maxIterations, forKey: .maxIter)
        try container.encode(naiveBayes.alpha, forKey: .alpha)
        try container.encode(naiveBayes.varSmoothing, forKey: .varSmoothing)
    }

    /// Reads a policy file; errors name the file and the member.
    public static func read(_ path: String) throws(EngineError) -> RetrainPolicy {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .cannotRead(path: path, reason: FileManager.default.fileExists(atPath: path) ? "permission denied" : "no such file")
        }
        return try decode(data, source: path)
    }

    /// Decodes and validates a policy; errors name `source` and the member.
    public static func decode(_ data: Data, source: String) throws(EngineError) -> RetrainPolicy {
        if let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] {
            let known = Set(CodingKeys.allCases.map(\.stringValue))
            if let unknown = object.keys.sorted().first(where: { !known.contains($0) }) {
                throw .badInput(
                    file: source, line: nil, column: unknown,
                    reason: "unknown member (known: \(known.sorted().joined(separator: ", ")))")
            }
        }
        let policy: RetrainPolicy
        do {
            policy = try JSONDecoder().decode(RetrainPolicy.self, from: data)
        } catch let DecodingError.dataCorrupted(context) {
            throw .badInput(file: source, line: nil, column: context.codingPath.last?.stringValue, reason: context.debugDescription)
        } catch let DecodingError.typeMismatch(type, context) {
            throw .badInput(file: source, line: nil, column: context.codingPath.first?.stringValue, reason: "expected \(type)")
        } catch {
            throw .badInput(file: source, line: nil, column: nil, reason: "not a retraining policy: \(error)")
        }
        try policy.validate(source: source)
        return policy
    }

    /// Checks the ranges; the error names the member.
    public func validate(source: String = "policy") throws(EngineError) {
        func bad(_ member: CodingKeys, _ reason: String) -> EngineError {
            .badInput(file: source, line: nil, column: member.stringValue, reason: reason)
        }
        guard !algorithms.isEmpty else { throw bad(.algorithms, "name at least one algorithm") }
        if let minNewLabels, minNewLabels < 1 { throw bad(.minNewLabels, "must be at least 1 (or null to turn it off)") }
        if let intervalHours, !(intervalHours > 0) { throw bad(.intervalHours, "must be positive (or null to turn it off)") }
        if let psiThreshold, !(psiThreshold > 0) { throw bad(.psiThreshold, "must be positive (or null to turn it off)") }
        guard driftDays > 0 else { throw bad(.driftDays, "must be positive") }
        guard holdoutDays > 0 else { throw bad(.holdoutDays, "must be positive") }
        guard windowDays > holdoutDays else { throw bad(.windowDays, "must be longer than holdout_days") }
        guard historyDays >= 0 else { throw bad(.historyDays, "must not be negative") }
        guard apMargin >= 0, apMargin <= 1 else { throw bad(.apMargin, "must be between 0 and 1") }
        guard aucMargin >= 0, aucMargin <= 1 else { throw bad(.aucMargin, "must be between 0 and 1") }
        do {
            try logisticRegression.validate()
        } catch {
            throw .badInput(file: source, line: nil, column: nil, reason: error.description)
        }
        guard naiveBayes.alpha > 0 else { throw bad(.alpha, "must be positive") }
        guard naiveBayes.varSmoothing >= 0 else { throw bad(.varSmoothing, "must not be negative") }
    }
}
