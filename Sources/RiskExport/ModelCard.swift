import Foundation
import RiskContract
import RiskEngine
import RiskFeatures
import RiskModels
import RiskScoring
import RiskStore

/// A model card: one self-contained HTML file (inline SVG, no scripts, no network) that tells a
/// model-risk reviewer what the model is for, what it was trained on, how well it did on its
/// holdout, what drives it, where the decision thresholds put it, how far traffic has drifted
/// since, and what it cannot do.
public struct ModelCard: Sendable {
    /// What the card shows beyond the artifact itself.
    public struct Context: Sendable {
        /// The decision policy whose thresholds get a confusion matrix each.
        public var policy: DecisionPolicy?
        /// Drift of recent traffic against the training rows, and the period it covers in words.
        public var drift: (report: DriftReport, period: String)?
        /// The labels of the training window by source.
        public var labelSources: [LabelSourceCount]
        /// The model's status in the registry, when exported from a store.
        public var status: String?

        public init(
            policy: DecisionPolicy? = nil, drift: (report: DriftReport, period: String)? = nil, labelSources: [LabelSourceCount] = [],
            status: String? = nil
        ) {
            self.policy = policy
            self.drift = drift
            self.labelSources = labelSources
            self.status = status
        }
    }

    /// How many columns the weights table lists on each side (raising and lowering risk).
    public static let topColumns = 12
    /// How many score-distribution bins over [0, 1] (each 0.05 wide, on the operating grid).
    public static let histogramBins = 20

    let export: ModelExport
    let context: Context

    public init(export: ModelExport, context: Context) {
        self.export = export
        self.context = context
    }

    var artifact: ModelArtifact { export.artifact }

    public func html() -> String {
        let title = "Model card: \(artifact.id)"
        return """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><title>\(HTML.escape(title))</title>
            \(HTML.style)</head><body>
            <h1>\(HTML.escape(title))</h1>
            \(purpose())
            \(lineage())
            \(metrics())
            \(drivers())
            \(thresholds())
            \(drift())
            \(limits())
            </body></html>

            """
    }

    // MARK: Sections

    func purpose() -> String {
        let specDescription: String = if case .string(let text)? = artifact.featureSpec[path: "description"] { text } else { "" }
        let algorithm = artifact.algorithm == .logisticRegression ? "logistic regression" : "naive Bayes"
        var rows: [(String, String)] = [
            ("model id", artifact.id), ("algorithm", algorithm), ("created", artifact.createdAt.rfc3339),
            ("feature spec", Self.specName(artifact.featureSpec) + " — sha256 " + artifact.featureSpecSHA256),
            ("columns", "\(artifact.columns.count)"), ("artifact sha256", artifact.sha256 ?? ""),
            ("parent model", artifact.parentId ?? "none"),
        ]
        if let status = context.status { rows.insert(("registry status", status), at: 1) }
        rows.append(("calibration", Self.calibrationName(artifact.calibration)))
        rows.append(("hyperparameters", Self.json(artifact.hyperparameters)))
        return """
            <h2>Purpose</h2>
            <p>Estimates the probability that a banking event (payment, login, new payee, OTP request, profile change) is fraud,
            from the bank's context and the mobile operator's signals (SIM swap, call forwarding, roaming, reachability, SS7
            signalling), so that the decision policy can allow it, ask for a non-SMS second factor, send it to review or block it.
            \(HTML.escape(specDescription))</p>
            \(Self.table(rows))
            """
    }

    func lineage() -> String {
        let training = artifact.training
        var rows: [(String, String)] = [("source", training.source)]
        if let hash = training.sourceSHA256 { rows.append(("source sha256", hash)) }
        if let start = training.windowStart, let end = training.windowEnd { rows.append(("window", "\(start.rfc3339) to \(end.rfc3339)")) }
        if let known = training.labelsKnownAt { rows.append(("labels known at", known.rfc3339 + " (no label reported later was used)")) }
        rows += [
            ("training rows", "\(training.rows)"),
            (
                "fraud rows (by weight)",
                "\(Self.number(training.positives)) (\(Self.percent(training.positives / max(training.totalWeight, 1))))"
            ),
            ("training data sha256", training.dataSHA256),
            ("holdout", "\(artifact.hyperparameters.holdout); \(training.holdoutRows) rows"),
            ("calibration rows", "\(training.calibrationRows)"),
        ]
        if let iterations = training.iterations {
            rows.append(
                (
                    "fit",
                    "\(iterations) iterations, converged: \(training.converged.map { $0 ? "yes" : "no" } ?? "n/a"), final max |gradient| "
                        + (training.finalGradientMax.map { String(format: "%.3g", $0) } ?? "n/a")
                        + (training.stopReason.map { " (\($0))" } ?? "")
                ))
        }
        rows.append(("training time", String(format: "%.2f s", training.durationSeconds)))
        var html = "<h2>Training data and lineage</h2>\n" + Self.table(rows)
        if !context.labelSources.isEmpty {
            html +=
                "<h3>Labels of the training window by source</h3>\n<table><tr><th>source</th><th>events</th><th>fraud</th><th>fraud rate</th></tr>"
            for source in context.labelSources {
                html +=
                    "<tr><td>\(HTML.escape(source.source))</td><td class=\"n\">\(source.events)</td><td class=\"n\">\(source.fraud)</td>"
                html += "<td class=\"n\">\(Self.percent(Double(source.fraud) / Double(max(source.events, 1))))</td></tr>"
            }
            html += "</table>"
        }
        return html
    }

