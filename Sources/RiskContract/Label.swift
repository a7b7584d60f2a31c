/// An outcome reported for an event: the label of ARCHITECTURE.md §5.2.
///
/// Labels arrive late (a customer report days later, a chargeback weeks later) and can change
/// (an analyst's suspicion later confirmed genuine). The store keeps every version; for any
/// cutoff, the label of an event is the latest one reported at or before it.
public struct Label: Sendable, Hashable, Encodable {
    public var eventId: String
    public var outcome: Outcome
    public var reportedAt: Timestamp
    /// Who said so: `chargeback`, `customer_report`, `analyst`, `confirmed_genuine`, or any other word.
    public var source: String

    public init(eventId: String, outcome: Outcome, reportedAt: Timestamp, source: String) {
        self.eventId = eventId
        self.outcome = outcome
        self.reportedAt = reportedAt
        self.source = source
    }

    /// The field names, also the CSV header.
    public static let fieldNames = ["event_id", "outcome", "reported_at", "source"]

    enum CodingKeys: String, CodingKey {
        case outcome, source
        case eventId = "event_id"
        case reportedAt = "reported_at"
    }

    /// Reads and validates a label from its parsed JSON object.
    public init(json: JSONValue) throws(RiskFeaturesError) {
        let fields = try JSONFields(root: json)
        eventId = try fields.requiredString("event_id")
        outcome = try fields.requiredVocabulary("outcome")
        reportedAt = try fields.requiredTimestamp("reported_at")
        source = try fields.requiredString("source")
    }

    /// Builds a label from named text fields, as read from a CSV record.
    ///
    /// - Parameter field: the text of a field by name, `nil` when the column is absent.
    /// - Throws: ``RiskFeaturesError`` naming the column that is missing or invalid.
    public init(fields field: (String) -> String?) throws(RiskFeaturesError) {
        func required(_ name: String) throws(RiskFeaturesError) -> String {
            guard let value = field(name) else { throw .missingField(field: name) }
            guard !value.isEmpty else { throw .invalidValue(field: name, value: "\"\"", reason: "must not be empty") }
            try ContractLimits.check(value, field: name)
            return value
        }
        eventId = try required("event_id")
        let outcomeText = try required("outcome")
        guard let outcome = Outcome(rawValue: outcomeText) else {
            throw .invalidValue(field: "outcome", value: "\"\(outcomeText)\"", reason: "must be one of fraud, genuine")
        }
        self.outcome = outcome
        let reportedText = try required("reported_at")
        guard let reportedAt = Timestamp(rfc3339: reportedText) else {
            throw .invalidValue(field: "reported_at", value: "\"\(reportedText)\"", reason: "not an RFC 3339 date-time")
        }
        self.reportedAt = reportedAt
        source = try required("source")
    }

    /// The label as one CSV record in ``fieldNames`` order.
    public var csvFields: [String] {
        [eventId, outcome.rawValue, reportedAt.rfc3339, source]
    }
}

/// What turned out to be true of an event.
public enum Outcome: String, ContractEnum {
    case fraud, genuine
}

extension Label {
    /// Each id's outcome by the latest of `versions` (by `reportedAt`; of two reported at the same
    /// instant, the later in `versions`); `nil` for an id without a version.
    public static func latestOutcomes(of ids: [String?], versions: [Label]) -> [Outcome?] {
        // Each id's latest version by its position in `versions`: a small entry keeps a
        // million-entry table compact, and one lookup per version both reads and updates it.
        // Reserved up front (at most one entry per version): growing it step by step rehashed it
        // about twenty times.
        var latest: [String: Int] = [:]
        latest.reserveCapacity(versions.count)
        func keepLater(_ entry: inout Int, _ position: Int) {
            if versions[entry].reportedAt <= versions[position].reportedAt { entry = position }
        }
        for (position, label) in versions.enumerated() { keepLater(&latest[label.eventId, default: position], position) }
        return ids.map { id in id.flatMap { latest[$0] }.map { versions[$0].outcome } }
    }
}
