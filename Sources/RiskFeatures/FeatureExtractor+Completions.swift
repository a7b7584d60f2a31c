import RiskContract

extension FeatureExtractor {
    /// Whether a feature's source is one of `prefixes` or lies under one (`telco.sim_swap` covers
    /// `telco.sim_swap.latest_change`).
    static func reads(_ source: String?, under prefixes: [String]) -> Bool {
        guard let source else { return false }
        return prefixes.contains { source == $0 || source.hasPrefix($0 + ".") }
    }

    /// Whether feature `index` reads this event's fields under `prefixes`: its source, or the
    /// key or field of an aggregate that counts its own event, or of the aggregates a ratio reads.
    func reads(feature index: Int, under prefixes: [String]) -> Bool {
        let feature = spec.features[index]
        if Self.reads(feature.source, under: prefixes) { return true }
        if feature.includeCurrent == true, Self.reads(feature.key, under: prefixes) || Self.reads(feature.field, under: prefixes) {
            return true
        }
        return [feature.against, feature.spread].contains { name in
            guard let name, let other = spec.features.firstIndex(where: { $0.name == name }) else { return false }
            return reads(feature: other, under: prefixes)
        }
    }

    /// The indices in ``columns`` that depend on the fields under `prefixes`: the columns of the
    /// features reading them and of the crosses with such a feature.
    public func columns(readingUnder prefixes: [String]) -> [Int] {
        var affected = Set<Int>()
        for index in plans.indices where reads(feature: index, under: prefixes) { affected.insert(index) }
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

    /// The ways the fields under `prefixes` could set `parsed`'s columns once known, given its
    /// `aggregates` (from ``EntityProfiles/values(for:)``); `nil` when they cannot be listed: a
    /// number is read under `prefixes` (its values are unbounded; a number in bins is not), or
    /// there are more than `limit` combinations.
    public func completions(under prefixes: [String], of parsed: ParsedEvent, aggregates: [Double], limit: Int) -> Completions? {
        let history = aggregates.isEmpty ? firstEventHistory : aggregates
        var varied: [(feature: Int, offset: Int, levels: Int)] = []
        var crosses: [(parts: [CrossPart], offset: Int, width: Int)] = []
        var levels = [Int](repeating: Discrete.noLevel, count: plans.count)
        var count = 1
        for (index, plan) in plans.enumerated() {
            switch plan {
            case .numeric, .aggregate:
                // Aggregates read earlier events only, unless they count their own event.
                if reads(feature: index, under: prefixes) { return nil }
            case .discrete(let discrete, let offset):
                levels[index] = history.withUnsafeBufferPointer { discrete.level(parsed, history: $0) }
                if reads(feature: index, under: prefixes) {
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