    func metrics() -> String {
        guard let holdout = artifact.metrics.holdout else {
            return "<h2>Holdout metrics</h2><p>This model was trained without a holdout: it has no out-of-sample metrics.</p>"
        }
        var html = "<h2>Holdout metrics</h2>\n<p>On \(holdout.rows) held-out rows (\(Self.number(holdout.positiveWeight)) fraud by weight),"
        html +=
            " scored after calibration\(artifact.metrics.holdoutUncalibrated != nil ? "; before calibration in the second column" : "").</p>"
        let uncalibrated = artifact.metrics.holdoutUncalibrated
        func row(_ name: String, _ value: (BinaryMetrics) -> Double?) -> String {
            "<tr><td>\(name)</td><td class=\"n\">\(Self.metric(value(holdout)))</td>"
                + (uncalibrated.map { "<td class=\"n\">\(Self.metric(value($0)))</td>" } ?? "") + "</tr>"
        }
        html += "<table><tr><th>metric</th><th>value</th>\(uncalibrated != nil ? "<th>uncalibrated</th>" : "")</tr>"
        html += row("ROC AUC", \.rocAUC) + row("average precision", \.averagePrecision) + row("log loss", \.logLoss)
        html += row("Brier score", \.brier) + row("KS", \.ks)
        for atK in holdout.precisionAtK { html += row("precision at top \(atK.k)") { $0.precisionAtK.first { $0.k == atK.k }?.precision } }
        for at in holdout.atThresholds {
            html += row("precision at p ≥ \(at.threshold)") { $0.atThresholds.first { $0.threshold == at.threshold }?.precision }
            html += row("recall at p ≥ \(at.threshold)") { $0.atThresholds.first { $0.threshold == at.threshold }?.recall }
        }
        html += "</table>"
        for note in holdout.notes { html += "<p class=\"muted\">\(HTML.escape(note))</p>" }

        if let points = holdout.operatingPoints, !points.isEmpty {
            // Thresholds descend, so the curves run from (0, 0) upwards.
            var roc = SVGChart(
                title: "ROC curve (AUC \(Self.metric(holdout.rocAUC)))", x: .init(label: "false positive rate"),
                y: .init(label: "true positive rate"), width: 470, height: 300)
            roc.series = [
                .init(
                    name: "model", color: "#1b6ac9",
                    points: [(0, 0)] + points.compactMap { p in p.falsePositiveRate.map { ($0, p.recall) } }),
                .init(name: "chance", color: "#999", points: [(0, 0), (1, 1)], style: .dashed),
            ]
            var precisionRecall = SVGChart(
                title: "Precision–recall (AP \(Self.metric(holdout.averagePrecision)))", x: .init(label: "recall"),
                y: .init(label: "precision"), width: 470, height: 300)
            let fraudShare = holdout.totalWeight > 0 ? holdout.positiveWeight / holdout.totalWeight : 0
            precisionRecall.series = [
                .init(name: "model", color: "#1b6ac9", points: points.compactMap { p in p.recall.map { ($0, p.precision) } }),
                .init(name: "fraud share", color: "#999", points: [(0, fraudShare), (1, fraudShare)], style: .dashed),
            ]
            html += roc.svg() + precisionRecall.svg()
        }
        var calibration = SVGChart(
            title: "Calibration: fraud share against mean predicted probability, per bin", x: .init(label: "mean predicted probability"),
            y: .init(label: "fraud share"), width: 470, height: 300)
        calibration.series = [
            .init(
                name: "model", color: "#1b6ac9", points: holdout.calibration.map { ($0.meanPredicted, $0.fraudShare) },
                style: .lineWithPoints),
            .init(name: "perfect", color: "#999", points: [(0, 0), (1, 1)], style: .dashed),
        ]
        html += calibration.svg()
        html += Self.table(
            holdout.calibration.map {
                (
                    "(\(Self.metric($0.lower)), \(Self.metric($0.upper))]",
                    "\($0.rows) rows: mean predicted \(Self.metric($0.meanPredicted)), fraud share \(Self.metric($0.fraudShare))"
                )
            }, header: ("probability bin", "holdout"))
        if let histogram = histogram(holdout) { html += histogram }
        return html
    }

