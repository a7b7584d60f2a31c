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

    /// ``encode(_:)`` as a string.
    public static func text(_ value: some Encodable) -> String { String(decoding: encode(value), as: UTF8.self) }
}

extension Event {
    /// Parses and validates one event JSON object (a line of a `.jsonl` file, without its newline).
    ///
    /// Read straight from the bytes when ``ByteSource`` decides the line, through the JSON tree
    /// otherwise; both by the same reader, so the event and any error are the same either way.
    ///
    /// - Throws: ``ContractError`` naming the field that breaks the contract.
    public static func decode(jsonLine bytes: some Collection<UInt8>) throws(ContractError) -> Event {
        if let event = bytes.withContiguousStorageIfAvailable(direct) ?? nil { return event }
        return try Event(json: try JSONValue.parse(bytes))
    }

    /// The event in `bytes` read with no tree; `nil` when the bytes are left to the tree.
    static func direct(_ bytes: UnsafeBufferPointer<UInt8>) -> Event? {
        ByteSource.decide(bytes) { (source) throws(ContractError) in try read(from: &source) }
    }
}

extension Label {
    /// Parses and validates one label JSON object, straight from the bytes when it can.
    public static func decode(jsonLine bytes: some Collection<UInt8>) throws(ContractError) -> Label {
        let direct = bytes.withContiguousStorageIfAvailable { (bytes) in
            ByteSource.decide(bytes) { (source) throws(ContractError) in try read(from: &source) }
        }
        if let label = direct ?? nil { return label }
        return try Label(json: try JSONValue.parse(bytes))
    }
}
