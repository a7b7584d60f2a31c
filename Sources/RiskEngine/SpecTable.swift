import Foundation
import RiskContract
import RiskFeatures
import RiskModels

/// Events (or records) turned into a labelled table by a feature spec: the path from event
/// files to the trainers, and from event files to a model's scores.
public enum SpecTable {
    /// Where labels come from.
    public enum LabelSource: Sendable {
        /// A dotted path in each record (1/0, true/false, fraud/genuine).
        case field(String)
        /// A label file: each event's latest version in it.
        case file(String)
    }

    /// Reads `path`, extracts the spec's features (aggregates in file order, fraud rates from the
    /// label file's versions as they were known), and keeps the labelled rows.
    ///
    /// - Parameters:
    ///   - history: a label file that only feeds fraud-rate features (when scoring, or when the
    ///     labels to train on are fewer than those known).
    ///   - pipeline: when training, the pipeline whose training rows (not its holdout) fit the
    ///     spec's learnt parts (statistics, quantile bins); `nil` when scoring (the spec carries them).
    public static func read(
        _ path: String, spec: FeatureSpec, mode: RecordFile.Mode, labels: LabelSource?, history: String? = nil,
        pipeline: TrainingPipeline? = nil
    ) throws(EngineError) -> (table: LabelledTable, spec: FeatureSpec) {
        var events: [ParsedEvent] = []
        // Events keep their JSON trees only when a feature or the label field reads outside the contract.
        var readMode = mode
        if case .events = mode, (try? FeatureExtractor(unfittedSpec: spec))?.needsJSON == false {
            if case .field? = labels {} else { readMode = .typedEvents }
        }
        try RecordFile.forEachBatch(path, mode: readMode) { batch in events += batch }
        guard !events.isEmpty else { throw .badInput(file: path, line: nil, column: nil, reason: "the file has no records") }
        // The label file says which rows are trained on; a history file, when given, alone feeds
        // the fraud rates (so a training window can be labelled while every label feeds history).
        var outcomeVersions: [Label] = []
        if case .file(let labelPath)? = labels { outcomeVersions = try RecordFile.labels(labelPath) }
        let labelVersions = try history.map { path throws(EngineError) in try RecordFile.labels(path) } ?? outcomeVersions
        let outcome: [Double?]
        switch labels {
        case nil:
            outcome = Array(repeating: 0, count: events.count)
        case .file:
            outcome = latestOutcomes(of: events, labelVersions: outcomeVersions)
        case .field(let field):
            outcome = try events.enumerated().map { (index, event) throws(EngineError) in
                switch event.json?[path: field] {
                case .number(let number)? where number == 0 || number == 1: return number
                case .bool(let flag)?: return flag ? 1 : 0
                case .string("fraud")?: return 1
                case .string("genuine")?: return 0
                case nil, .null?: return nil
                case let other?:
                    throw .badInput(
                        file: path, line: nil, column: field,
                        reason: "record \(index + 1): label \(other) is not 1/0, true/false or fraud/genuine")
                }
            }
        }
        let data = FileManager.default.contents(atPath: path) ?? Data()
        var (table, fitted) = try build(
            events: events, outcome: outcome, labelVersions: labelVersions, spec: spec, pipeline: pipeline, source: path)
        table.fileSHA256 = ModelArtifact.sha256Hex(data)
        if labels == nil { table.labels = nil }
        return (table, fitted)
    }

    /// Each event's outcome by the latest of `labelVersions` (1 fraud, 0 genuine, `nil` unlabelled).
    public static func latestOutcomes(of events: [ParsedEvent], labelVersions: [Label]) -> [Double?] {
        outcomeValues(Label.latestOutcomes(of: events.map(\.id), versions: labelVersions))
    }

    /// Outcomes as training labels: 1 fraud, 0 genuine, `nil` unlabelled.
    public static func outcomeValues(_ outcomes: [Outcome?]) -> [Double?] {
        outcomes.map { $0.map { $0 == .fraud ? 1 : 0 } }
    }

    /// The labelled table of `events` (in time order): the spec's statistics fitted on the
    /// pipeline's training rows, every row's features as of its time (history from `warmup`
    /// then the events before it; fraud rates from `labelVersions` as they were reported), and
    /// the rows whose `outcome` is known.
    ///
    /// - Parameter source: where the events came from, for errors and the lineage.
    public static func build(
        events: [ParsedEvent], warmup: [ParsedEvent] = [], outcome: [Double?], labelVersions: [Label], spec: FeatureSpec,
        pipeline: TrainingPipeline?, source: String
    ) throws(EngineError) -> (table: LabelledTable, spec: FeatureSpec) {
        precondition(outcome.count == events.count, "one outcome per event")
        // The aggregates once: fitting and the rows read the same ones (learnt parts do not
        // change them).
        let history: [Double]
        do {
            history = try FeatureExtractor(unfittedSpec: spec).history(of: events, warmup: warmup, labels: labelVersions)
        } catch {
            throw .invalidOptions(option: "--spec", reason: error.description)
        }
        var fitted = spec
        do {
            if let pipeline {
                // Statistics come from the labelled training rows: the ones the model is fitted on.
                let labelled = events.indices.filter { outcome[$0] != nil }
                let training = labelled.indices.filter { pipeline.isTrainingRow($0, of: labelled.count, at: events[labelled[$0]].time) }
                fitted = try spec.fitted(events: events, history: history, rows: training.map { labelled[$0] })
            }
        } catch {
            throw .badInput(file: source, line: nil, column: error.field, reason: error.reason)
        }
        let extractor: FeatureExtractor
        do {
            extractor = try FeatureExtractor(spec: fitted)
        } catch {
            throw .invalidOptions(option: "--spec", reason: error.description)
        }
        let matrix = extractor.matrix(events, history: history)
        let kept = outcome.indices.filter { outcome[$0] != nil }
        guard !kept.isEmpty else { throw .badInput(file: source, line: nil, column: nil, reason: "no record has a label") }
        var population: Matrix? = nil
        if let pipeline {
            let before = events.indices.filter { pipeline.isTrainingRow($0, of: events.count, at: events[$0].time) }
            population = matrix.rows(DriftReference.sampleIndices(before.count).map { before[$0] })
        }
        let times = kept.map { events[$0].time }
        let table = LabelledTable(
            file: source, columns: extractor.columns, features: matrix.rows(kept),
            labels: kept.map { outcome[$0]! }, weights: nil, times: times.allSatisfy { $0 != nil } ? times.map { $0! } : nil,
            fileSHA256: nil, featureSpec: fitted.jsonValue, population: population)
        return (table, fitted)
    }

    /// The feature spec a model was trained with, when it was trained on events through one.
    public static func spec(of artifact: ModelArtifact) -> FeatureSpec? {
        spec(json: artifact.featureSpec)
    }

    /// The feature spec in `json` (a model's or a table's record of it), when it is one.
    public static func spec(json: JSONValue) -> FeatureSpec? {
        guard case .string(FeatureSpec.currentFormat)? = json[path: "format"], let data = try? JSONEncoder().encode(json) else {
            return nil
        }
        return try? FeatureSpec.decode(from: data)
    }
}
