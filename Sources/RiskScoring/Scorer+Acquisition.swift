import RiskContract
import RiskFeatures

extension Scorer {
    /// What would have to be learnt for a decision to change: the answer to "is a paid call for
    /// these signals worth making?".
    public struct AcquisitionNeed: Sendable, Equatable {
        /// The decision with the signals unknown, as the event stands.
        public var decision: Decision
        /// Every decision the event could get once the signals are known.
        public var possible: Set<Decision>
        /// The signals worth acquiring: those the model or a rule reads, when the decision can
        /// change; none when it cannot.
        public var members: Set<String>

        public var canChange: Bool { possible != [decision] }
    }

    /// The most joint completions of the unknown signals enumerated; beyond, every signal the
    /// model reads is taken as needed.
    public static let acquisitionCompletionLimit = 20_000

    /// Whether learning the `telco` members `unknown` (absent from `event`) could change its
    /// decision, taken jointly: every combination of the levels the model's features could read
    /// from them (crosses follow their parts), each scored by the model, and every rule whose
    /// condition they leave undecided taken both ways. Nothing is recorded in the history.
    ///
    /// Exact for the model's score range over the levels its features can take; a rule is taken
    /// as possibly holding whenever its condition reads an unknown member. A member the model
    /// reads as a number cannot be bounded: it is then needed.
    public func acquisitionNeed(_ event: ParsedEvent, unknown: Set<String>) -> AcquisitionNeed {
        let (model, policy, aggregates) = currentRowInputs(event)
        let extractor = model.extractor
        var row = [Double](repeating: 0, count: model.columns.count)
        row.withUnsafeMutableBufferPointer { buffer in
            aggregates.withUnsafeBufferPointer { extractor.fill(into: buffer, event, aggregates: $0) }
        }
        let probability = model.compiled.probability(raw: model.compiled.rawScore(row))
        let now = policy.decide(probability: probability, event: event).decision
        let prefixes = unknown.sorted().map { "telco." + $0 }
        let modelReads = Set(unknown.filter { !extractor.columns(readingUnder: ["telco." + $0]).isEmpty })
        let ruleReads = policy.members(readUndecided: prefixes, event: event)
        var (low, high) = (probability, probability)
        let readByModel = prefixes.filter { modelReads.contains(String($0.dropFirst("telco.".count))) }
        if let range = Self.probabilityRange(model: model, row: row, event: event, aggregates: aggregates, under: readByModel) {
            (low, high) = (min(low, range.lowerBound), max(high, range.upperBound))
        } else {
            (low, high) = (0, 1)
        }
        let possible = policy.possibleDecisions(probabilities: low...high, event: event, undecided: prefixes)
        let members = possible == [now] ? [] : modelReads.union(ruleReads)
        return AcquisitionNeed(decision: now, possible: possible, members: members)
    }
}

extension Scorer {
    /// Of the unknown `telco` members `among`, the one whose value alone (the others left unknown)
    /// moves the event's probability over the widest range per unit of `price`; `nil` when none
    /// moves it (a member read as a number counts as the whole range).
    public func mostDecisive(_ event: ParsedEvent, among members: Set<String>, price: (String) -> Double) -> String? {
        let (model, _, aggregates) = currentRowInputs(event)
        let extractor = model.extractor
        var row = [Double](repeating: 0, count: model.columns.count)
        row.withUnsafeMutableBufferPointer { buffer in
            aggregates.withUnsafeBufferPointer { extractor.fill(into: buffer, event, aggregates: $0) }
        }
        var best: (member: String, value: Double)?
        for member in members.sorted() {
            let range = Self.probabilityRange(model: model, row: row, event: event, aggregates: aggregates, under: ["telco." + member])
            let width = range.map { $0.upperBound - $0.lowerBound } ?? 1
            let value = width / max(price(member), 1e-9)
            if value > (best?.value ?? 0) { best = (member, value) }
        }
        return best?.member
    }
}

