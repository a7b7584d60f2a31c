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
    public init(json: JSONValue) throws(ContractError) {
        var source = TreeSource(value: json)
        self = try Self.read(from: &source)
    }

    /// Builds a label from named text fields, as read from a CSV record, by the same rules as
    /// from JSON.
    ///
    /// - Parameter field: the text of a field by name, `nil` when the column is absent.
    /// - Throws: ``ContractError`` naming the column that is missing or invalid.
    public init(fields field: (String) -> String?) throws(ContractError) {
        var source = TextFieldsSource.record(Self.fieldNames.compactMap { name in field(name).map { (name, $0) } })
        self = try Self.read(from: &source)
    }

    /// The label contract, written once for every source.
    static func read<Source: ContractSource>(from source: inout Source) throws(ContractError) -> Label {
        var eventId: String?
        var outcome: Outcome?
        var reportedAt: Timestamp?
        var labelSource: String?
        try source.rootMembers { (source, name) throws(ContractError) in
            switch name {
            case "event_id": eventId = try source.requiredString("event_id")
            case "outcome": outcome = try source.requiredWord("outcome")
            case "reported_at": reportedAt = try source.requiredTimestamp("reported_at")
            case "source": labelSource = try source.requiredString("source")
            default: try source.skip()
            }
        }
        guard let eventId else { throw .missingField(field: "event_id") }
        guard let outcome else { throw .missingField(field: "outcome") }
        guard let reportedAt else { throw .missingField(field: "reported_at") }
        guard let labelSource else { throw .missingField(field: "source") }
        return Label(eventId: eventId, outcome: outcome, reportedAt: reportedAt, source: labelSource)
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
