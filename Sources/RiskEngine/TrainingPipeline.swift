import Foundation
import RiskContract
import RiskFeatures
import RiskModels

/// Trains a model on labelled rows: splits an out-of-time holdout, fits, calibrates on held-out
/// rows only, evaluates, and seals the artifact with its lineage.
///
/// Rows are taken to be in time order. The holdout is the last rows (or those at or after a
/// date); with calibration, its earlier half fits the calibration and its later half is
/// evaluated, so no metric is computed on rows that fitted anything.
public struct TrainingPipeline: Sendable {
    public enum Holdout: Sendable, Equatable {
        /// The last `fraction` of the rows (0 ≤ fraction < 1).
        case fraction(Double)
        /// Rows whose time is at or after this instant.
        case after(Timestamp)
    }

    public var algorithm: ModelArtifact.Algorithm
    public var logisticRegression = LogisticRegression.Hyperparameters()
    public var naiveBayes = NaiveBayes.Hyperparameters()
    /// Columns to treat as categorical codes (naive Bayes); other columns are Bernoulli when they
    /// hold only 0 and 1, else Gaussian.
    public var categoricalColumns: Set<String> = []
    public var calibration: Calibration.Method = .none
    public var holdout: Holdout = .fraction(Self.defaultHoldoutFraction)

    /// The share of rows held out for evaluation when nothing else is said: the last 20 % are
    /// not trained on (a library's `fit` trains on all of them).
    public static let defaultHoldoutFraction = 0.2
    public var warmStart: ModelArtifact?
    /// Where precision and recall are reported.
    public var thresholds: [Double] = [0.5]
    public var topK: [Int] = [100]

    public init(algorithm: ModelArtifact.Algorithm) {
        self.algorithm = algorithm
    }

