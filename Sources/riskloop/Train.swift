import ArgumentParser
import Foundation
import RiskContract
import RiskEngine
import RiskFeatures
import RiskModels
import RiskStore

extension RiskLoop {
    struct Train: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Train a logistic regression or naive Bayes model on a file or on the store's events and labels.",
            discussion: """
                From the store (--from and --to, with --spec): the events that occurred in \
                [--from, --to) and, as each event's label, its latest version reported at or \
                before --to (later labels are never read; unlabelled events feed history only). \
                Events of the --history-days before --from warm up the aggregates. The holdout is \
                the labelled events of the last --holdout-days (out of time). The model is \
                registered as a candidate, or as champion with --promote (audited), and also \
                written to --out if given.

                Reads --data (CSV with a header, or JSON lines of flat objects). --label names the \
                0/1 (true/false, fraud/genuine) column; every other column is a numeric feature \
                unless named by --weight, --time-column or --ignore.

                With --spec, --data holds events (JSON lines, in time order; --records for other \
                objects or CSV rows) and the spec turns each into columns, aggregates and fraud \
                rates point in time; labels come from --labels (each event's latest version; \
                unlabelled events feed history but are not trained on) or from a --label field. \
                --label-history feeds the fraud rates with other label versions than the rows \
                trained on (every label known, while --labels names one training window). A spec's \
                learnt parts (standardize statistics, quantile bins) are learnt from the training \
                rows only, unless the spec is already fitted (riskloop spec fit), and the model \
                records the fitted spec.

                Rows are taken in time order: \
                the holdout is the last --holdout-fraction of them (0.2 unless given: the last 20% \
                are not trained on), or every row at or after \
                --holdout-after (which needs --time-column). With --calibration, the earlier half \
                of the holdout fits the calibration and the later half is evaluated.

                Logistic regression minimises C·Σ sᵢ·logloss + (1−ρ)/2‖w‖² + ρ‖w‖₁ with an \
                unpenalised intercept, scikit-learn's objective; --tol bounds the largest entry of \
                the gradient of that objective divided by C·Σsᵢ (scikit-learn's scaling). A fit \
                that stops before reaching --tol prints a warning and records it in the model.

                Naive Bayes treats 0/1 columns as Bernoulli, columns named by --categorical as \
                category codes, and the rest as Gaussian.

                The model (JSON, format riskloop.model/1) records its columns, parameters, \
                calibration, hyperparameters, the SHA-256 of the data and of the file, and the \
                holdout metrics; its own SHA-256 lets `score` and `evaluate` refuse a changed file.
                """)

        enum AlgorithmChoice: String, ExpressibleByArgument, CaseIterable {
            case logistic
            case naiveBayes = "naive-bayes"
        }

        @Option(help: ArgumentHelp("Training data: .csv with a header, or .jsonl of flat objects.", valueName: "file"))
        var data: String?

        @Option(help: ArgumentHelp("Train on the store's events from this time (RFC 3339 or YYYY-MM-DD).", valueName: "date"))
        var from: String?

        @Option(help: ArgumentHelp("…up to this time (exclusive), with the labels known then.", valueName: "date"))
        var to: String?

        @Option(help: ArgumentHelp("With --from/--to: hold out the labelled events of the last N days.", valueName: "N"))
        var holdoutDays = 7.0

        @Option(help: ArgumentHelp("With --from/--to: days of events before --from that feed history only.", valueName: "N"))
        var historyDays = 30.0

        @Flag(help: "With --from/--to: register the model as champion (else candidate).")
        var promote = false

        @OptionGroup var store: StoreOptions

        @Option(help: ArgumentHelp("The label column or field (1/0, true/false or fraud/genuine).", valueName: "column"))
        var label: String?

        @Option(help: ArgumentHelp("Event data: the feature spec that turns each event into columns.", valueName: "spec.json"))
        var spec: String?

        @Option(
            help: ArgumentHelp("With --spec: label versions (.csv or .jsonl); each event's latest one is its label.", valueName: "file"))
        var labels: String?

        @Option(
            help: ArgumentHelp(
                "With --spec: label versions that feed fraud-rate features only (default: --labels); --labels then name the rows to train on.",
                valueName: "file"))
        var labelHistory: String?

        @Flag(help: "With --spec: read any JSON objects instead of validated events.")
        var records = false

        @Option(help: ArgumentHelp("A column of non-negative sample weights.", valueName: "column"))
        var weight: String?

        @Option(help: ArgumentHelp("A column of RFC 3339 times (for --holdout-after and the training window).", valueName: "column"))
        var timeColumn: String?

        @Option(help: ArgumentHelp("A column to leave out (repeatable).", valueName: "column"))
        var ignore: [String] = []

        @Option(help: "logistic or naive-bayes.")
        var algorithm: AlgorithmChoice = .logistic

        @Option(name: .customLong("c"), help: "Inverse regularisation strength C (logistic).")
        var c = 1.0

        @Option(
            help: ArgumentHelp(
                "Share of the penalty that is L1: 0 is L2, 1 is lasso, between is elastic net (logistic).", valueName: "ratio"))
        var l1Ratio = 0.0

        @Option(help: "none, or balanced: each class weighs half (logistic).")
        var classWeight: LogisticRegression.ClassWeight = .none

        @Option(help: "Stop when max |gradient| is at most this (logistic).")
        var tol = 1e-6

        @Option(help: "Stop after this many L-BFGS iterations (logistic).")
        var maxIter = 1000

        @Flag(help: "Fit on standardised columns; the means and scales are stored in the model (logistic).")
        var standardize = false

        @Flag(help: "Fit without an intercept (logistic).")
        var noIntercept = false

        @Option(help: ArgumentHelp("Start from this model's weights (logistic; same columns).", valueName: "model.json"))
        var warmStart: String?

        @Option(help: ArgumentHelp("Treat this column as category codes 0, 1, 2, … (naive Bayes; repeatable).", valueName: "column"))
        var categorical: [String] = []

        @Option(help: "Share of the largest variance added to every Gaussian variance (naive Bayes).")
        var varSmoothing = 1e-9

        @Option(help: "Laplace smoothing of Bernoulli and categorical columns (naive Bayes).")
        var alpha = 1.0

        @Option(
            help: ArgumentHelp(
                "Hold out the last share of rows for evaluation (default \(TrainingPipeline.defaultHoldoutFraction): the last 20% of the rows are not trained on; 0 trains on every row, as another library's fit does).",
                valueName: "fraction"))
        var holdoutFraction: Double?

        @Option(help: ArgumentHelp("Hold out the rows at or after this time (RFC 3339 or YYYY-MM-DD).", valueName: "date"))
        var holdoutAfter: String?

        @Option(help: "none, platt or isotonic; fitted on held-out rows only.")
        var calibration: Calibration.Method = .none

        @Option(help: ArgumentHelp("Report precision and recall at this probability (repeatable).", valueName: "p"))
        var threshold: [Double] = [0.5]

        @Option(help: ArgumentHelp("Report precision among the k highest scores (repeatable).", valueName: "k"))
        var topK: [Int] = [100]

        @Option(help: ArgumentHelp("Where to write the model (required unless training from the store).", valueName: "model.json"))
        var out: String?

        @OptionGroup var output: OutputOptions
        @OptionGroup var trust: TrustOptions

        func validate() throws {
            if from != nil || to != nil {
                guard let from, let to else { throw ValidationError("--from and --to go together") }
                guard data == nil else { throw ValidationError("give either --data (a file) or --from/--to (the store)") }
                guard spec != nil else { throw ValidationError("training from the store needs --spec") }
                guard label == nil, labels == nil, labelHistory == nil, !records, holdoutFraction == nil, holdoutAfter == nil else {
                    throw ValidationError(
                        "--label, --labels, --label-history, --records and --holdout-fraction/--holdout-after apply to files")
                }
                guard let start = Self.parseInstant(from), let end = Self.parseInstant(to), start < end else {
                    throw ValidationError("--from and --to must be RFC 3339 or YYYY-MM-DD dates with --from before --to")
                }
                guard holdoutDays > 0, historyDays >= 0, end.adding(days: -holdoutDays) > start else {
                    throw ValidationError("--holdout-days must be positive and shorter than the window; --history-days not negative")
                }
                if algorithm == .naiveBayes, warmStart != nil { throw ValidationError("--warm-start applies to logistic regression") }
                return
            }
            guard data != nil else { throw ValidationError("--data names the training file (or train from the store with --from/--to)") }
            guard out != nil else { throw ValidationError("--out names the model file to write") }
            if promote { throw ValidationError("--promote applies to training from the store (--from/--to)") }
            if spec == nil {
                guard label != nil else { throw ValidationError("--label names the label column") }
                if labels != nil || labelHistory != nil || records {
                    throw ValidationError("--labels, --label-history and --records need --spec (event data)")
                }
            } else if (label == nil) == (labels == nil) {
                throw ValidationError("with --spec, give either --label FIELD or --labels FILE")
            }
            if holdoutFraction != nil, holdoutAfter != nil {
                throw ValidationError("--holdout-fraction and --holdout-after exclude each other")
            }
            if let holdoutAfter, Self.parseInstant(holdoutAfter) == nil {
                throw ValidationError("--holdout-after: '\(holdoutAfter)' is not RFC 3339 or YYYY-MM-DD")
            }
            if holdoutAfter != nil, timeColumn == nil, spec == nil { throw ValidationError("--holdout-after needs --time-column") }
            if let holdoutFraction, !(0..<1).contains(holdoutFraction) {
                throw ValidationError("--holdout-fraction must be at least 0 and below 1")
            }
            if algorithm == .naiveBayes, warmStart != nil { throw ValidationError("--warm-start applies to logistic regression") }
            guard threshold.allSatisfy({ (0...1).contains($0) }) else { throw ValidationError("--threshold must be between 0 and 1") }
            guard topK.allSatisfy({ $0 >= 1 }) else { throw ValidationError("--top-k must be at least 1") }
            try CLIError.mapping { try pipeline(warmStart: nil).logisticRegression.validate() }
        }

        func run() async throws {
            let warm = try warmStart.map { path in try CLIError.mapping { try ModelFile.read(path, allowUnsigned: trust.allowUnsigned) } }
            var pipeline = pipeline(warmStart: warm)
            let table: LabelledTable
            var database: Store? = nil
            if let from = from.flatMap(Self.parseInstant), let to = to.flatMap(Self.parseInstant), let spec {
                let extractor = try CLIError.mapping { try SpecFile.read(spec, fitted: false) }
                let opened = try await store.open()
                database = opened
                pipeline.holdout = .after(to.adding(days: -holdoutDays))
                table = try await CLIError.mapping {
                    try await SpecTable.fromStore(
                        opened, spec: extractor.spec, from: from, to: to, historyDays: historyDays, pipeline: pipeline)
                }
            } else if let data, let spec {
                // Learnt parts (statistics, quantile bins) are fitted on the training rows.
                let extractor = try CLIError.mapping { try SpecFile.read(spec, fitted: false) }
                let source: SpecTable.LabelSource = label.map { .field($0) } ?? .file(labels!)
                let mode: RecordFile.Mode = records || data.lowercased().hasSuffix(".csv") ? .records : .events
                table = try CLIError.mapping {
                    try SpecTable.read(data, spec: extractor.spec, mode: mode, labels: source, history: labelHistory, pipeline: pipeline)
                        .table
                }
            } else {
                let data = data ?? ""

                let roles = LabelledTable.Roles(label: label, weight: weight, time: timeColumn, ignored: Set(ignore))
                table = try CLIError.mapping { try LabelledTable.read(data, roles: roles) }
            }
            let now = Timestamp(millisecondsSinceEpoch: Int64(Date().timeIntervalSince1970 * 1000))
            let artifact = try CLIError.mapping { try pipeline.train(table, now: now) }
            if let out { try CLIError.mapping { try ModelFile.write(artifact, to: out) } }
            if let database {
                let user = RiskLoop.Keys.actor
                try await CLIError.mapping {
                    try await Registry(store: database).register(
                        artifact, status: promote ? .champion : .candidate, actor: user,
                        reason: promote ? "trained from the store and promoted with train --promote" : "trained from the store")
                }
            }
            if artifact.training.converged == false {
                FileHandle.standardError.write(
                    Data(
                        """
                        riskloop: WARNING: logistic regression did NOT converge: \(artifact.training.stopReason ?? "").
                        riskloop: WARNING: the model was written, and records converged=false; raise --max-iter or loosen --tol.\n
                        """.utf8))
            }
            if output.json {
                try output.printJSON(TrainSummary(artifact: artifact, path: out))
            } else {
                print(Self.render(artifact, path: out))
                if let database {
                    print("Registered \(artifact.id) in \(database.location) as \(promote ? "champion" : "candidate")")
                }
            }
        }

        func pipeline(warmStart: ModelArtifact?) -> TrainingPipeline {
            var pipeline = TrainingPipeline(algorithm: algorithm == .logistic ? .logisticRegression : .naiveBayes)
            pipeline.logisticRegression = .init(
                c: c, l1Ratio: l1Ratio, classWeight: classWeight, fitIntercept: !noIntercept, standardize: standardize, tolerance: tol,
                maxIterations: maxIter)
            pipeline.naiveBayes = .init(varSmoothing: varSmoothing, alpha: alpha)
            pipeline.categoricalColumns = Set(categorical)
            pipeline.calibration = calibration
            if let holdoutAfter, let instant = Self.parseInstant(holdoutAfter) {
                pipeline.holdout = .after(instant)
            } else {
                pipeline.holdout = .fraction(holdoutFraction ?? TrainingPipeline.defaultHoldoutFraction)
            }
            pipeline.warmStart = warmStart
            pipeline.thresholds = threshold
            pipeline.topK = topK
            return pipeline
        }

        static func parseInstant(_ text: String) -> Timestamp? {
            Timestamp(rfc3339: text) ?? Timestamp(rfc3339: text + "T00:00:00Z")
        }

        static func render(_ artifact: ModelArtifact, path: String?) -> String {
            let training = artifact.training
            var lines = [
                "Trained \(artifact.algorithm.rawValue) \(artifact.id) on \(training.rows.grouped) rows (\(String(format: "%.0f", training.positives)) fraud) of \(training.source) in \(String(format: "%.2f", training.durationSeconds)) s"
            ]
            if let iterations = training.iterations, let converged = training.converged {
                lines.append(
                    "  L-BFGS: \(iterations) iterations, \(converged ? "converged" : "NOT converged"), max |gradient| \(training.finalGradientMax ?? .nan)"
                )
            }
            if let metrics = artifact.metrics.holdout {
                lines.append("  holdout (\(artifact.hyperparameters.holdout)):")
                lines.append(metrics.rendered(indent: "    "))
            } else {
                lines.append("  no holdout: no metrics")
            }
            if let path { lines.append("Wrote \(path) (sha256 \(artifact.sha256 ?? ""))") }
            return lines.joined(separator: "\n")
        }
    }
}

