import Foundation
import RiskContract
import RiskFeatures

/// What to do about a scored event: thresholds on the probability, then explicit rules that
/// override the model in either direction. Configuration (JSON), versioned; the version is
/// logged with every decision.
///
/// ```json
/// {"version": "2026-11-23.1",
///  "thresholds": {"step_up": 0.2, "review": 0.5, "block": 0.9},
///  "rules": [{"name": "sms-otp-to-unreachable-number", "at_least": "step_up",
///             "when": {"all": [{"path": "otp.channel", "equals": "sms"},
///                              {"path": "telco.reachability.connectivity", "lacks": "SMS"}]}}]}
/// ```
public struct DecisionPolicy: Sendable, Codable, Equatable {
    public var version: String
    public var thresholds: Thresholds
    public var rules: [Rule]

    public init(version: String, thresholds: Thresholds, rules: [Rule] = []) {
        self.version = version
        self.thresholds = thresholds
        self.rules = rules
    }

    /// Probabilities from which each decision applies (each ≥ the one before).
    public struct Thresholds: Sendable, Codable, Equatable {
        public var stepUp: Double
        public var review: Double
        public var block: Double

        public init(stepUp: Double, review: Double, block: Double) {
            self.stepUp = stepUp
            self.review = review
            self.block = block
        }

        enum CodingKeys: String, CodingKey {
            case review, block
            case stepUp = "step_up"
        }
    }

    /// When `when` holds, the decision is raised to at least `atLeast` and/or lowered to at most `atMost`.
    public struct Rule: Sendable, Codable, Equatable {
        public var name: String
        public var when: Condition
        public var atLeast: Decision?
        public var atMost: Decision?

        public init(name: String, when: Condition, atLeast: Decision? = nil, atMost: Decision? = nil) {
            self.name = name
            self.when = when
            self.atLeast = atLeast
            self.atMost = atMost
        }

        enum CodingKeys: String, CodingKey {
            case name, when
            case atLeast = "at_least"
            case atMost = "at_most"
        }
    }

    /// A test on the event. A field that is absent never satisfies `equals` or `has`, and always
    /// satisfies `unknown`: a missing signal is not read as safe.
    public indirect enum Condition: Sendable, Equatable {
        case all([Condition])
        case any([Condition])
        case not(Condition)
        /// The value at `path` equals `value` (a string, number or boolean).
        case equals(path: String, value: JSONValue)
        /// The list at `path` contains `value`.
        case has(path: String, value: String)
        /// The list at `path` is known and does not contain `value`.
        case lacks(path: String, value: String)
        /// Nothing is known at `path`.
        case unknown(path: String)
    }

    /// Whether a rule reads a field outside the event contract, which only an event's JSON tree
    /// holds: events scored with this policy must then be parsed keeping their tree, even when
    /// the model's features need none.
    public var needsJSON: Bool {
        func reads(_ condition: Condition) -> Bool {
            switch condition {
            case .all(let members), .any(let members): members.contains(where: reads)
            case .not(let member): reads(member)
            case .equals(let path, _), .has(let path, _), .lacks(let path, _), .unknown(let path): FieldPath(path).needsJSON
            }
        }
        return rules.contains { reads($0.when) }
    }

    /// The decision for an event with probability `probability`, and the rules that changed it.
    public func decide(probability: Double, event: ParsedEvent) -> (decision: Decision, rules: [String]) {
        CompiledPolicy(self).decide(probability: probability, event: event)
    }

    /// A policy's rule conditions compiled once, to find the rules whose condition holds for an
    /// event, whether or not they would change its decision: what a backtest counts as a rule's
    /// hits.
    public struct RuleMatcher: Sendable {
        private let conditions: [(name: String, condition: CompiledPolicy.CompiledCondition)]

        public init(_ policy: DecisionPolicy) {
            conditions = policy.rules.map { ($0.name, CompiledPolicy.CompiledCondition($0.when)) }
        }

        /// The names of the rules whose condition holds for `event`, in the policy's order.
        public func matching(_ event: ParsedEvent) -> [String] {
            conditions.filter { $0.condition.holds(for: event) }.map(\.name)
        }
    }
}

/// A policy with its field paths compiled once, for scoring many events.
struct CompiledPolicy: Sendable {
    let policy: DecisionPolicy
    let rules: [CompiledRule]

    init(_ policy: DecisionPolicy) {
        self.policy = policy
        rules = policy.rules.map { CompiledRule(name: $0.name, atLeast: $0.atLeast, atMost: $0.atMost, when: CompiledCondition($0.when)) }
    }

    struct CompiledRule: Sendable {
        var name: String
        var atLeast: Decision?
        var atMost: Decision?
        var when: CompiledCondition
    }

