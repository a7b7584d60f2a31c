/// The one error type of the store protocol, whatever the backend.
public enum StoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A line of an input file breaks the contract. The batch that held it was rolled back;
    /// everything in `accepted` was committed before it and stays.
    case badLine(file: String, line: Int, field: String?, message: String, accepted: IngestReport)
    /// A file could not be opened or read.
    case cannotRead(path: String, reason: String)
    /// The database refused an operation (a constraint, a locked or corrupt file, a failed migration).
    case database(message: String)
    /// A request that names something the store does not hold.
    case notFound(what: String)
    /// A write that contradicts what the store holds (a policy version recorded with other content).
    case conflict(reason: String)
    /// An event whose id the store already holds with another payload.
    case duplicateEvent(id: String)
    /// A store location that names no backend of this build (a URL scheme it does not know).
    case unsupportedLocation(location: String, reason: String)

    public var description: String {
        switch self {
        case .badLine(let file, let line, let field, let message, let accepted):
            let location = field.map { "\(file):\(line): field '\($0)'" } ?? "\(file):\(line)"
            let kept =
                accepted.inserted + accepted.duplicates == 0
                ? "nothing from this file was stored"
                : "the \(accepted.inserted) records committed before line \(accepted.lastCommittedLine + 1) are kept"
            return "\(location): \(message); the batch holding this line was rolled back and \(kept)"
        case .cannotRead(let path, let reason): return "cannot read \(path): \(reason)"
        case .database(let message): return "database error: \(message)"
        case .notFound(let what): return "not found: \(what)"
        case .conflict(let reason): return reason
        case .duplicateEvent(let id): return Self.duplicateEventMessage(id)
        case .unsupportedLocation(let location, let reason): return "cannot open the store at \(location): \(reason)"
        }
    }

    /// Why an event with a stored id and another payload is refused.
    public static func duplicateEventMessage(_ id: String) -> String {
        "event id '\(id)' is already stored with another payload; an id names one event for good (a retry must send the same JSON)"
    }
}

// The messages every backend gives for the same refusal, written once.
extension StoreError {
    package static func policyVersionTaken(_ version: String) -> StoreError {
        .conflict(
            reason: "decision policy version '\(version)' is already recorded with other content; give the changed policy a new version")
    }

    package static func noModel(_ id: String) -> StoreError { .notFound(what: "model \(id)") }
    package static let noChampionToRollBack = StoreError.notFound(what: "a champion to roll back")
    package static let noPreviousChampion = StoreError.notFound(what: "a previous champion to roll back to")

    package static func shadowIsChampion(_ id: String) -> StoreError {
        .notFound(what: "a challenger \(id): it is the champion, which cannot also score in shadow")
    }

    package static func noActiveKey(_ id: Int64) -> StoreError { .notFound(what: "an active API key \(id)") }
}
