import Crypto
import Foundation
import RiskContract
import RiskFeatures

/// A trained model as a self-contained, versioned JSON document (ARCHITECTURE.md §5.4).
///
/// It carries what an auditor needs to reproduce and judge the model: the feature spec and its
/// SHA-256, the expanded column names, the parameters, the calibration, the hyperparameters, the
/// training lineage (including the SHA-256 of the training rows) and the holdout metrics. Numbers
/// are written at full precision, so a model read back is bit for bit the model written.
///
/// The artifact's own ``sha256`` covers its canonical encoding (sorted keys, no whitespace,
/// without the `sha256` member); ``decode(from:)`` refuses an artifact whose checksum does not match.
///
/// ```swift
/// let bytes = try artifact.encoded()
/// let same = try ModelArtifact.decode(from: bytes)
/// let p = same.probabilities(features)
/// ```
public struct ModelArtifact: Sendable, Codable, Equatable {
    public static let currentFormat = "riskloop.model/1"

    public var format: String
    /// Derived from the content: the algorithm and the first 12 hex digits of the SHA-256 of
    /// everything except `id`, `created_at`, the training duration and `sha256`, so an identical
    /// retrain gets the same id.
    public var id: String
    public var algorithm: Algorithm
    public var createdAt: Timestamp
    public var featureSpec: JSONValue
    public var featureSpecSHA256: String
    /// The expanded column names, in the order the parameters use.
    public var columns: [String]
    public var logisticRegression: LogisticModel?
    public var naiveBayes: NaiveBayesModel?
    public var calibration: Calibration?
    public var hyperparameters: Hyperparameters
    public var training: TrainingLineage
    public var metrics: ModelMetrics
    public var parentId: String?
    /// The training rows' distributions, for drift (PSI) against recent traffic; absent in
    /// models trained before it existed.
    public var drift: DriftReference?
    public var sha256: String?
    /// Who vouches for the artifact (``SigningKey/sign(_:)``); outside the checksum and the id.
    public var signature: ArtifactSignature?

    public enum Algorithm: String, Sendable, Codable, CaseIterable {
        case logisticRegression = "logistic_regression"
        case naiveBayes = "naive_bayes"
    }

    public struct Hyperparameters: Sendable, Codable, Equatable {
        public var logisticRegression: LogisticRegression.Hyperparameters?
        public var naiveBayes: NaiveBayes.Hyperparameters?
        public var calibration: Calibration.Method
        /// How the holdout was chosen, in words (`last 20% of rows`, `occurred_at ≥ 2026-02-01`).
        public var holdout: String

        public init(
            logisticRegression: LogisticRegression.Hyperparameters? = nil, naiveBayes: NaiveBayes.Hyperparameters? = nil,
            calibration: Calibration.Method = .none, holdout: String
        ) {
            self.logisticRegression = logisticRegression
            self.naiveBayes = naiveBayes
            self.calibration = calibration
            self.holdout = holdout
        }

        enum CodingKeys: String, CodingKey {
            case calibration, holdout
            case logisticRegression = "logistic_regression"
            case naiveBayes = "naive_bayes"
        }
    }

    /// Where the training rows came from and what fitting them did.
    public struct TrainingLineage: Sendable, Codable, Equatable {
        /// The file or query the rows came from.
        public var source: String
        /// SHA-256 of the source file's bytes, when the source is a file.
        public var sourceSHA256: String?
        public var windowStart: Timestamp?
        public var windowEnd: Timestamp?
        /// The label cutoff, when trained from the store: the model has seen every label
        /// reported up to it (for the training window) and none after.
        public var labelsKnownAt: Timestamp?
        public var rows: Int
        /// Weighted count of fraud rows.
        public var positives: Double
        public var totalWeight: Double
        /// SHA-256 of the training rows as fitted: features, labels and weights (IEEE 754, little-endian).
        public var dataSHA256: String
        public var iterations: Int?
        public var converged: Bool?
        public var finalGradientMax: Double?
        public var stopReason: String?
        public var seed: UInt64?
        public var durationSeconds: Double
        public var holdoutRows: Int
        public var calibrationRows: Int

