/// How long the text of an event or label may be: a bound on what one request or one line can
/// make the engine hold, store and hash (a 5 MB `customer_id` was once accepted and scored).
///
/// Lengths are of the text after JSON escapes are decoded: characters (Unicode scalars, what JSON
/// Schema's `maxLength` counts, so `openapi.yaml` states the limit exactly) for contract fields,
/// UTF-8 bytes for any string. Beyond them the event or label is refused with an error naming the
/// field (a contract field) or the byte where the string starts (a field outside the contract).
public enum ContractLimits {
    /// Characters in every string field of the contract: `id`, `customer_id`, `payee.id`,
    /// `device.id`, `device.os`, a label's `event_id` and `source`, and the vocabulary words.
    public static let maximumFieldCharacters = 256
    /// Any string anywhere in a JSON document RiskLoop reads, fields outside the contract
    /// included.
    public static let maximumStringBytes = 65_536
    /// The largest count field (`telco.ss7.*`): below 10¹⁵, so every count is exact as a
    /// JSON number (a double) and as an `Int`. openapi.yaml's `Count` says the same.
    public static let maximumCount = 999_999_999_999_999

    /// The error for contract field `field` holding `text` beyond ``maximumFieldCharacters``, if it does.
    static func check(_ text: String, field: @autoclosure () -> String) throws(ContractError) {
        // At most 4 bytes a character: short text needs no count.
        guard text.utf8.count > maximumFieldCharacters else { return }
        let length = text.unicodeScalars.count
        guard length > maximumFieldCharacters else { return }
        throw .invalidValue(
            field: field(), value: "\(length) characters", reason: "must be at most \(maximumFieldCharacters) characters long")
    }
}