    /// A rule's condition compiled into one array: its tests in pre-order, each group (`all`,
    /// `any`, `not`) followed by its members and knowing where they end. Checking it walks the
    /// array, with none of the boxes and closures of the nested enum.
    struct CompiledCondition: Sendable {
        private enum Node: Sendable {
            case all(end: Int), any(end: Int), not(end: Int)
            case equals(FieldPath, JSONValue)
            case has(FieldPath, String)
            case lacks(FieldPath, String)
            case unknown(FieldPath)
        }

        private var nodes: [Node] = []

        init(_ condition: DecisionPolicy.Condition) {
            append(condition)
        }

        private mutating func append(_ condition: DecisionPolicy.Condition) {
            func group(_ members: [DecisionPolicy.Condition], _ node: (Int) -> Node) {
                let at = nodes.count
                nodes.append(node(at + 1))
                for member in members { append(member) }
                nodes[at] = node(nodes.count)
            }
            switch condition {
            case .all(let members): group(members) { .all(end: $0) }
            case .any(let members): group(members) { .any(end: $0) }
            case .not(let inner): group([inner]) { .not(end: $0) }
            case .equals(let path, let value): nodes.append(.equals(FieldPath(path), value))
            case .has(let path, let value): nodes.append(.has(FieldPath(path), value))
            case .lacks(let path, let value): nodes.append(.lacks(FieldPath(path), value))
            case .unknown(let path): nodes.append(.unknown(FieldPath(path)))
            }
        }

        func holds(for event: ParsedEvent) -> Bool {
            nodes.withUnsafeBufferPointer { Self.holds(at: 0, nodes: $0, event) }
        }

        /// The paths the condition reads.
        var paths: [String] {
            nodes.compactMap { node in
                switch node {
                case .equals(let path, _), .has(let path, _), .lacks(let path, _), .unknown(let path): path.path
                default: nil
                }
            }
        }

        /// Whether the condition holds once the fields under `undecided` (absent now) are known,
        /// whatever they turn out to be: `nil` when that depends on them (Kleene's three values:
        /// `all` is false when a member is, `any` true when a member is).
        func holds(for event: ParsedEvent, undecided: [String]) -> Bool? {
            nodes.withUnsafeBufferPointer { Self.holds(at: 0, nodes: $0, event, undecided: undecided) }
        }

        private static func holds(at index: Int, nodes: UnsafeBufferPointer<Node>, _ event: ParsedEvent, undecided: [String]) -> Bool? {
            func open(_ path: FieldPath) -> Bool {
                undecided.contains { path.path == $0 || path.path.hasPrefix($0 + ".") }
            }
            switch nodes[index] {
            case .all(let end):
                var result: Bool? = true
                for member in members(of: index, end: end, nodes: nodes) {
                    switch holds(at: member, nodes: nodes, event, undecided: undecided) {
                    case false?: return false
                    case nil: result = nil
                    default: break
                    }
                }
                return result
            case .any(let end):
                var result: Bool? = false
                for member in members(of: index, end: end, nodes: nodes) {
                    switch holds(at: member, nodes: nodes, event, undecided: undecided) {
                    case true?: return true
                    case nil: result = nil
                    default: break
                    }
                }
                return result
            case .not: return holds(at: index + 1, nodes: nodes, event, undecided: undecided).map { !$0 }
            case .equals(let path, _), .has(let path, _), .lacks(let path, _), .unknown(let path):
                return open(path) ? nil : holds(at: index, nodes: nodes, event)
            }
        }

        private static func holds(at index: Int, nodes: UnsafeBufferPointer<Node>, _ event: ParsedEvent) -> Bool {
            switch nodes[index] {
            case .all(let end): return members(of: index, end: end, nodes: nodes).allSatisfy { holds(at: $0, nodes: nodes, event) }
            case .any(let end): return members(of: index, end: end, nodes: nodes).contains { holds(at: $0, nodes: nodes, event) }
            case .not: return !holds(at: index + 1, nodes: nodes, event)
            case .equals(let path, let value): return path.equals(event, value)
            case .has(let path, let value): return path.listContains(event, value) == true
            case .lacks(let path, let value): return path.listContains(event, value) == false
            case .unknown(let path):
                let value = path.read(event)
                return value == nil || value == .null
            }
        }

        /// The indices of a group's direct members: each member's subtree ends where the next begins.
        private static func members(of group: Int, end: Int, nodes: UnsafeBufferPointer<Node>) -> UnfoldSequence<Int, Int> {
            sequence(state: group + 1) { next in
                guard next < end else { return nil }
                defer {
                    switch nodes[next] {
                    case .all(let end), .any(let end), .not(let end): next = end
                    default: next += 1
                    }
                }
                return next
            }
        }
    }

