import RiskContract
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
        /// The words before the event's own value: `about: ` for a number, `about: under 24 h`
        /// for a time-since bucket; written once, so a reason costs one concatenation.
        var head: String
        /// A bin of a number: `head` says it all (`payment amount in the top 10% (≥ 412.50)`).
        var binned = false

        init(feature: Feature, level: String?, source: String?, bin: Int? = nil) {
            about = feature.description ?? feature.name
            kind = feature.kind
            self.level = level
            // A ratio's source is its value, not the ratio: its words show the column's value.
            self.source = kind == .ratio ? nil : source.map(FieldPath.init)
            if let bin, let edges = feature.bins?.edges, bin <= edges.count {
                binned = true
                head = about + " " + Explainer.words(bin: bin, edges: edges, quantiles: feature.bins?.edgeQuantiles)
                return
            }
            switch (kind, level) {
            case (.timeSince, let level?) where level != "unknown":
                let bucket =
                    level == "none"
                    ? "none in the monitored period"
                    : level.hasPrefix(">=") ? "\(level.dropFirst(2)) or more" : "under \(level.dropFirst())"
                head = "\(about): \(bucket)"
            default:
                head = "\(about): "
            }
        }
    }

    /// Bin `bin` of `edges` in words: `in the top 10% (≥ 412.50)` for learnt quantiles,
    /// `from 50 to under 200` for fixed edges.
    static func words(bin: Int, edges: [Double], quantiles: [Double]?) -> String {
        let low = bin > 0 ? edges[bin - 1] : nil, high = bin < edges.count ? edges[bin] : nil
        guard let quantiles, quantiles.count == edges.count else {
            switch (low, high) {
            case (let low?, let high?): return "from \(Explainer.number(low)) to under \(Explainer.number(high))"
            case (let low?, nil): return "≥ \(Explainer.number(low))"
            case (nil, let high?): return "< \(Explainer.number(high))"
            case (nil, nil): return "any"
            }
        }
        func percent(_ share: Double) -> String {
            let value = (share * 1000).rounded() / 10
            return (value == value.rounded() ? String(Int(value)) : String(value)) + "%"
        }
        let from = bin > 0 ? quantiles[bin - 1] : 0, to = bin < edges.count ? quantiles[bin] : 1
        switch (low, high) {
        case (let low?, let high?):
            return "between the \(percent(from)) and \(percent(to)) marks (\(Explainer.number(low)) to under \(Explainer.number(high)))"
        case (let low?, nil): return "in the top \(percent(1 - from)) (≥ \(Explainer.number(low)))"
        case (nil, let high?): return "in the bottom \(percent(to)) (< \(Explainer.number(high)))"
        case (nil, nil): return "any"
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
        // Each feature's first column: a bin's index is its column's distance from it.
        var firstColumn = [Int: Int]()
        for (column, feature) in extractor.featureOfColumn.enumerated() where firstColumn[feature] == nil { firstColumn[feature] = column }
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
                    let bin = part.bins.flatMap { $0.levelNames.firstIndex(of: level) }
                    return Part(feature: part, level: level, source: part.source, bin: bin)
                }
            case .numeric, .aggregate, .fraudRate, .ratio:
                let level = name == feature.name ? nil : String(name.dropFirst(feature.name.count + 1))
                // A number in bins: which bin, from the feature's first column.
                let bin = feature.bins != nil && level != "unknown" ? column - firstColumn[extractor.featureOfColumn[column]]! : nil
                return [Part(feature: feature, level: level, source: feature.source, bin: bin)]
            default:
                return [
                    Part(feature: feature, level: String(name.dropFirst(feature.name.count + 1)), source: feature.source)
                ]
            }
        }
        fixedTexts = parts.map { parts in
            parts.allSatisfy(Self.isFixed) ? parts.map { Self.phrase($0, value: 0, event: nil) }.joined(separator: " and ") : nil
        }
    }

    /// A phrase that reads no value and no field of the event.
    private static func isFixed(_ part: Part) -> Bool {
        if part.binned { return true }
        switch (part.kind, part.level) {
        case (_, "unknown"?): return true
        case (.numeric, _), (.aggregate, _), (.fraudRate, _), (.ratio, _), (.timeSince, _): return false
        default: return part.level != nil
        }
    }

    /// The words for `column` of `event`, whose vector holds `value` there; without an event,
    /// what the column means (for exports and model cards).
    func text(column: Int, value: Double, event: ParsedEvent?) -> String {
        if let fixed = fixedTexts[column] { return fixed }
        return parts.withUnsafeBufferPointer { parts in
            // In place: a copy of the column's parts would retain each of their strings.
            let column = parts[column]
            if column.count == 1 { return Self.phrase(column[0], value: value, event: event) }
            return column.map { Self.phrase($0, value: value, event: event) }.joined(separator: " and ")
        }
    }

    private static func phrase(_ part: Part, value: Double, event: ParsedEvent?) -> String {
        if part.binned { return part.head }
        switch (part.kind, part.level) {
        case (_, "unknown"?):
            return part.head + "unknown"
        case (.numeric, nil), (.aggregate, _), (.fraudRate, _), (.ratio, nil):
            guard let event else { return part.about }
            return part.head + Self.number(part.source?.number(event) ?? value)
        case (.boolean, "true"?), (.contains, "true"?), (.night, "true"?):
            return part.about
        case (.boolean, "false"?), (.contains, "false"?), (.night, "false"?):
            return "not " + part.about
        case (.timeSince, _?):
            guard let event, let then = part.source?.timestamp(event), let now = event.time else { return part.head }
            return part.head + " (" + Self.age(now.millisecondsSinceEpoch - then.millisecondsSinceEpoch) + " before this event)"
        case (_, let level?):
            return part.head + (level == "<other>" ? "other" : level)
        case (_, nil):
            return part.about
        }
    }

    /// A whole number as an integer, anything else with two decimals (`1234.5` → `1234.50`),
    /// rounded half to even as `%.2f` does, without Foundation's formatter (which cost a third
    /// of a reason's words).
    static func number(_ number: Double) -> String {
        if number == number.rounded() && abs(number) < 1e15 { return String(Int64(number)) }
        // NaN, infinities and numbers from a billion up (where cents lose the precision to round
        // like printf) keep the formatter.
        guard abs(number) < 1e9 else { return String(format: "%.2f", number) }
        let magnitude = Int64((number * 100).rounded(.toNearestOrEven)).magnitude, fraction = magnitude % 100
        return (number < 0 ? "-" : "") + String(magnitude / 100) + (fraction < 10 ? ".0" : ".") + String(fraction)
    }

    static func age(_ milliseconds: Int64) -> String {
        let hours = Double(milliseconds) / 3_600_000
        if hours < 1 { return "\(max(1, Int((hours * 60).rounded()))) min" }
        if hours < 48 { return "\(Int(hours.rounded())) h" }
        return "\(Int((hours / 24).rounded())) days"
    }
}

extension FeatureExtractor {
    /// What each column says at 1 (an indicator) or as a number, in the words of the spec's
    /// descriptions: what reasons and model cards call the column (`riskloop spec check`).
    public var columnMeanings: [String] {
        let explainer = Explainer(self)
        return columns.indices.map { explainer.text(column: $0, value: 1, event: nil) }
    }
}
