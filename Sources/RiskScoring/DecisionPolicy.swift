import Foundation
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

    /// The decision for an event with probability `probability`, and the rules that changed it.
    public func decide(probability: Double, event: ParsedEvent) -> (decision: Decision, rules: [String]) {
        CompiledPolicy(self).decide(probability: probability, event: event)
    }
}

/// A policy with its field paths compiled once, for scoring many events.
struct CompiledPolicy: Sendable {
    let policy: DecisionPolicy
    private let conditions: [CompiledCondition]

    init(_ policy: DecisionPolicy) {
        self.policy = policy
        conditions = policy.rules.map { CompiledCondition($0.when) }
    }

    indirect enum CompiledCondition: Sendable {
        case all([CompiledCondition])
        case any([CompiledCondition])
        case not(CompiledCondition)
        case equals(FieldPath, JSONValue)
        case has(FieldPath, String)
        case lacks(FieldPath, String)
        case unknown(FieldPath)

        init(_ condition: DecisionPolicy.Condition) {
            switch condition {
            case .all(let list): self = .all(list.map(CompiledCondition.init))
            case .any(let list): self = .any(list.map(CompiledCondition.init))
            case .not(let inner): self = .not(CompiledCondition(inner))
            case .equals(let path, let value): self = .equals(FieldPath(path), value)
            case .has(let path, let value): self = .has(FieldPath(path), value)
            case .lacks(let path, let value): self = .lacks(FieldPath(path), value)
            case .unknown(let path): self = .unknown(FieldPath(path))
            }
        }

        func holds(for event: ParsedEvent) -> Bool {
            switch self {
            case .all(let conditions): return conditions.allSatisfy { $0.holds(for: event) }
            case .any(let conditions): return conditions.contains { $0.holds(for: event) }
            case .not(let condition): return !condition.holds(for: event)
            case .equals(let path, let value): return path.read(event) == value
            case .has(let path, let value):
                return path.listContains(event, value) == true
            case .lacks(let path, let value):
                return path.listContains(event, value) == false
            case .unknown(let path):
                let value = path.read(event)
                return value == nil || value == .null
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
        for (rule, condition) in zip(policy.rules, conditions) where condition.holds(for: event) {
            let before = decision
            if let floor = rule.atLeast, decision < floor { decision = floor }
            if let ceiling = rule.atMost, decision > ceiling { decision = ceiling }
            if decision != before { applied.append(rule.name) }
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
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
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
