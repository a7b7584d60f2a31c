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

    /// Every way the fields under `prefixes` could set an event's columns once known, whatever
    /// their values: each discrete feature reading them takes each of its levels (jointly: every
    /// combination, and each cross follows its parts); every other column stays as it is. Features
    /// of one field are varied independently, so some combinations may be impossible, never
    /// missing.
    public struct Completions: Sendable {
        /// The columns that change: one group per varied feature and per cross with one, each
        /// one-hot (at most one column of a group is 1).
        public let groups: [Range<Int>]
        let varied: [(feature: Int, offset: Int, levels: Int)]
        let crosses: [(parts: [CrossPart], offset: Int, width: Int)]
        let levels: [Int]
        /// How many combinations ``forEach(_:)`` lists.
        public let count: Int

        /// Calls `body` with each combination's set column in every group (`-1`: none), in the
        /// order of ``groups``; `body` returns `false` to stop.
        ///
        /// - Returns: whether every call returned `true`.
        @discardableResult
        public func forEach(_ body: ([Int]) -> Bool) -> Bool {
            var levels = self.levels
            var on = [Int](repeating: -1, count: groups.count)
            var choice = [Int](repeating: 0, count: varied.count)
            while true {
                for (position, feature) in varied.enumerated() {
                    levels[feature.feature] = choice[position]
                    on[position] = feature.offset + choice[position]
                }
                for (index, cross) in crosses.enumerated() {
                    var level = 0
                    for part in cross.parts {
                        guard levels[part.feature] >= 0 else {
                            level = -1
                            break
                        }
                        level += levels[part.feature] * part.stride
                    }
                    on[varied.count + index] = level >= 0 ? cross.offset + level : -1
                }
                guard body(on) else { return false }
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

    /// The ways the fields under `prefixes` could set `parsed`'s columns once known; `nil` when
    /// they cannot be listed: a number is read under `prefixes` (its values are unbounded), or
    /// there are more than `limit` combinations.
    public func completions(under prefixes: [String], of parsed: ParsedEvent, limit: Int) -> Completions? {
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
                    crosses.append((parts, offset, parts.reduce(1) { $0 * $1.discrete.levels.count }))
                }
            }
        }
        let groups = varied.map { $0.offset..<($0.offset + $0.levels) } + crosses.map { $0.offset..<($0.offset + $0.width) }
        return Completions(groups: groups, varied: varied, crosses: crosses, levels: levels, count: varied.isEmpty ? 0 : count)
    }
}