    /// The share of each class per score bin, from the operating points on the grid.
    func histogram(_ holdout: BinaryMetrics) -> String? {
        guard let points = holdout.operatingPoints else { return nil }
        let bins = Self.histogramBins, width = 1 / Double(bins)
        func at(_ threshold: Double) -> OperatingPoint? { points.first { $0.threshold == threshold } }
        var fraud: [(x: Double, y: Double?)] = [], genuine: [(x: Double, y: Double?)] = []
        let positives = holdout.positiveWeight, negatives = holdout.totalWeight - holdout.positiveWeight
        for bin in 0..<bins {
            // Rows with lower ≤ score < upper; the last bin includes 1.
            guard let low = at(Double(bin) / Double(bins)) else { return nil }
            let high = bin == bins - 1 ? nil : at(Double(bin + 1) / Double(bins))
            if bin < bins - 1, high == nil { return nil }
            let fraudIn = low.truePositives - (high?.truePositives ?? 0), genuineIn = low.falsePositives - (high?.falsePositives ?? 0)
            let centre = (Double(bin) + 0.5) * width
            fraud.append((centre + width / 4, positives > 0 ? fraudIn / positives : nil))
            genuine.append((centre - width / 4, negatives > 0 ? genuineIn / negatives : nil))
        }
        var chart = SVGChart(
            title: "Score distribution on the holdout: share of each class per bin of width \(width)",
            x: .init(label: "P(fraud)"), y: .init(label: "share of the class"), width: 900, height: 280)
        chart.series = [
            .init(name: "genuine", color: "#2e8b57", points: genuine, style: .bars(width: width / 2)),
            .init(name: "fraud", color: "#c0392b", points: fraud, style: .bars(width: width / 2)),
        ]
        return chart.svg()
    }

    func drivers() -> String {
        var html = "<h2>What drives the score</h2>\n"
        if let logistic = artifact.logisticRegression {
            let (weights, _) = logistic.originalScale()
            html += "<p>Weights in log-odds per unit of the column as extracted (indicators are 0 or 1), largest first. "
            html += "A weight of 0.69 doubles the odds of fraud when the indicator is on.</p>"
            html += weightTable(
                "Raising the risk", weights.indices.filter { weights[$0] > 0 }.sorted { weights[$0] > weights[$1] }, weights)
            html += weightTable(
                "Lowering the risk", weights.indices.filter { weights[$0] < 0 }.sorted { weights[$0] < weights[$1] }, weights)
        } else if let naiveBayes = artifact.naiveBayes {
            // For an indicator: log P(x = 1 | fraud) − log P(x = 1 | genuine), the score's change when it is on.
            let ratios = naiveBayes.kinds.indices.map { j -> Double? in
                guard naiveBayes.kinds[j] == .bernoulli || naiveBayes.kinds[j] == .level else { return nil }
                return log(naiveBayes.probabilityOfOne(class: 1, column: j)) - log(naiveBayes.probabilityOfOne(class: 0, column: j))
            }
            let ranked = ratios.indices.compactMap { j in ratios[j].map { (j, $0) } }
            let values = ratios.map { $0 ?? 0 }
            html += "<p>For each indicator column, the log-likelihood ratio log P(on | fraud) − log P(on | genuine): what it adds "
            html += "to the log-odds of fraud when it is on.</p>"
            html += weightTable("Raising the risk", ranked.filter { $0.1 > 0 }.sorted { $0.1 > $1.1 }.map(\.0), values)
            html += weightTable("Lowering the risk", ranked.filter { $0.1 < 0 }.sorted { $0.1 < $1.1 }.map(\.0), values)
            let gaussian = naiveBayes.kinds.indices.filter { naiveBayes.kinds[$0] == .gaussian }
            if !gaussian.isEmpty {
                html +=
                    "<h3>Numeric columns (Gaussian): mean per class</h3><table><tr><th>column</th><th>meaning</th><th>genuine</th><th>fraud</th></tr>"
                for j in gaussian {
                    html +=
                        "<tr><td><code>\(HTML.escape(export.columns[j].name))</code></td><td>\(HTML.escape(export.columns[j].meaning))</td>"
                    html +=
                        "<td class=\"n\">\(Self.metric(naiveBayes.means[0][j]))</td><td class=\"n\">\(Self.metric(naiveBayes.means[1][j]))</td></tr>"
                }
                html += "</table>"
            }
        }
        return html
    }

