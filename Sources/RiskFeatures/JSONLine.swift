import Foundation

/// Decoding and encoding of the contract types as one JSON object per line.
///
/// Decoding maps every failure to a ``RiskFeaturesError`` that names the field; encoding writes
/// keys in sorted order without escaped slashes, so the same value always gives the same bytes.
public enum JSONLine {
    /// Decodes one JSON object (one line of a `.jsonl` file, without its newline).
    public static func decode<Value: Decodable>(_ type: Value.Type, from bytes: some Collection<UInt8>) throws(RiskFeaturesError)
        -> Value
    {
        do {
            return try JSONDecoder().decode(type, from: Data(bytes))
        } catch let error as RiskFeaturesError {
            throw error
        } catch let error as DecodingError {
            throw RiskFeaturesError(error)
        } catch {
            throw .malformedJSON(reason: "\(error)")
        }
    }

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
    /// Decodes and validates one event JSON object.
    ///
    /// - Throws: ``RiskFeaturesError`` naming the field that breaks the contract.
    public static func decode(jsonLine bytes: some Collection<UInt8>) throws(RiskFeaturesError) -> Event {
        try JSONLine.decode(Event.self, from: bytes)
    }
}

extension RiskFeaturesError {
    /// Translates Foundation's decoding errors into the contract's terms: the dotted field path
    /// and what was wrong with it.
    init(_ error: DecodingError) {
        switch error {
        case .keyNotFound(let key, let context):
            self = .missingField(field: (context.codingPath + [key]).dottedPath)
        case .typeMismatch(let type, let context):
            self = .wrongType(field: context.codingPath.dottedPath, expected: Self.jsonTypeName(type))
        case .valueNotFound(let type, let context):
            self = .wrongType(field: context.codingPath.dottedPath, expected: "\(Self.jsonTypeName(type)), not null")
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty {
                let underlying = context.underlyingError.map { ": \($0)" } ?? ""
                self = .malformedJSON(reason: context.debugDescription + underlying)
            } else {
                self = .invalidValue(field: context.codingPath.dottedPath, value: "?", reason: context.debugDescription)
            }
        @unknown default:
            self = .malformedJSON(reason: "\(error)")
        }
    }

    private static func jsonTypeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Bool.Type: "true or false"
        case is Int.Type: "an integer"
        case is Double.Type: "a number"
        case is [Any].Type: "an array"
        default:
            String(describing: type).hasPrefix("Array") ? "an array" : "an object"
        }
    }
}
