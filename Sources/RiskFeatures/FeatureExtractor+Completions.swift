import RiskContract

extension FeatureExtractor {
    /// Whether a feature's source is one of `prefixes` or lies under one (`telco.sim_swap` covers
    /// `telco.sim_swap.latest_change`).
    static func reads(_ source: String?, under prefixes: [String]) -> Bool {
        guard let source else { return false }
        return prefixes.contains { source == $0 || source.hasPrefix($0 + ".") }
    }

    /// The indices in ``columns`` that depend on the fields under `prefixes`: the columns of the
    /// features reading them and of the crosses with such a feature.
    public func columns(readingUnder prefixes: [String]) -> [Int] {
        var affected = Set<Int>()
        for index in plans.indices where Self.reads(spec.features[index].source, under: prefixes) { affected.insert(index) }
        for (index, plan) in plans.enumerated() {
            if case .cross(let parts, _) = plan, parts.contains(where: { affected.contains($0.feature) }) { affected.insert(index) }
        }
        return featureOfColumn.indices.filter { affected.contains(featureOfColumn[$0]) }
    }

    /// Calls `body` with every row `row` could become once the fields under `prefixes` are known,
    /// whatever their values: each discrete feature reading them takes each of its levels (jointly:
    /// every combination, and each cross follows its parts), everything else stays as in `row`
    /// (the event's row now). Features of one field are varied independently, so some rows may be
    /// impossible, never missing. `body` returns `false` to stop early.
    ///
    /// - Returns: `nil`, calling `body` never, when the rows cannot be listed: a number is read
    ///   under `prefixes` (its values are unbounded), or there are more than `limit` rows;
    ///   otherwise whether every call of `body` returned `true`.
    public func forEachCompletion(
        under prefixes: [String], of parsed: ParsedEvent, row: [Double], limit: Int, _ body: ([Double]) -> Bool
    ) -> Bool? {
        precondition(row.count == columns.count, "one value per column")
        var varied: [(feature: Int, offset: Int, levels: Int)] = []
        var crosses: [(parts: [CrossPart], offset: Int, width: Int)] = []
        var levels = [Int](repeating: Discrete.noLevel, count: plans.count)
        var count = 1
        for (index, plan) in plans.enumerated() {
            switch plan {
            case .numeric:
                if Self.reads(spec.features[index].source, under: prefixes) { return nil }
            case .aggregate:
                // Aggregates read earlier events only, never this event's fields.
                continue
            case .discrete(let discrete, let offset):
                levels[index] = discrete.level(parsed)
                if Self.reads(spec.features[index].source, under: prefixes) {
                    let width = discrete.levels.count
                    varied.append((index, offset, width))
                    count *= width
                    if count > limit { return nil }
                }
            case .cross(let parts, let offset):
                if parts.contains(where: { part in varied.contains { $0.feature == part.feature } }) {
                    let width = parts.reduce(1) { $0 * $1.discrete.levels.count }
                    crosses.append((parts, offset, width))
                }
            }
        }
        guard !varied.isEmpty else { return body(row) }
        var completion = row
        var choice = [Int](repeating: 0, count: varied.count)
        while true {
            for (position, feature) in varied.enumerated() {
                for column in feature.offset..<(feature.offset + feature.levels) { completion[column] = 0 }
                completion[feature.offset + choice[position]] = 1
                levels[feature.feature] = choice[position]
            }
            for cross in crosses {
                for column in cross.offset..<(cross.offset + cross.width) { completion[column] = 0 }
                var level = 0
                for part in cross.parts {
                    guard levels[part.feature] >= 0 else {
                        level = -1
                        break
                    }
                    level += levels[part.feature] * part.stride
                }
                if level >= 0 { completion[cross.offset + level] = 1 }
            }
            guard body(completion) else { return false }
            // The next combination, the last feature varying fastest.
            var position = varied.count - 1
            while position >= 0 {
                choice[position] += 1
                if choice[position] < varied[position].levels { break }
                choice[position] = 0
                position -= 1
            }
            if position < 0 { return true }
        }
    }
}
