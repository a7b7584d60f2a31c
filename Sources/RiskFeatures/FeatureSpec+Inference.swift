import RiskContract

/// Proposes a feature spec from sample records: a starting point for a data scientist, not a
/// final answer (it never proposes crosses or aggregates).
extension FeatureSpec {
    /// Distinct strings up to which a field becomes categorical; more become hashed.
    public static let inferenceVocabularyLimit = 20

    /// A field skipped by ``infer(from:name:)`` and why.
    public struct SkippedField: Sendable, Equatable {
        public var path: String
        public var reason: String
    }

    /// Looks at every leaf of every record (objects are walked, dotted paths named) and proposes:
    /// `boolean` for true/false (or 0/1) fields, `numeric` for numbers (`log1p` when they are
    /// non-negative and reach past 100), `categorical` for strings with at most
    /// ``inferenceVocabularyLimit`` distinct values (most frequent first), `hashed` for more,
    /// `time_since` for RFC 3339 times (`hour_of_day` and `night` for `occurred_at`), and
    /// `contains` for each value of a list of strings. Identifiers (a distinct string in more than
    /// half the records) and fields that are always null are skipped.
    public static func infer(from records: [JSONValue], name: String) -> (spec: FeatureSpec, skipped: [SkippedField]) {
        var order: [String] = []
        var values: [String: [JSONValue]] = [:]
        func walk(_ value: JSONValue, _ path: String) {
            if case .object(let object) = value {
                for member in object.members { walk(member.value, path.isEmpty ? member.key : path + "." + member.key) }
                return
            }
            if values[path] == nil { order.append(path) }
            values[path, default: []].append(value)
        }
        for record in records { walk(record, "") }

        var features: [Feature] = [], skipped: [SkippedField] = []
        for path in order {
            let present = values[path]!.filter { $0 != .null }
            guard !present.isEmpty else {
                skipped.append(.init(path: path, reason: "always null"))
                continue
            }
            let numbers = present.compactMap { if case .number(let n) = $0 { n } else { nil } }
            let flags = present.compactMap { if case .bool(let b) = $0 { b } else { nil } }
            let strings = present.compactMap { if case .string(let s) = $0 { s } else { nil } }
            let lists = present.compactMap { if case .array(let a) = $0 { a } else { nil } }
            if flags.count == present.count || (numbers.count == present.count && numbers.allSatisfy { $0 == 0 || $0 == 1 }) {
                features.append(Feature(name: path, kind: .boolean, source: path))
            } else if numbers.count == present.count {
                var feature = Feature(name: path, kind: .numeric, source: path)
                if numbers.min()! >= 0, numbers.max()! > 100 { feature.transform = .log1p }
                features.append(feature)
            } else if strings.count == present.count, strings.allSatisfy({ Timestamp(rfc3339: $0) != nil }) {
                if path == "occurred_at" {
                    features.append(Feature(name: "hour", kind: .hourOfDay))
                    features.append(Feature(name: "night", kind: .night))
                } else {
                    var feature = Feature(name: path + "_age", kind: .timeSince, source: path)
                    feature.bucketsHours = [1, 24, 72, 168, 720]
                    features.append(feature)
                }
            } else if strings.count == present.count {
                var counts: [String: Int] = [:]
                for text in strings { counts[text, default: 0] += 1 }
                if counts.count * 2 > records.count, counts.count > inferenceVocabularyLimit {
                    skipped.append(.init(path: path, reason: "an identifier (\(counts.count) distinct values in \(records.count) records)"))
                } else if counts.count <= inferenceVocabularyLimit {
                    var feature = Feature(name: path, kind: .categorical, source: path)
                    feature.vocabulary = counts.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.map(\.key)
                    features.append(feature)
                } else {
                    var feature = Feature(name: path, kind: .hashed, source: path)
                    var buckets = 8
                    while buckets < min(counts.count / 4, 256) { buckets *= 2 }
                    feature.buckets = buckets
                    features.append(feature)
                }
            } else if lists.count == present.count {
                var seen: [String] = []
                for list in lists {
                    for case .string(let text) in list where !seen.contains(text) { seen.append(text) }
                }
                guard !seen.isEmpty, seen.count <= inferenceVocabularyLimit else {
                    skipped.append(
                        .init(path: path, reason: seen.isEmpty ? "lists without strings" : "lists of \(seen.count) distinct values"))
                    continue
                }
                for text in seen.sorted() {
                    var feature = Feature(name: "\(path) has \(text)", kind: .contains, source: path)
                    feature.value = text
                    features.append(feature)
                }
            } else {
                skipped.append(.init(path: path, reason: "mixed types"))
            }
        }
        return (
            FeatureSpec(name: name, description: "Proposed by riskloop spec infer from \(records.count) records.", features: features),
            skipped
        )
    }
}