        public init(
            source: String, sourceSHA256: String? = nil, windowStart: Timestamp? = nil, windowEnd: Timestamp? = nil, rows: Int,
            positives: Double, totalWeight: Double, dataSHA256: String, iterations: Int? = nil, converged: Bool? = nil,
            finalGradientMax: Double? = nil, stopReason: String? = nil, seed: UInt64? = nil, durationSeconds: Double,
            holdoutRows: Int, calibrationRows: Int
        ) {
            self.source = source
            self.sourceSHA256 = sourceSHA256
            self.windowStart = windowStart
            self.windowEnd = windowEnd
            self.rows = rows
            self.positives = positives
            self.totalWeight = totalWeight
            self.dataSHA256 = dataSHA256
            self.iterations = iterations
            self.converged = converged
            self.finalGradientMax = finalGradientMax
            self.stopReason = stopReason
            self.seed = seed
            self.durationSeconds = durationSeconds
            self.holdoutRows = holdoutRows
            self.calibrationRows = calibrationRows
        }

        enum CodingKeys: String, CodingKey {
            case source, rows, positives, iterations, converged, seed
            case sourceSHA256 = "source_sha256"
            case windowStart = "window_start"
            case windowEnd = "window_end"
            case labelsKnownAt = "labels_known_at"
            case totalWeight = "total_weight"
            case dataSHA256 = "data_sha256"
            case finalGradientMax = "final_gradient_max"
            case stopReason = "stop_reason"
            case durationSeconds = "duration_seconds"
            case holdoutRows = "holdout_rows"
            case calibrationRows = "calibration_rows"
        }
    }

    public struct ModelMetrics: Sendable, Codable, Equatable {
        /// On the holdout, after calibration (if any).
        public var holdout: BinaryMetrics?
        /// On the holdout, before calibration; present when the model is calibrated.
        public var holdoutUncalibrated: BinaryMetrics?

        public init(holdout: BinaryMetrics?, holdoutUncalibrated: BinaryMetrics? = nil) {
            self.holdout = holdout
            self.holdoutUncalibrated = holdoutUncalibrated
        }

        enum CodingKeys: String, CodingKey {
            case holdout
            case holdoutUncalibrated = "holdout_uncalibrated"
        }
    }

    enum CodingKeys: String, CodingKey {
        case format, id, algorithm, columns, calibration, hyperparameters, training, metrics, sha256, signature
        case createdAt = "created_at"
        case featureSpec = "feature_spec"
        case featureSpecSHA256 = "feature_spec_sha256"
        case logisticRegression = "logistic_regression"
        case naiveBayes = "naive_bayes"
        case parentId = "parent_id"
        case drift = "drift_reference"
    }

    /// Assembles an artifact and seals it: derives the id and computes the checksum.
    public init(
        algorithm: Algorithm, createdAt: Timestamp, featureSpec: JSONValue, columns: [String],
        logisticRegression: LogisticModel? = nil, naiveBayes: NaiveBayesModel? = nil, calibration: Calibration? = nil,
        hyperparameters: Hyperparameters, training: TrainingLineage, metrics: ModelMetrics, parentId: String? = nil,
        drift: DriftReference? = nil
    ) {
        precondition((logisticRegression != nil) == (algorithm == .logisticRegression), "parameters must match the algorithm")
        precondition((naiveBayes != nil) == (algorithm == .naiveBayes), "parameters must match the algorithm")
        format = Self.currentFormat
        id = ""
        self.algorithm = algorithm
        self.createdAt = createdAt
        self.featureSpec = featureSpec
        featureSpecSHA256 = Self.sha256Hex(Self.canonical(featureSpec))
        self.columns = columns
        self.logisticRegression = logisticRegression
        self.naiveBayes = naiveBayes
        self.calibration = calibration
        self.hyperparameters = hyperparameters
        self.training = training
        self.metrics = metrics
        self.parentId = parentId
        self.drift = drift
        sha256 = nil
        seal()
    }

    /// Recomputes `id` (from the content) and `sha256`.
    public mutating func seal() {
        var content = self
        content.id = ""
        content.createdAt = Timestamp(millisecondsSinceEpoch: 0)
        content.sha256 = nil
        content.signature = nil
        content.training.durationSeconds = 0
        let prefix = algorithm == .logisticRegression ? "lr-" : "nb-"
        id = prefix + String(Self.sha256Hex(Self.canonical(content)).prefix(12))
        sha256 = computedSHA256()
    }