    func weightTable(_ title: String, _ order: [Int], _ values: [Double]) -> String {
        guard !order.isEmpty else { return "" }
        var html = "<h3>\(title)</h3><table><tr><th>column</th><th>meaning</th><th>weight</th></tr>"
        for j in order.prefix(Self.topColumns) {
            html += "<tr><td><code>\(HTML.escape(export.columns[j].name))</code></td><td>\(HTML.escape(export.columns[j].meaning))</td>"
            html += "<td class=\"n\">\(String(format: "%+.3f", values[j]))</td></tr>"
        }
        return html + "</table>"
    }

    func thresholds() -> String {
        var html = "<h2>Decision thresholds on the holdout</h2>\n"
        var named: [(String, Double)] = []
        if let policy = context.policy {
            html += "<p>Policy <code>\(HTML.escape(policy.version))</code>: step-up from \(policy.thresholds.stepUp), review from "
            html += "\(policy.thresholds.review), block from \(policy.thresholds.block), before the policy's \(policy.rules.count) rules "
            html += "(which can raise or lower a decision). Counts are weighted rows of the holdout flagged at that threshold or above.</p>"
            named = [("step_up", policy.thresholds.stepUp), ("review", policy.thresholds.review), ("block", policy.thresholds.block)]
        } else {
            html += "<p>No decision policy was given; the thresholds the model was evaluated at are shown.</p>"
        }
        guard let holdout = artifact.metrics.holdout, let points = holdout.operatingPoints else {
            return html + "<p>No holdout confusion counts in this artifact (trained without a holdout, or before they were recorded).</p>"
        }
        if context.policy == nil { named = holdout.atThresholds.map { ("p ≥ \($0.threshold)", $0.threshold) } }
        html += "<table><tr><th>decision</th><th>threshold</th><th>fraud flagged (TP)</th><th>fraud missed (FN)</th>"
        html += "<th>genuine flagged (FP)</th><th>genuine passed (TN)</th><th>precision</th><th>recall</th></tr>"
        var approximate = false
        for (name, threshold) in named {
            // The highest recorded threshold at or below this one flags at least as many rows.
            guard let point = points.first(where: { $0.threshold <= threshold }) else { continue }
            let exact = point.threshold == threshold
            approximate = approximate || !exact
            html += "<tr><td>\(HTML.escape(name))</td><td class=\"n\">\(threshold)\(exact ? "" : " (≈ \(point.threshold))")</td>"
            html += "<td class=\"n\">\(Self.number(point.truePositives))</td><td class=\"n\">\(Self.number(point.falseNegatives))</td>"
            html += "<td class=\"n\">\(Self.number(point.falsePositives))</td><td class=\"n\">\(Self.number(point.trueNegatives))</td>"
            html += "<td class=\"n\">\(Self.metric(point.precision))</td><td class=\"n\">\(Self.metric(point.recall))</td></tr>"
        }
        html += "</table>"
        if approximate {
            html += "<p class=\"muted\">≈: the artifact records the confusion counts at k / \(Metrics.operatingGridDivisions) and at "
            html +=
                "\(Metrics.operatingCurvePoints) points of the score curve; a threshold off those points is read at the nearest recorded "
            html += "threshold below it (which flags at least as many rows).</p>"
        }
        return html
    }

    func drift() -> String {
        var html = "<h2>Drift since training</h2>\n"
        guard let (report, period) = context.drift else {
            if artifact.drift == nil { return html + "<p>This artifact has no drift reference (trained before it was recorded).</p>" }
            return html + "<p>Not measured for this card: export it from the store (<code>--db</code>) holding recent events.</p>"
        }
        html += "<p>Population stability index (PSI) of \(report.rows) events of \(HTML.escape(period)) against the training rows. "
        html += "Below 0.1: stable; 0.1–0.25: moderate shift; above 0.25: retrain.</p>"
        var rows: [(String, String)] = [("score", String(format: "%.4f", report.score))]
        rows += report.columns.prefix(10).map { ("<code>\(HTML.escape($0.name))</code>", String(format: "%.4f", $0.psi)) }
        return html + Self.table(rows, header: ("variable", "PSI"), escaping: false)
    }

