/// A closed vocabulary of the event or label contract (`kind`, `channel`, `otp.channel`, …).
///
/// Reading an unknown word throws ``ContractError/invalidValue(field:value:reason:)``
/// naming the field and listing the words that are allowed.
public protocol ContractEnum: RawRepresentable, CaseIterable, Encodable, Sendable, Hashable
where RawValue == String {}

extension ContractEnum {
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}