extension Scorer {
    /// The lowest and highest probability of `event` over the completions of the fields under
    /// `prefixes` (its probability now when they set no column); `nil` when they cannot be listed.
    ///
    /// Each completion's raw score is the row's, less the changing columns' contributions now,
    /// plus those of the columns it sets: the contributions of both model kinds (logistic
    /// regression's `wⱼ·xⱼ`, naive Bayes' per-column log-likelihood ratios) are per column, so a
    /// completion costs one addition per group instead of a whole row.
    static func probabilityRange(
        model: ServingModel, row: [Double], event: ParsedEvent, aggregates: [Double], under prefixes: [String]
    ) -> ClosedRange<Double>? {
        let raw = model.compiled.rawScore(row)
        guard !prefixes.isEmpty else {
            let p = model.compiled.probability(raw: raw)
            return p...p
        }
        guard
            let completions = model.extractor.completions(
                under: prefixes, of: event, aggregates: aggregates, limit: acquisitionCompletionLimit)
        else {
            return nil
        }
        guard completions.count > 0 else {
            let p = model.compiled.probability(raw: raw)
            return p...p
        }
        var off = row, on = row
        for group in completions.groups {
            for column in group {
                off[column] = 0
                on[column] = 1
            }
        }
        let now = model.compiled.contributions(row), zero = model.compiled.contributions(off), one = model.compiled.contributions(on)
        var base = raw
        var gain = [Double](repeating: 0, count: row.count)
        var changing = Set<Int>()
        for group in completions.groups { changing.formUnion(group) }
        for column in changing {
            base += zero[column] - now[column]
            gain[column] = one[column] - zero[column]
        }
        var lowRaw = Double.infinity, highRaw = -Double.infinity
        completions.forEach { on in
            var value = base
            for column in on where column >= 0 { value += gain[column] }
            lowRaw = min(lowRaw, value)
            highRaw = max(highRaw, value)
            return true
        }
        // Calibration is monotone: the extreme raw scores give the extreme probabilities.
        let low = model.compiled.probability(raw: lowRaw), high = model.compiled.probability(raw: highRaw)
        return min(low, high)...max(low, high)
    }
}

extension CompiledPolicy {
    /// The unknown members (`telco.x` → `x`) that some rule's condition reads while undecided.
    func members(readUndecided prefixes: [String], event: ParsedEvent) -> Set<String> {
        var members = Set<String>()
        for rule in rules where rule.when.holds(for: event, undecided: prefixes) == nil {
            for path in rule.when.paths {
                if let prefix = prefixes.first(where: { path == $0 || path.hasPrefix($0 + ".") }) {
                    members.insert(String(prefix.dropFirst("telco.".count)))
                }
            }
        }
        return members
    }

    /// Every decision an event could get with a probability in `probabilities` once the fields
    /// under `undecided` are known: the thresholds' decisions over the range, then each rule
    /// whose condition they leave undecided both applied and not.
    func possibleDecisions(probabilities: ClosedRange<Double>, event: ParsedEvent, undecided prefixes: [String]) -> Set<Decision> {
        let thresholds = policy.thresholds
        func byThreshold(_ p: Double) -> Decision {
            p >= thresholds.block ? .block : p >= thresholds.review ? .review : p >= thresholds.stepUp ? .stepUp : .allow
        }
        let range = Decision.allCases.filter { byThreshold(probabilities.lowerBound) <= $0 && $0 <= byThreshold(probabilities.upperBound) }
        let states = rules.map { $0.when.holds(for: event, undecided: prefixes) }
        let open = states.indices.filter { states[$0] == nil }
        guard open.count <= 12 else { return Set(Decision.allCases) }
        var possible = Set<Decision>()
        for start in range {
            for mask in 0..<(1 << open.count) {
                var decision = start
                for index in rules.indices {
                    let holds = states[index] ?? (mask & (1 << open.firstIndex(of: index)!) != 0)
                    guard holds else { continue }
                    if let floor = rules[index].atLeast, decision < floor { decision = floor }
                    if let ceiling = rules[index].atMost, decision > ceiling { decision = ceiling }
                }
                possible.insert(decision)
            }
        }
        return possible
    }
}