    /// The SHA-256 of the canonical encoding without the `sha256` member.
    public func computedSHA256() -> String {
        var content = self
        content.sha256 = nil
        content.signature = nil
        return Self.sha256Hex(Self.canonical(content))
    }

    /// The artifact as pretty-printed JSON with sorted keys, for files and exports.
    public func encoded() -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes, .prettyPrinted]
        do {
            return try encoder.encode(self)
        } catch {
            preconditionFailure("a model artifact always encodes: \(error)")
        }
    }

    /// Reads an artifact and checks its format and checksum.
    ///
    /// - Throws: ``ModelError/invalidArtifact(reason:)`` for unreadable JSON, another format, or a
    ///   checksum that does not match the content (a tampered or damaged file).
    public static func decode(from data: Data) throws(ModelError) -> ModelArtifact {
        let artifact: ModelArtifact
        do {
            artifact = try JSONDecoder().decode(ModelArtifact.self, from: data)
        } catch {
            throw .invalidArtifact(reason: "not a RiskLoop model: \(error)")
        }
        guard artifact.format == currentFormat else {
            throw .invalidArtifact(reason: "format '\(artifact.format)' is not \(currentFormat)")
        }
        guard let stated = artifact.sha256 else { throw .invalidArtifact(reason: "no sha256 member") }
        let actual = artifact.computedSHA256()
        guard stated == actual else {
            // The actual checksum is not printed: it is what a forger would paste in.
            throw .invalidArtifact(reason: "its content does not hash to its sha256 member; it was changed after it was written")
        }
        guard (artifact.logisticRegression?.weights.count ?? artifact.naiveBayes?.kinds.count) == artifact.columns.count else {
            throw .invalidArtifact(reason: "the parameters do not match the \(artifact.columns.count) columns")
        }
        return artifact
    }

    /// Reads an artifact (``decode(from:)``) and refuses it unless `trust` accepts its signature.
    public static func decode(from data: Data, trust: ArtifactTrust) throws(ModelError) -> ModelArtifact {
        let artifact = try decode(from: data)
        try trust.verify(artifact)
        return artifact
    }

    /// Raw scores (log-odds) of every row, before calibration.
    public func rawScores(_ features: Matrix) -> [Double] {
        if let logisticRegression { return logisticRegression.decisionFunction(features) }
        return naiveBayes!.decisionFunction(features)
    }

    /// Calibrated P(fraud) of every row.
    public func probabilities(_ features: Matrix) -> [Double] {
        let raw = rawScores(features)
        let uncalibrated: [Double] =
            if let naiveBayes { naiveBayes.probabilities(features) } else { raw.map(Logistic.sigmoid) }
        guard let calibration else { return uncalibrated }
        return zip(raw, uncalibrated).map { calibration.apply(raw: $0, probability: $1) }
    }

    static func canonical(_ value: some Encodable) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            return try encoder.encode(value)
        } catch {
            preconditionFailure("canonical encoding failed: \(error)")
        }
    }

    /// Lower-case hex SHA-256.
    public static func sha256Hex(_ data: some DataProtocol) -> String {
        SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
    }
}

extension TrainingData {
    /// SHA-256 of the rows as a trainer sees them: each row's features, then its label and
    /// weight, as IEEE 754 doubles in little-endian order.
    public var sha256: String {
        var hasher = SHA256()
        let columns = features.columns
        features.values.withUnsafeBufferPointer { values in
            for index in 0..<rowCount {
                // Each row's features, then its label and weight: the doubles' bit patterns in
                // little-endian order, which on a little-endian machine are the bytes in memory.
                #if _endian(little)
                    hasher.update(
                        bufferPointer: UnsafeRawBufferPointer(
                            UnsafeBufferPointer(rebasing: values[(index * columns)..<((index + 1) * columns)])))
                    var tail = SIMD2(labels[index], weight(index))
                    withUnsafeBytes(of: &tail) { hasher.update(bufferPointer: $0) }
                #else
                    var row = (0..<columns).map { values[index * columns + $0].bitPattern.littleEndian }
                    row += [labels[index].bitPattern.littleEndian, weight(index).bitPattern.littleEndian]
                    row.withUnsafeBytes { hasher.update(bufferPointer: $0) }
                #endif
            }
        }
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }
}