    /// Trains on `table`, which must have labels.
    public func train(_ table: LabelledTable, now: Timestamp) throws(EngineError) -> ModelArtifact {
        guard let labels = table.labels else { throw .invalidOptions(option: "--label", reason: "training needs a label column") }
        let started = Date()
        let all: TrainingData
        do {
            all = try TrainingData(features: table.features, labels: labels, sampleWeights: table.weights, columns: table.columns)
        } catch {
            throw .model(error)
        }
        let (trainRows, holdoutRows) = try split(table)
        guard !trainRows.isEmpty else { throw .invalidOptions(option: "--holdout", reason: "no rows are left to train on") }
        let (calibrationRows, evaluationRows): (Range<Int>, Range<Int>) =
            calibration == .none
            ? (holdoutRows.lowerBound..<holdoutRows.lowerBound, holdoutRows)
            : (
                holdoutRows.lowerBound..<(holdoutRows.lowerBound + holdoutRows.count / 2),
                (holdoutRows.lowerBound + holdoutRows.count / 2)..<holdoutRows.upperBound
            )
        if calibration != .none, calibrationRows.count < 2 || evaluationRows.isEmpty {
            throw .invalidOptions(
                option: "--calibration", reason: "calibration needs a holdout of at least 3 rows (it fits on the earlier half)")
        }

        do {
            let train = try all.subset(trainRows)
            try train.requireBothClasses()
            // The lineage's hash is one serial pass over the training rows (2 s for a million on
            // this machine): it runs on another core while the model is fitted and evaluated.
            let dataSHA256 = BackgroundValue { train.sha256 }
            var logisticModel: LogisticModel? = nil, naiveBayesModel: NaiveBayesModel? = nil
            var report: LogisticRegression.FitReport? = nil
            switch algorithm {
            case .logisticRegression:
                if let warmStart, warmStart.columns != table.columns {
                    throw EngineError.invalidOptions(option: "--warm-start", reason: "the model's columns differ from the data's")
                }
                let fitted = try LogisticRegression(hyperparameters: logisticRegression).fit(
                    train, warmStart: warmStart?.logisticRegression)
                logisticModel = fitted.model
                report = fitted.report
            case .naiveBayes:
                let (kinds, groups) = columnKinds(train, spec: table.featureSpec)
                naiveBayesModel = try NaiveBayes(kinds: kinds, levelGroupSizes: groups, hyperparameters: naiveBayes).fit(train)
            }
            let calibrationRaw: (raw: [Double], probability: [Double])? =
                calibrationRows.isEmpty ? nil : Self.scores(logisticModel, naiveBayesModel, try all.subset(calibrationRows).features)
            let fittedCalibration: Calibration? =
                switch calibration {
                case .none: nil
                case .platt:
                    Calibration.fitPlatt(
                        scores: calibrationRaw!.raw, labels: Array(labels[calibrationRows]),
                        weights: table.weights.map { Array($0[calibrationRows]) })
                case .isotonic:
                    Calibration.fitIsotonic(
                        probabilities: calibrationRaw!.probability, labels: Array(labels[calibrationRows]),
                        weights: table.weights.map { Array($0[calibrationRows]) })
                }
            var metrics = ModelArtifact.ModelMetrics(holdout: nil)
            if !evaluationRows.isEmpty {
                let evaluation = try all.subset(evaluationRows)
                let (raw, probability) = Self.scores(logisticModel, naiveBayesModel, evaluation.features)
                let calibrated =
                    fittedCalibration.map { c in zip(raw, probability).map { c.apply(raw: $0, probability: $1) } } ?? probability
                metrics.holdout = Metrics.evaluate(
                    labels: evaluation.labels, probabilities: calibrated, weights: evaluation.sampleWeights, thresholds: thresholds,
                    topK: topK)
                if fittedCalibration != nil {
                    metrics.holdoutUncalibrated = Metrics.evaluate(
                        labels: evaluation.labels, probabilities: probability, weights: evaluation.sampleWeights, thresholds: thresholds,
                        topK: topK)
                }
            }
            let population = table.population ?? train.features
            let populationScores = Self.scores(logisticModel, naiveBayesModel, population)
            let drift = DriftReference.fit(
                features: population,
                scores: fittedCalibration.map { c in
                    zip(populationScores.raw, populationScores.probability).map { c.apply(raw: $0, probability: $1) }
                } ?? populationScores.probability)
            let totals = train.classWeightTotals
            var lineage = ModelArtifact.TrainingLineage(
                source: table.file, sourceSHA256: table.fileSHA256, windowStart: table.times.map { $0[trainRows].min()! },
                windowEnd: table.times.map { $0[trainRows].max()! }, rows: train.rowCount, positives: totals.positive,
                totalWeight: totals.positive + totals.negative, dataSHA256: dataSHA256.value, iterations: report?.iterations,
                converged: report?.converged, finalGradientMax: report?.finalGradientMax, stopReason: report?.stopReason,
                durationSeconds: Date().timeIntervalSince(started), holdoutRows: evaluationRows.count,
                calibrationRows: calibrationRows.count)
            lineage.labelsKnownAt = table.labelsKnownAt
            return ModelArtifact(
                algorithm: algorithm, createdAt: now, featureSpec: table.featureSpec ?? Self.columnSpec(table.columns),
                columns: table.columns,
                logisticRegression: logisticModel, naiveBayes: naiveBayesModel, calibration: fittedCalibration,
                hyperparameters: .init(
                    logisticRegression: algorithm == .logisticRegression ? logisticRegression : nil,
                    naiveBayes: algorithm == .naiveBayes ? naiveBayes : nil, calibration: calibration, holdout: holdoutDescription),
                training: lineage, metrics: metrics, parentId: warmStart?.id, drift: drift)
        } catch let error as EngineError {
            throw error
        } catch let error as ModelError {
            throw .model(error)
        } catch {
            preconditionFailure("unexpected error \(error)")
        }
    }

