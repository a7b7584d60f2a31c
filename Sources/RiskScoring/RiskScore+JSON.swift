extension RiskScore {
    /// The reasons as a JSON array, as `JSONEncoder` writes them with sorted keys and unescaped
    /// slashes.
    ///
    /// The service logs this text with each decision and embeds it in its answer, so it is
    /// written once per score (``jsonText(reasons:)``).
    public var reasonsJSON: String {
        var writer = JSONTextWriter()
        writer.reasons(reasons)
        return writer.text
    }

    /// This score as one JSON object, the same text `JSONEncoder` writes for it with
    /// `[.sortedKeys, .withoutEscapingSlashes]`, written directly: the hot path of the HTTP
    /// service and of `riskloop score`, where Foundation's encoder took a fifth of the CPU.
    ///
    /// - Parameters:
    ///   - reasons: ``reasonsJSON`` when it is already written; `nil` writes it.
    ///   - signals: a JSON object written as the member `signals` (where each telco signal came
    ///     from, when the server acquires them); `nil` writes no such member.
    /// - Returns: the object's text. A non-finite number, which `JSONEncoder` refuses to
    ///   encode, is written as `null`; a model with finite parameters does not produce one.
    public func jsonText(reasons: String? = nil, signals: String? = nil) -> String {
        var writer = JSONTextWriter()
        writer.text.reserveCapacity(320 + (reasons?.utf8.count ?? 96 * self.reasons.count))
        writer.text += #"{"band":"#
        writer.string(band.rawValue)
        writer.text += #","decision":"#
        writer.string(decision.rawValue)
        if let eventId {
            writer.text += #","event_id":"#
            writer.string(eventId)
        }
        writer.text += #","model_id":"#
        writer.string(modelId)
        writer.text += #","policy_version":"#
        writer.string(policyVersion)
        writer.text += #","probability":"#
        writer.number(probability)
        writer.text += #","reasons":"#
        if let reasons { writer.text += reasons } else { writer.reasons(self.reasons) }
        writer.text += #","rules_applied":["#
        for (index, rule) in rulesApplied.enumerated() {
            if index > 0 { writer.text += "," }
            writer.string(rule)
        }
        writer.text += "]"
        if let signals { writer.text += #","signals":"# + signals }
        writer.text += #","spec_sha256":"#
        writer.string(specSHA256)
        writer.text += "}"
        return writer.text
    }
}

/// Appends JSON values to a string the way Foundation's `JSONEncoder` spells them.
private struct JSONTextWriter {
    var text = ""

    mutating func reasons(_ reasons: [RiskScore.Reason]) {
        text += "["
        for (index, reason) in reasons.enumerated() {
            text += index == 0 ? #"{"column":"# : #",{"column":"#
            string(reason.column)
            text += #","contribution":"#
            number(reason.contribution)
            text += #","text":"#
            string(reason.text)
            text += "}"
        }
        text += "]"
    }

    /// The shortest text that reads back as the same double, without a trailing `.0`.
    mutating func number(_ value: Double) {
        guard value.isFinite else {
            text += "null"
            return
        }
        let spelled = value.description
        text += spelled.hasSuffix(".0") ? spelled.dropLast(2) : Substring(spelled)
    }

    /// A quoted string: `"` and `\` escaped, control characters as `\b \f \n \r \t` or
    /// `\u00xx` (lowercase hex); everything else, `/` and non-ASCII included, as it is.
    mutating func string(_ value: String) {
        text += "\""
        guard value.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) else {
            text += value
            text += "\""
            return
        }
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": text += #"\""#
            case "\\": text += #"\\"#
            case "\u{8}": text += #"\b"#
            case "\u{C}": text += #"\f"#
            case "\n": text += #"\n"#
            case "\r": text += #"\r"#
            case "\t": text += #"\t"#
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                text += #"\u00"# + (hex.count == 1 ? "0" + hex : hex)
            default: text.unicodeScalars.append(scalar)
            }
        }
        text += "\""
    }
}
