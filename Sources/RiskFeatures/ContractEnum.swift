/// A closed vocabulary of the event or label contract (`kind`, `channel`, `otp.channel`, …).
///
/// Decoding an unknown value throws ``RiskFeaturesError/invalidValue(field:value:reason:)``
/// naming the field and listing the values that are allowed, instead of a generic decoding error.
public protocol ContractEnum: RawRepresentable, CaseIterable, Codable, Sendable, Hashable
where RawValue == String {}

extension ContractEnum {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let raw = try container.decode(String.self)
        guard let value = Self(rawValue: raw) else {
            let allowed = Self.allCases.map(\.rawValue).joined(separator: ", ")
            throw RiskFeaturesError.invalidValue(
                field: decoder.codingPath.dottedPath, value: "\"\(raw)\"", reason: "must be one of \(allowed)")
        }
        self = value
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

extension Array where Element == any CodingKey {
    /// `telco.call_forwarding[1]`: object keys joined by dots, array positions in brackets.
    public var dottedPath: String {
        var path = ""
        for key in self {
            if let index = key.intValue {
                path += "[\(index)]"
            } else {
                if !path.isEmpty { path += "." }
                path += key.stringValue
            }
        }
        return path
    }
}
