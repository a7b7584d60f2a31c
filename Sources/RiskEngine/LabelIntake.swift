import RiskContract
import RiskFeatures
import RiskScoring
import RiskStore

/// Label versions coming in — from a file (`riskloop label`) or an API call (`POST /v1/labels`) —
/// stored first and only then told to the scorers that serve, so that a fraud-rate feature
/// never counts a label the store refused.
///
/// ```swift
/// let intake = LabelIntake(store: store) { labels in for label in labels { scorer.observe(label) } }
/// let report = try await intake.receive(labels, source: "POST /v1/labels")
/// ```
public struct LabelIntake: Sendable {
    public let store: any Store
    /// Called with the labels of each call once they are committed (nothing for a file ingest,
    /// which no scorer of this process serves).
    private let stored: @Sendable ([Label]) -> Void

    public init(store: any Store, stored: @escaping @Sendable ([Label]) -> Void = { _ in }) {
        self.store = store
        self.stored = stored
    }

    /// Stores `labels` in one transaction and tells the scorers. Every label must name a stored
    /// event: the first that does not fails the whole call with its position
    /// (``RiskStore/StoreError/badLine(file:line:field:message:accepted:)`` naming `event_id`).
    public func receive(_ labels: [Label], source: String) async throws(StoreError) -> IngestReport {
        let report = try await store.ingest(labels: labels, source: source)
        stored(labels)
        return report
    }

    /// Ingests a CSV or JSON-lines file of labels, one transaction per batch
    /// (``RiskStore/Store/ingestLabels(fromFile:batchSize:progress:)``).
    public func ingest(
        fromFile path: String, batchSize: Int = IngestReport.defaultBatchSize, progress: (@Sendable (IngestProgress) -> Void)? = nil
    ) async throws(StoreError) -> IngestReport {
        try await store.ingestLabels(fromFile: path, batchSize: batchSize, progress: progress)
    }
}
