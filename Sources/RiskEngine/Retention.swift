import Foundation
import RiskContract
import RiskFeatures
import RiskModels
import RiskScoring
import RiskStore

/// Data retention: the events older than ``keepDays`` go, with their decisions and label
/// versions (`riskloop prune`, and every hour in `riskloop serve --retention-days`).
///
/// Never removed: the registry, the audit log, API keys, policies and cycles; and the events of
/// the training window a registered model's lineage names, unless that model is retired (its
/// lineage then stays in the registry, its rows go). A period shorter than a live model's (the
/// champion's or the shadow's) longest feature window plus its label delay is refused: the
/// features of the next event would lose history they read.
public struct Retention: Sendable {
    /// Days kept by default: 400, a year and a month, so a year-on-year comparison and a
    /// chargeback's usual 120-day horizon both fit.
    public static let defaultKeepDays = 400.0

    public let store: any Store
    public var keepDays: Double
    /// Events removed per transaction.
    public var batchSize: Int

    public init(store: any Store, keepDays: Double = Retention.defaultKeepDays, batchSize: Int = 10_000) {
        self.store = store
        self.keepDays = keepDays
        self.batchSize = batchSize
    }

    /// The longest period accepted: a hundred years (a cutoff further back is the same as none).
    public static let maximumKeepDays = 36_525.0

    /// Refuses a period that is not a number of days from above 0 to ``maximumKeepDays``, or that
    /// is shorter than what the live champion or shadow reads (its longest feature window plus
    /// label delay), naming the feature. Reads the registry only: what `serve --retention-days`
    /// checks at start.
    ///
    /// - Throws: ``EngineError/invalidOptions(option:reason:)``.
    public func check() async throws(EngineError) {
        guard keepDays > 0, keepDays <= Self.maximumKeepDays else {
            throw .invalidOptions(
                option: "keep days", reason: "must be a number of days above 0 and at most \(Int(Self.maximumKeepDays)) (got \(keepDays))")
        }
        let state = try await storeCall { () async throws(StoreError) in try await store.registryState() }
        for id in [state.champion, state.shadow].compactMap({ $0 }) {
            let model = try await store.verifiedModel(id)
            if let (feature, days) = Self.longestReach(model.extractor.spec), days > keepDays {
                throw .invalidOptions(
                    option: "keep days",
                    reason:
                        "\(Self.days(keepDays)) days is shorter than what the live model \(id) reads: its feature '\(feature)' looks back "
                        + "\(Self.days(days)) days (window plus label delay); keep at least that")
            }
        }
    }

    /// Removes (or with `dryRun` counts) what is older than ``keepDays`` before `asOf`, once
    /// ``check()`` accepts the period.
    ///
    /// - Throws: ``EngineError/invalidOptions(option:reason:)`` from ``check()``.
    public func run(asOf: Timestamp, dryRun: Bool, actor: String) async throws(EngineError) -> PruneReport {
        try await check()
        let cutoff = asOf.adding(days: -keepDays)
        let kept = try await keptWindows()
        return try await storeCall { () async throws(StoreError) in
            try await store.prune(before: cutoff, keeping: kept, batchSize: batchSize, dryRun: dryRun, actor: actor)
        }
    }

    /// The training windows of every registered model that is not retired.
    func keptWindows() async throws(EngineError) -> [PruneReport.KeptWindow] {
        var kept: [PruneReport.KeptWindow] = []
        for model in try await storeCall({ () async throws(StoreError) in try await store.models() }) where model.status != "retired" {
            let json = try await storeCall { () async throws(StoreError) in try await store.artifactJSON(of: model.id) }
            guard let artifact = try? JSONDecoder().decode(ModelArtifact.self, from: json),
                let from = artifact.training.windowStart, let to = artifact.training.windowEnd
            else { continue }
            kept.append(.init(from: from, to: to, reason: "training window of \(model.id) (\(model.status))"))
        }
        return kept
    }

    /// The feature that looks furthest back (window plus label delay), and how far in days.
    static func longestReach(_ spec: FeatureSpec) -> (feature: String, days: Double)? {
        spec.features.compactMap { feature -> (String, Double)? in
            guard let window = feature.windowHours else { return nil }
            return (feature.name, (window + (feature.labelDelayHours ?? 0)) / 24)
        }.max { $0.1 < $1.1 }
    }

    private static func days(_ value: Double) -> String {
        value.rounded() == value ? String(Int(value)) : String(format: "%.2f", value)
    }
}