    func limits() -> String {
        var items = [
            "Labels arrive late (chargebacks take weeks): the most recent fraud is under-represented in training, and the holdout "
                + "counts only what was known at the label cutoff.",
            "A missing operator signal is encoded as unknown, never as safe; an operator that stops sending a signal shifts the "
                + "unknown columns and shows as drift, not as lower risk.",
            "Fraudsters adapt: the holdout metrics describe the holdout period only. Watch the drift section and the retraining cycles.",
            "The probability is of fraud among events like the training events; a new channel, product or population needs new labels.",
        ]
        if artifact.algorithm == .naiveBayes {
            items.append(
                "Naive Bayes treats columns as independent given the class; crosses of signals double-count evidence, "
                    + "so its probabilities are overconfident unless calibrated.")
        }
        if artifact.calibration == nil {
            items.append("Not calibrated: read the probability as a ranking score; see the calibration plot.")
        }
        if artifact.training.source.contains("simulat") || artifact.training.source.contains("sample") {
            items.append("Trained on simulated data: the numbers show the engine working, not the fraud of a real bank.")
        }
        items.append(
            "PMML and ONNX exports carry the model over the expanded columns; the feature extraction (including entity history) "
                + "stays in RiskLoop. ONNX computes in float32.")
        return "<h2>Known limits</h2>\n<ul>" + items.map { "<li>\(HTML.escape($0))</li>" }.joined() + "</ul>"
    }

    // MARK: Formatting

    static func table(_ rows: [(String, String)], header: (String, String)? = nil, escaping: Bool = true) -> String {
        var html = "<table>"
        if let header { html += "<tr><th>\(HTML.escape(header.0))</th><th>\(HTML.escape(header.1))</th></tr>" }
        for (name, value) in rows {
            html += "<tr><td>\(escaping ? HTML.escape(name) : name)</td><td>\(HTML.escape(value))</td></tr>"
        }
        return html + "</table>"
    }

    static func metric(_ value: Double?) -> String { value.map { String(format: "%.4f", $0) } ?? "n/a" }

    static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(format: "%.2f", value)
    }

    static func percent(_ value: Double) -> String { String(format: "%.2f %%", value * 100) }

    static func specName(_ spec: JSONValue) -> String {
        let name: String = if case .string(let text)? = spec[path: "name"] { text } else { "table columns" }
        let version: String = if case .number(let number)? = spec[path: "version"] { " v\(Int(number))" } else { "" }
        return name + version
    }

    static func calibrationName(_ calibration: Calibration?) -> String {
        switch calibration {
        case nil: "none"
        case .platt(let a, let b)?: "Platt: p = 1 / (1 + exp(\(a)·f + \(b))) on the raw score f"
        case .isotonic(let x, _)?: "isotonic, \(x.count) points"
        }
    }

    static func json(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? ""
    }
}

extension ModelCard.Context {
    /// What the store knows about `artifact`: its registry status, the labels of its training
    /// window by source (as known at its label cutoff), and the drift of the `driftDays` of events
    /// before `asOf` (default: the latest stored event).
    public static func fromStore(
        _ store: Store, artifact: ModelArtifact, policy: DecisionPolicy?, driftDays: Double = 7, asOf: Timestamp? = nil
    ) async throws(EngineError) -> Self {
        var context = Self(policy: policy)
        context.status = try await storeCall { () async throws(StoreError) in
            try await store.models().first { $0.id == artifact.id }?.status
        }
        let training = artifact.training
        if let start = training.windowStart, let windowEnd = training.windowEnd {
            context.labelSources = try await storeCall { () async throws(StoreError) in
                try await store.labelSourceCounts(from: start, to: windowEnd, knownAt: training.labelsKnownAt ?? windowEnd)
            }
        }
        let latest = try await storeCall { () async throws(StoreError) in try await store.latestEventTime() }
        guard let end = asOf ?? latest else { return context }
        var retrain = RetrainPolicy()
        retrain.driftDays = driftDays
        if let report = try await FeedbackLoop(store: store, policy: retrain, actor: "export").drift(of: artifact, asOf: end) {
            context.drift = (report, "the \(ModelExport.short(driftDays)) days before \(end.rfc3339)")
        }
        return context
    }
}
