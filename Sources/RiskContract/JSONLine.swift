import Foundation

/// Reading and writing the contract types as one JSON object per line.
///
/// Writing sorts keys and leaves slashes unescaped, so the same value always gives the same bytes.
public enum JSONLine {
    /// Encodes a value as one line of JSON (no trailing newline), keys sorted.
    public static func encode(_ value: some Encodable) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            return Array(try encoder.encode(value))
        } catch {
            // Our contract types hold only finite numbers and strings; failing here is a bug.
            preconditionFailure("encoding \(type(of: value)) failed: \(error)")
        }
    }
}

extension Event {
    /// Parses and validates one event JSON object (a line of a `.jsonl` file, without its newline).
    ///
    /// Read straight from the bytes when `Event.direct` decides the line, through the JSON tree
    /// otherwise.
    ///
    /// - Throws: ``RiskFeaturesError`` naming the field that breaks the contract.
    public static func decode(jsonLine bytes: some Collection<UInt8>) throws(RiskFeaturesError) -> Event {
        if let event = bytes.withContiguousStorageIfAvailable(direct) ?? nil { return event }
        return try Event(json: try JSONValue.parse(bytes))
    }
}

extension Label {
    /// Parses and validates one label JSON object.
    public static func decode(jsonLine bytes: some Collection<UInt8>) throws(RiskFeaturesError) -> Label {
        try Label(json: try JSONValue.parse(bytes))
    }
}
