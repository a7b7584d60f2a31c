import RiskFeatures

/// Turns columns into words a fraud analyst understands, from the spec's descriptions and the
/// event's own values: `time since the SIM card was swapped: under 24 h (3 h before this event)`.
struct Explainer: Sendable {
    /// What a phrase needs of a feature, taken once (not the whole feature per call).
    struct Part: Sendable {
        var about: String
        var kind: Feature.Kind
        var level: String?
        var source: FieldPath?

        init(feature: Feature, level: String?, source: FieldPath?) {
            about = feature.description ?? feature.name
            kind = feature.kind
            self.level = level
            self.source = source
        }
    }

    /// For each column, the features (one, or two or three for a cross) and their levels.
    let parts: [[Part]]
    /// The words of each column whose words depend on neither the event nor the value (a
    /// level of a boolean or categorical feature, or of a cross of them), written once.
    private let fixedTexts: [String?]

    init(_ extractor: FeatureExtractor) {
        let features = extractor.spec.features
        let byName = Dictionary(uniqueKeysWithValues: features.map { ($0.name, $0) })
        parts = extractor.columns.indices.map { column in
            let feature = features[extractor.featureOfColumn[column]]
            let name = extractor.columns[column]
            switch feature.kind {
            case .cross:
                // `a=x&b=y`, in the order of `of`.
                var rest = Substring(name)
                return (feature.of ?? []).enumerated().map { index, partName in
                    let part = byName[partName]!
                    rest = rest.dropFirst(partName.count + 1)
                    let next = index + 1 < (feature.of ?? []).count ? "&" + feature.of![index + 1] + "=" : nil
                    let level = next.flatMap { rest.range(of: $0) }.map { String(rest[..<$0.lowerBound]) } ?? String(rest)
                    rest = next.flatMap { rest.range(of: $0) }.map { rest[$0.lowerBound...].dropFirst() } ?? ""
                    return Part(feature: part, level: level, source: part.source.map(FieldPath.init))
                }
            case .numeric, .aggregate, .fraudRate:
                let level = name == feature.name ? nil : String(name.dropFirst(feature.name.count + 1))
                return [Part(feature: feature, level: level, source: feature.source.map(FieldPath.init))]
            default:
                return [
                    Part(
                        feature: feature, level: String(name.dropFirst(feature.name.count + 1)), source: feature.source.map(FieldPath.init))
                ]
            }
        }
        fixedTexts = parts.map { parts in
            parts.allSatisfy(Self.isFixed) ? parts.map { Self.phrase($0, value: 0, event: nil) }.joined(separator: " and ") : nil
        }
    }

    /// A phrase that reads no value and no field of the event.
    private static func isFixed(_ part: Part) -> Bool {
        switch (part.kind, part.level) {
        case (_, "unknown"?): true
        case (.numeric, _), (.aggregate, _), (.fraudRate, _), (.timeSince, _): false
        default: part.level != nil
        }
    }

    /// The words for `column` of `event`, whose vector holds `value` there; without an event,
    /// what the column means (for exports and model cards).
    func text(column: Int, value: Double, event: ParsedEvent?) -> String {
        if let fixed = fixedTexts[column] { return fixed }
        let parts = parts[column]
        if parts.count == 1 { return Self.phrase(parts[0], value: value, event: event) }
        return parts.map { Self.phrase($0, value: value, event: event) }.joined(separator: " and ")
    }

    private static func phrase(_ part: Part, value: Double, event: ParsedEvent?) -> String {
        let about = part.about
        switch (part.kind, part.level) {
        case (.numeric, nil), (.aggregate, _), (.fraudRate, _):
            guard let event else { return about }
            return "\(about): \(Self.number(part.source?.read(event), fallback: value))"
        case (_, "unknown"?):
            return "\(about): unknown"
        case (.boolean, "true"?), (.contains, "true"?), (.night, "true"?):
            return about
        case (.boolean, "false"?), (.contains, "false"?), (.night, "false"?):
            return "not \(about)"
        case (.timeSince, let level?):
            let bucket =
                level == "none"
                ? "none in the monitored period"
                : level.hasPrefix(">=") ? "\(level.dropFirst(2)) or more" : "under \(level.dropFirst())"
            guard let event, case .string(let text)? = part.source?.read(event), let then = Timestamp(rfc3339: text), let now = event.time
            else { return "\(about): \(bucket)" }
            return "\(about): \(bucket) (\(Self.age(now.millisecondsSinceEpoch - then.millisecondsSinceEpoch)) before this event)"
        case (_, let level?):
            return "\(about): \(level == "<other>" ? "other" : level)"
        case (_, nil):
            return about
        }
    }

    static func number(_ value: JSONValue?, fallback: Double) -> String {
        let number: Double = if case .number(let n)? = value { n } else { fallback }
        return number == number.rounded() && abs(number) < 1e15 ? String(Int64(number)) : String(format: "%.2f", number)
    }

    static func age(_ milliseconds: Int64) -> String {
        let hours = Double(milliseconds) / 3_600_000
        if hours < 1 { return "\(max(1, Int((hours * 60).rounded()))) min" }
        if hours < 48 { return "\(Int(hours.rounded())) h" }
        return "\(Int((hours / 24).rounded())) days"
    }
}