    /// Whether record `index` of `count` (at `time`) falls before the holdout: feature statistics
    /// are fitted on those records only.
    public func isTrainingRow(_ index: Int, of count: Int, at time: Timestamp?) -> Bool {
        switch holdout {
        case .fraction(let fraction): return index < count - Int((Double(count) * min(max(fraction, 0), 1)).rounded(.up))
        case .after(let cutoff): return time.map { $0 < cutoff } ?? true
        }
    }

    private func split(_ table: LabelledTable) throws(EngineError) -> (train: Range<Int>, holdout: Range<Int>) {
        let rows = table.features.rows
        switch holdout {
        case .fraction(let fraction):
            guard fraction >= 0, fraction < 1 else {
                throw .invalidOptions(option: "--holdout-fraction", reason: "must be at least 0 and below 1")
            }
            let held = Int((Double(rows) * fraction).rounded(.up))
            return (0..<(rows - held), (rows - held)..<rows)
        case .after(let cutoff):
            guard let times = table.times else {
                throw .invalidOptions(option: "--holdout-after", reason: "needs a time column (--time-column)")
            }
            guard let first = times.firstIndex(where: { $0 >= cutoff }) else { return (0..<rows, rows..<rows) }
            guard times[first...].allSatisfy({ $0 >= cutoff }) else {
                throw .invalidOptions(option: "--holdout-after", reason: "rows must be in time order for an out-of-time holdout")
            }
            return (0..<first, first..<rows)
        }
    }

    private var holdoutDescription: String {
        switch holdout {
        case .fraction(let fraction):
            "last \(fraction * 100)% of rows" + (calibration == .none ? "" : "; earlier half calibrates, later half evaluates")
        case .after(let cutoff):
            "rows at or after \(cutoff.rfc3339)" + (calibration == .none ? "" : "; earlier half calibrates, later half evaluates")
        }
    }

    /// Naive Bayes' reading of each column: a number's bins (through the spec) as one categorical
    /// feature per group of levels, other 0/1 columns as Bernoulli, the rest Gaussian.
    private func columnKinds(_ data: TrainingData, spec: JSONValue?) -> (kinds: [NaiveBayes.ColumnKind], groups: [Int]?) {
        var groups = [Int](repeating: 0, count: data.features.columns)
        if let decoded = spec.flatMap(SpecTable.spec(json:)), let extractor = try? FeatureExtractor(spec: decoded),
            extractor.columns.count == groups.count
        {
            var width = [Int: Int]()
            for feature in extractor.featureOfColumn { width[feature, default: 0] += 1 }
            for j in groups.indices where extractor.spec.features[extractor.featureOfColumn[j]].bins != nil {
                groups[j] = width[extractor.featureOfColumn[j]]!
            }
        }
        let kinds = (0..<data.features.columns).map { j -> NaiveBayes.ColumnKind in
            if categoricalColumns.contains(data.columns[j]) { return .categorical }
            if groups[j] >= 2 { return .level }
            let binary = (0..<data.rowCount).allSatisfy { data.features[$0, j] == 0 || data.features[$0, j] == 1 }
            return binary ? .bernoulli : .gaussian
        }
        return (kinds, kinds.contains(.level) ? groups : nil)
    }

    static func scores(_ logistic: LogisticModel?, _ naiveBayes: NaiveBayesModel?, _ features: Matrix) -> (
        raw: [Double], probability: [Double]
    ) {
        if let logistic {
            let raw = logistic.decisionFunction(features)
            return (raw, raw.map(Logistic.sigmoid))
        }
        return (naiveBayes!.decisionFunction(features), naiveBayes!.probabilities(features))
    }

    /// The spec of a model trained on file columns: each column used as it is.
    static func columnSpec(_ columns: [String]) -> JSONValue {
        .object(
            JSONObject([
                .init(key: "format", value: .string("riskloop.columns/1")),
                .init(
                    key: "columns",
                    value: .array(
                        columns.map {
                            .object(
                                JSONObject([
                                    .init(key: "name", value: .string($0)), .init(key: "encoding", value: .string("none")),
                                ]))
                        })),
            ]))
    }
}