    func decide(probability: Double, event: ParsedEvent) -> (decision: Decision, rules: [String]) {
        let thresholds = policy.thresholds
        var decision: Decision =
            probability >= thresholds.block
            ? .block
            : probability >= thresholds.review
                ? .review
                : probability >= thresholds.stepUp ? .stepUp : .allow
        var applied: [String] = []
        // By index: iterating would copy each rule.
        for index in rules.indices where rules[index].when.holds(for: event) {
            let before = decision
            if let floor = rules[index].atLeast, decision < floor { decision = floor }
            if let ceiling = rules[index].atMost, decision > ceiling { decision = ceiling }
            if decision != before { applied.append(rules[index].name) }
        }
        return (decision, applied)
    }
}

extension DecisionPolicy {
    /// Checks the thresholds and rules; the error names what is wrong.
    public func validate() throws(ScoringError) {
        let t = thresholds
        guard (0...1).contains(t.stepUp), t.stepUp <= t.review, t.review <= t.block, t.block <= 1 else {
            throw .invalidPolicy(reason: "thresholds must satisfy 0 ≤ step_up ≤ review ≤ block ≤ 1")
        }
        for rule in rules where rule.atLeast == nil && rule.atMost == nil {
            throw .invalidPolicy(reason: "rule '\(rule.name)' needs at_least or at_most")
        }
    }

    /// The policy as JSON with sorted keys and no whitespace: the form the store records, so the
    /// same policy always has the same text.
    public var canonicalJSON: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            return String(decoding: try encoder.encode(self), as: UTF8.self)
        } catch {
            preconditionFailure("a decision policy always encodes: \(error)")
        }
    }

    /// Reads a policy from JSON and validates it.
    public static func decode(from data: Data) throws(ScoringError) -> DecisionPolicy {
        let policy: DecisionPolicy
        do {
            policy = try JSONDecoder().decode(DecisionPolicy.self, from: data)
        } catch {
            throw .invalidPolicy(reason: "\(error)")
        }
        try policy.validate()
        return policy
    }
}

/// What the bank does with the action, in increasing order of friction.
public enum Decision: String, Sendable, Codable, CaseIterable, Comparable {
    case allow
    /// Ask for a factor that is not an SMS: the SMS channel is what SS7 attacks defeat.
    case stepUp = "step_up"
    case review
    case block

    public static func < (lhs: Decision, rhs: Decision) -> Bool {
        lhs.friction < rhs.friction
    }

    /// The order of the cases (not `allCases.firstIndex`, which builds the list each time).
    private var friction: Int {
        switch self {
        case .allow: 0
        case .stepUp: 1
        case .review: 2
        case .block: 3
        }
    }
}

extension DecisionPolicy.Condition: Codable {
    enum CodingKeys: String, CodingKey {
        case all, any, not, path, equals, has, lacks, unknown
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        if let all = try c.decodeIfPresent([Self].self, forKey: .all) {
            self = .all(all)
        } else if let any = try c.decodeIfPresent([Self].self, forKey: .any) {
            self = .any(any)
        } else if let not = try c.decodeIfPresent(Self.self, forKey: .not) {
            self = .not(not)
        } else if let path = try c.decodeIfPresent(String.self, forKey: .path) {
            if let value = try c.decodeIfPresent(JSONValue.self, forKey: .equals) {
                self = .equals(path: path, value: value)
            } else if let value = try c.decodeIfPresent(String.self, forKey: .has) {
                self = .has(path: path, value: value)
            } else if let value = try c.decodeIfPresent(String.self, forKey: .lacks) {
                self = .lacks(path: path, value: value)
            } else if try c.decodeIfPresent(Bool.self, forKey: .unknown) == true {
                self = .unknown(path: path)
            } else {
                throw DecodingError.dataCorruptedError(
                    forKey: .path, in: c, debugDescription: "a condition on '\(path)' needs equals, has, lacks or unknown: true")
            }
        } else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "a condition is all, any, not, or a path with a test"))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .all(let conditions): try c.encode(conditions, forKey: .all)
        case .any(let conditions): try c.encode(conditions, forKey: .any)
        case .not(let condition): try c.encode(condition, forKey: .not)
        case .equals(let path, let value):
            try c.encode(path, forKey: .path)
            try c.encode(value, forKey: .equals)
        case .has(let path, let value):
            try c.encode(path, forKey: .path)
            try c.encode(value, forKey: .has)
        case .lacks(let path, let value):
            try c.encode(path, forKey: .path)
            try c.encode(value, forKey: .lacks)
        case .unknown(let path):
            try c.encode(path, forKey: .path)
            try c.encode(true, forKey: .unknown)
        }
    }
}
