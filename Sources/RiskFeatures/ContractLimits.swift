/// How long the text of an event or label may be: a bound on what one request or one line can
/// make the engine hold, store and hash (a 5 MB `customer_id` was once accepted and scored).
///
/// Both are UTF-8 bytes after JSON escapes are decoded. Beyond them the event or label is
/// refused with an error naming the field (a contract field) or the byte where the string
/// starts (a field outside the contract).
public enum ContractLimits {
    /// Every string field of the contract: `id`, `customer_id`, `payee.id`, `device.id`,
    /// `device.os`, a label's `event_id` and `source`, and the vocabulary words.
    public static let maximumFieldBytes = 256
    /// Any string anywhere in a JSON document RiskLoop reads, fields outside the contract
    /// included.
    public static let maximumStringBytes = 65_536

    /// The error for contract field `field` holding `text` beyond ``maximumFieldBytes``, if it does.
    static func check(_ text: String, field: @autoclosure () -> String) throws(RiskFeaturesError) {
        let length = text.utf8.count
        guard length > maximumFieldBytes else { return }
        throw .invalidValue(
            field: field(), value: "\(length) bytes", reason: "must be at most \(maximumFieldBytes) bytes long")
    }
}
