import Foundation
import RiskContract

/// What a stub operator knows about its lines over time: its ground truth.
///
/// Read from JSON lines, one observation each: `{"phone_number", "at", "telco": {…},
/// "subscriber_since"?}`, where `telco` has the event contract's shape (ARCHITECTURE.md §5.1).
/// A line's state at a time is its latest observation at or before it (its first observation
/// before that); `subscriber_since`, the day the line's current subscriber got the number,
/// answers Number Recycling. `riskloop simulate` writes this file beside its events.
public struct OperatorView: Sendable {
    public struct Observation: Sendable, Equatable {
        public var at: Timestamp
        public var telco: TelcoSignals

        public init(at: Timestamp, telco: TelcoSignals) {
            self.at = at
            self.telco = telco
        }
    }

    public struct Line: Sendable, Equatable {
        /// In time order.
        public var observations: [Observation]
        public var subscriberSince: Timestamp?

        public init(observations: [Observation], subscriberSince: Timestamp? = nil) {
            self.observations = observations.sorted { $0.at < $1.at }
            self.subscriberSince = subscriberSince
        }
    }

    public var lines: [String: Line]

    public init(lines: [String: Line]) {
        self.lines = lines
    }

    /// The line's state at `time`; `nil` for a number the operator does not serve.
    public func state(of phoneNumber: String, at time: Timestamp) -> (observation: Observation, subscriberSince: Timestamp?)? {
        guard let line = lines[phoneNumber], let first = line.observations.first else { return nil }
        // The last observation at or before `time`: a binary search over the time-ordered list.
        var low = 0, high = line.observations.count
        while low < high {
            let middle = (low + high) / 2
            if line.observations[middle].at <= time { low = middle + 1 } else { high = middle }
        }
        return (low == 0 ? first : line.observations[low - 1], line.subscriberSince)
    }

    /// Reads a view file; an error names the line and the field.
    public static func read(from url: URL) throws(OperatorViewError) -> OperatorView {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw .unreadable(path: url.path, reason: error.localizedDescription)
        }
        var lines: [String: Line] = [:]
        var number = 0
        for text in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            number += 1
            if text.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\r") }) { continue }
            do throws(ContractError) {
                guard case .object(let object) = try JSONValue.parse(text) else {
                    throw .wrongType(field: "", expected: "an object")
                }
                guard case .string(let phone)? = object["phone_number"] else { throw .missingField(field: "phone_number") }
                guard PhoneNumber.isE164(phone) else {
                    throw .invalidValue(field: "phone_number", value: "\"\(phone)\"", reason: "must be an E.164 number")
                }
                guard case .string(let atText)? = object["at"], let at = Timestamp(rfc3339: atText) else {
                    throw .invalidValue(field: "at", value: "", reason: "must be an RFC 3339 date-time")
                }
                let telco = try object["telco"].flatMap { value throws(ContractError) in try TelcoSignals(json: value) } ?? TelcoSignals()
                var since: Timestamp?
                if let value = object["subscriber_since"] {
                    guard case .string(let text) = value, let time = Timestamp(rfc3339: text) else {
                        throw .invalidValue(field: "subscriber_since", value: "", reason: "must be an RFC 3339 date-time")
                    }
                    since = time
                }
                var line = lines[phone] ?? Line(observations: [])
                line.observations.append(Observation(at: at, telco: telco))
                if let since { line.subscriberSince = since }
                lines[phone] = line
            } catch {
                throw .badLine(path: url.path, line: number, field: error.field, reason: error.reason)
            }
        }
        for (phone, line) in lines { lines[phone] = Line(observations: line.observations, subscriberSince: line.subscriberSince) }
        return OperatorView(lines: lines)
    }
}

public enum OperatorViewError: Error, Sendable, CustomStringConvertible {
    case unreadable(path: String, reason: String)
    case badLine(path: String, line: Int, field: String?, reason: String)

    public var description: String {
        switch self {
        case .unreadable(let path, let reason): "cannot read \(path): \(reason)"
        case .badLine(let path, let line, let field, let reason):
            "\(path), line \(line)\(field.map { $0.isEmpty ? "" : ", field \($0)" } ?? ""): \(reason)"
        }
    }
}