/// What `train --json` prints.
struct TrainSummary: Encodable {
    var id: String
    var path: String?
    var algorithm: String
    var sha256: String?
    var training: ModelArtifact.TrainingLineage
    var metrics: ModelArtifact.ModelMetrics

    init(artifact: ModelArtifact, path: String?) {
        id = artifact.id
        self.path = path
        algorithm = artifact.algorithm.rawValue
        sha256 = artifact.sha256
        training = artifact.training
        metrics = artifact.metrics
    }
}

extension LogisticRegression.ClassWeight: ExpressibleByArgument {}
extension Calibration.Method: ExpressibleByArgument {}

extension BinaryMetrics {
    /// The metrics as an aligned text table.
    func rendered(indent: String = "") -> String {
        func number(_ value: Double?) -> String { value.map { String(format: "%.6f", $0) } ?? "n/a" }
        var lines = [
            "rows \(rows.grouped), fraud weight \(String(format: "%.1f", positiveWeight)) of \(String(format: "%.1f", totalWeight))",
            "ROC AUC \(number(rocAUC))   average precision \(number(averagePrecision))   KS \(number(ks))",
            "log loss \(number(logLoss))   Brier \(number(brier))",
        ]
        for point in atThresholds {
            lines.append("at p ≥ \(point.threshold): precision \(number(point.precision)), recall \(number(point.recall))")
        }
        for point in precisionAtK { lines.append("precision@\(point.k): \(number(point.precision))") }
        if !calibration.isEmpty {
            lines.append("calibration: bin         rows   mean predicted   fraud share")
            for bin in calibration {
                lines.append(
                    String(
                        format: "             %.1f–%.1f %8d %16.4f %13.4f", bin.lower, bin.upper, bin.rows, bin.meanPredicted,
                        bin.fraudShare))
            }
        }
        lines += notes.map { "note: \($0)" }
        return lines.map { indent + $0 }.joined(separator: "\n")
    }
}
