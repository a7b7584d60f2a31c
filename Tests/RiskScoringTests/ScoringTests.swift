import Foundation
import RiskContract
import RiskFeatures
import RiskModels
import Testing

@testable import RiskScoring
@testable import RiskSimulator

/// A hand-built logistic model over a three-feature spec, so every number below is derivable.
enum Handmade {
    static let spec: FeatureSpec = {
        var swap = Feature(name: "sim_swap_age", kind: .timeSince, source: "telco.sim_swap.latest_change", description: "SIM swapped")
        swap.bucketsHours = [24]
        var forwarding = Feature(
            name: "forwarding", kind: .contains, source: "telco.call_forwarding", description: "unconditional call forwarding active")
        forwarding.value = "unconditional"
        var cross = Feature(name: "swap_x_payee", kind: .cross)
        cross.of = ["sim_swap_age", "payee.new"]
        return FeatureSpec(
            name: "handmade",
            features: [
                swap, forwarding,
                Feature(name: "payee.new", kind: .boolean, source: "payee.new", description: "first payment to this payee"), cross,
            ])
    }()

    /// Columns: sim_swap_age <24h, >=24h, none, unknown; forwarding true, false, unknown; payee.new true, false, unknown; then 12 cross columns.
    static func artifact(weights: [Double], intercept: Double, spec: FeatureSpec = spec) -> ModelArtifact {
        let extractor = try! FeatureExtractor(spec: spec)
        precondition(weights.count == extractor.columns.count)
        return ModelArtifact(
            algorithm: .logisticRegression, createdAt: Timestamp(millisecondsSinceEpoch: 0), featureSpec: spec.jsonValue,
            columns: extractor.columns, logisticRegression: LogisticModel(intercept: intercept, weights: weights),
            hyperparameters: .init(calibration: .none, holdout: "none"),
            training: .init(
                source: "hand", rows: 0, positives: 0, totalWeight: 0, dataSHA256: "", durationSeconds: 0, holdoutRows: 0,
                calibrationRows: 0),
            metrics: .init(holdout: nil))
    }

    static func weights(_ entries: [String: Double]) -> [Double] {
        let columns = try! FeatureExtractor(spec: spec).columns
        return columns.map { entries[$0] ?? 0 }
    }

    static func event(_ extra: String) throws -> ParsedEvent {
        try ParsedEvent(
            jsonLine: Array((#"{"id":"e1","occurred_at":"2026-03-01T12:00:00Z","customer_id":"c","kind":"payment","# + extra + "}").utf8))
    }

    static let policy = DecisionPolicy(version: "test-1", thresholds: .init(stepUp: 0.2, review: 0.5, block: 0.9))
}

@Suite struct ReasonTests {
    @Test func logisticReasonsAreTheLargestContributionsInWords() throws {
        let weights = Handmade.weights([
            "sim_swap_age=<24h": 1.5, "forwarding=true": 0.8, "payee.new=true": 0.3, "sim_swap_age=<24h&payee.new=true": 2.0,
            "payee.new=false": -0.5,
        ])
        let model = try ServingModel(Handmade.artifact(weights: weights, intercept: -3))
        let scorer = Scorer(model: model, policy: Handmade.policy)
        let score = scorer.score(
            try Handmade.event(
                #""payee":{"new":true},"telco":{"sim_swap":{"latest_change":"2026-03-01T09:00:00Z"},"call_forwarding":["unconditional"]}"#))
        // Raw score −3 + 1.5 + 0.8 + 0.3 + 2.0 = 1.6.
        #expect(abs(score.probability - 1 / (1 + exp(-1.6))) < 1e-12)
        #expect(score.reasons.map(\.column) == ["sim_swap_age=<24h&payee.new=true", "sim_swap_age=<24h", "forwarding=true"])
        #expect(score.reasons.map(\.contribution) == [2.0, 1.5, 0.8])
        #expect(score.reasons[0].text == "SIM swapped: under 24h (3 h before this event) and first payment to this payee")
        #expect(score.reasons[2].text == "unconditional call forwarding active")
        #expect(score.decision == .review && score.band == .high)
        #expect(score.modelId == model.artifact.id && score.specSHA256 == Handmade.spec.sha256 && score.policyVersion == "test-1")
    }

    @Test func naiveBayesReasonsAreLogLikelihoodRatios() throws {
        // Bernoulli columns only: P(x=1 | c) = (ones + 1) / (weight + 2). Fraud rows: swap <24h in 2 of 2; genuine: 0 of 4.
        let extractor = try FeatureExtractor(spec: Handmade.spec)
        let swap = try Handmade.event(#""telco":{"sim_swap":{"latest_change":"2026-03-01T09:00:00Z"}}"#)
        let calm = try Handmade.event(#""telco":{"sim_swap":{"latest_change":null}}"#)
        let rows = [swap, swap, calm, calm, calm, calm].map { extractor.vector($0) }
        let data = try TrainingData(
            features: Matrix(rows: 6, columns: extractor.columns.count, values: rows.flatMap { $0 }), labels: [1, 1, 0, 0, 0, 0],
            columns: extractor.columns)
        let naiveBayes = try NaiveBayes(kinds: Array(repeating: .bernoulli, count: extractor.columns.count)).fit(data)
        let artifact = ModelArtifact(
            algorithm: .naiveBayes, createdAt: Timestamp(millisecondsSinceEpoch: 0), featureSpec: Handmade.spec.jsonValue,
            columns: extractor.columns, naiveBayes: naiveBayes,
            hyperparameters: .init(naiveBayes: .init(), calibration: .none, holdout: "none"),
            training: .init(
                source: "hand", rows: 6, positives: 2, totalWeight: 6, dataSHA256: "", durationSeconds: 0, holdoutRows: 0,
                calibrationRows: 0),
            metrics: .init(holdout: nil))
        let score = Scorer(model: try ServingModel(artifact), policy: Handmade.policy, reasonCount: 1).score(swap)
        // sim_swap_age=<24h is 1: log((2+1)/(2+2)) − log((0+1)/(4+2)) = log(3/4 · 6).
        #expect(score.reasons.first?.column == "sim_swap_age=<24h")
        #expect(abs(score.reasons.first!.contribution - log(0.75 * 6)) < 1e-12)
    }

    @Test func aModelTrainedOnATableCannotServeEvents() {
        var artifact = Handmade.artifact(weights: Handmade.weights([:]), intercept: 0)
        artifact.featureSpec = .object(JSONObject([.init(key: "format", value: .string("riskloop.columns/1"))]))
        #expect(throws: ScoringError.self) { try ServingModel(artifact) }
    }
}

@Suite struct PolicyTests {
    static let policyJSON = """
        {"version": "p-7", "thresholds": {"step_up": 0.2, "review": 0.5, "block": 0.9}, "rules": [
          {"name": "sms-otp-to-a-redirected-number", "at_least": "step_up", "when": {"all": [
            {"path": "otp.channel", "equals": "sms"},
            {"any": [{"path": "telco.reachability.connectivity", "lacks": "SMS"},
                     {"path": "telco.call_forwarding", "has": "unconditional"},
                     {"path": "telco.roaming.roaming", "equals": true}]}]}},
          {"name": "branch-is-verified-in-person", "at_most": "allow", "when": {"path": "channel", "equals": "branch"}},
          {"name": "no-telco-answer-on-a-large-payment", "at_least": "review", "when": {"all": [
            {"path": "telco", "unknown": true}, {"not": {"path": "kind", "equals": "login"}}]}}]}
        """

    static let policy = try! DecisionPolicy.decode(from: Data(policyJSON.utf8))

    static func decide(_ probability: Double, _ extra: String) throws -> (Decision, [String]) {
        let decision = policy.decide(probability: probability, event: try Handmade.event(extra))
        return (decision.decision, decision.rules)
    }

    @Test func thresholdsMapProbabilitiesToDecisions() throws {
        let telco = #""telco":{"roaming":{"roaming":false}}"#
        #expect(try Self.decide(0.1, telco).0 == .allow)
        #expect(try Self.decide(0.2, telco).0 == .stepUp)
        #expect(try Self.decide(0.6, telco).0 == .review)
        #expect(try Self.decide(0.95, telco).0 == .block)
    }

    @Test(arguments: [
        #""otp":{"channel":"sms"},"telco":{"reachability":{"connectivity":["DATA"]}}"#,
        #""otp":{"channel":"sms"},"telco":{"call_forwarding":["unconditional"]}"#,
        #""otp":{"channel":"sms"},"telco":{"roaming":{"roaming":true}}"#,
    ])
    func anSMSCodeToARedirectedNumberForcesAStepUp(extra: String) throws {
        #expect(try Self.decide(0.01, extra) == (.stepUp, ["sms-otp-to-a-redirected-number"]))
        // Above the floor already: the rule changes nothing and is not reported.
        #expect(try Self.decide(0.95, extra) == (.block, []))
    }

    @Test func rulesDoNotFireOnSafeOrUnknownLists() throws {
        // Reachable by SMS, no forwarding, not roaming: the threshold decides.
        #expect(
            try Self.decide(
                0.01, #""otp":{"channel":"sms"},"telco":{"reachability":{"connectivity":["DATA","SMS"]},"call_forwarding":["inactive"]}"#
            ).0 == .allow)
        // An app OTP is not defeated by SS7.
        #expect(try Self.decide(0.01, #""otp":{"channel":"app"},"telco":{"call_forwarding":["unconditional"]}"#).0 == .allow)
    }

    /// `has` and `lacks` hold only on a list: the contract's lists are searched in the typed
    /// event, other lists (and records that are not events) in the JSON tree; the answers agree.
    @Test(arguments: [
        (#"["unconditional","conditional_busy"]"#, true, false), (#"["inactive"]"#, false, true), ("[]", false, true),
        (#""unconditional""#, false, false), ("null", false, false),
    ])
    func listConditionsHoldOnListsAlikeInTypedEventsAndRecords(list: String, has: Bool, lacks: Bool) throws {
        let policy = try DecisionPolicy.decode(
            from: Data(
                #"""
                {"version": "l-1", "thresholds": {"step_up": 0.2, "review": 0.5, "block": 0.9}, "rules": [
                  {"name": "has", "at_least": "step_up", "when": {"path": "telco.call_forwarding", "has": "unconditional"}},
                  {"name": "lacks", "at_least": "review", "when": {"path": "telco.call_forwarding", "lacks": "unconditional"}},
                  {"name": "other-has", "at_least": "block", "when": {"path": "extra.flags", "has": "unconditional"}}]}
                """#.utf8))
        let body =
            #"{"id":"e1","occurred_at":"2026-03-01T12:00:00Z","customer_id":"c","kind":"payment","extra":{"flags":\#(list)},"telco":{"call_forwarding":\#(list)}}"#
        let record = ParsedEvent(record: try JSONValue.parse(Array(body.utf8)))
        let expected = (has ? ["has"] : []) + (lacks ? ["lacks"] : [])
        #expect(policy.decide(probability: 0.01, event: record).rules == expected + (has ? ["other-has"] : []))
        // A typed event refuses a call forwarding that is not a list of known states.
        if lacks || has {
            #expect(
                policy.decide(probability: 0.01, event: try ParsedEvent(jsonLine: Array(body.utf8))).rules == expected
                    + (has ? ["other-has"] : []))
        }
    }

    @Test func rulesOverrideInBothDirections() throws {
        #expect(try Self.decide(0.95, #""channel":"branch","telco":{}"#) == (.allow, ["branch-is-verified-in-person"]))
        #expect(try Self.decide(0.01, #""amount":5000"#) == (.review, ["no-telco-answer-on-a-large-payment"]))
    }

    @Test func aBadPolicyIsRefusedWithItsReason() {
        #expect(throws: ScoringError.invalidPolicy(reason: "thresholds must satisfy 0 ≤ step_up ≤ review ≤ block ≤ 1")) {
            try DecisionPolicy.decode(from: Data(#"{"version":"x","thresholds":{"step_up":0.6,"review":0.5,"block":0.9},"rules":[]}"#.utf8))
        }
        #expect(throws: ScoringError.self) {
            try DecisionPolicy.decode(
                from: Data(
                    #"{"version":"x","thresholds":{"step_up":0.1,"review":0.5,"block":0.9},"rules":[{"name":"r","when":{"path":"kind","equals":"login"}}]}"#
                        .utf8))
        }
        #expect(throws: ScoringError.self) {
            try DecisionPolicy.decode(
                from: Data(
                    #"{"version":"x","thresholds":{"step_up":0.1,"review":0.5,"block":0.9},"rules":[{"name":"r","at_least":"review","when":{"path":"kind"}}]}"#
                        .utf8))
        }
    }
}

/// Whether a policy needs each event's JSON tree: only for a path outside the contract, however
/// deep in the conditions; the contract's fields and objects are read from the typed event.
@Suite struct PolicyJSONNeedTests {
    static func policy(_ when: DecisionPolicy.Condition) -> DecisionPolicy {
        DecisionPolicy(
            version: "j", thresholds: .init(stepUp: 0.1, review: 0.5, block: 0.9), rules: [.init(name: "r", when: when, atLeast: .review)])
    }

    @Test func onlyAPathOutsideTheContractNeedsTheTree() throws {
        #expect(!PolicyTests.policy.needsJSON)
        #expect(!DecisionPolicy(version: "none", thresholds: .init(stepUp: 0.1, review: 0.5, block: 0.9)).needsJSON)
        for path in ["otp.channel", "telco.roaming.last_status_time", "telco", "telco.sim_swap", "payee"] {
            #expect(!Self.policy(.unknown(path: path)).needsJSON, "\(path)")
        }
        for path in ["merchant.mcc", "telco.sim_swap.provider", "device.id.extra"] {
            #expect(Self.policy(.unknown(path: path)).needsJSON, "\(path)")
        }
        let deep = DecisionPolicy.Condition.all([
            .equals(path: "kind", value: .string("payment")),
            .any([.has(path: "telco.call_forwarding", value: "unconditional"), .not(.lacks(path: "merchant.tags", value: "atm"))]),
        ])
        #expect(Self.policy(deep).needsJSON)

        // What it protects: the same event, parsed with and without its tree, is decided alike
        // only when the policy needs none.
        let line = Array(
            #"{"id":"e1","occurred_at":"2026-02-10T13:05:00Z","customer_id":"c1","kind":"payment","merchant":{"mcc":"6051"}}"#.utf8)
        let withTree = try ParsedEvent(jsonLine: line, keepingJSON: true)
        let typedOnly = try ParsedEvent(jsonLine: line, keepingJSON: false)
        let outside = Self.policy(.equals(path: "merchant.mcc", value: .string("6051")))
        #expect(outside.decide(probability: 0, event: withTree).decision == .review)
        #expect(outside.decide(probability: 0, event: typedOnly).decision == .allow)
        let inside = Self.policy(.equals(path: "kind", value: .string("payment")))
        #expect(inside.decide(probability: 0, event: withTree).decision == inside.decide(probability: 0, event: typedOnly).decision)
    }
}

/// Conditions are checked by walking one flat array, and `equals` without building JSON; a
/// direct recursive reading of the nested conditions (through `FieldPath.read`) is the reference.
@Suite struct ConditionWalkTests {
    static func reference(_ condition: DecisionPolicy.Condition, _ event: ParsedEvent) -> Bool {
        switch condition {
        case .all(let members): members.allSatisfy { reference($0, event) }
        case .any(let members): members.contains { reference($0, event) }
        case .not(let inner): !reference(inner, event)
        case .equals(let path, let value): FieldPath(path).read(event) == value
        case .has(let path, let value):
            FieldPath(path).read(event).map { if case .array(let list) = $0 { list.contains(.string(value)) } else { false } } ?? false
        case .lacks(let path, let value):
            FieldPath(path).read(event).map { if case .array(let list) = $0 { !list.contains(.string(value)) } else { false } } ?? false
        case .unknown(let path): FieldPath(path).read(event).map { $0 == .null } ?? true
        }
    }

    /// Nested groups at several depths (a group inside `not`, empty groups, a group last in its
    /// parent) and every kind of equals: string, number, boolean, null, a timestamp, a container.
    static let conditions: [DecisionPolicy.Condition] = [
        .all([
            .equals(path: "otp.channel", value: .string("sms")),
            .any([
                .lacks(path: "telco.reachability.connectivity", value: "SMS"), .has(path: "telco.call_forwarding", value: "unconditional"),
                .equals(path: "telco.roaming.roaming", value: .bool(true)),
            ]),
        ]),
        .any([.not(.all([.equals(path: "kind", value: .string("payment")), .unknown(path: "ip.country")])), .any([])]),
        .all([.all([]), .unknown(path: "amount")]),
        .not(
            .any([
                .equals(path: "telco.sim_swap.latest_change", value: .null),
                .all([.unknown(path: "device"), .not(.unknown(path: "payee"))]),
            ])),
        .any([.equals(path: "telco.ss7.sri_for_sm_requests_24h", value: .number(1)), .equals(path: "device.rooted", value: .bool(false))]),
        .all([
            .not(.not(.equals(path: "channel", value: .string("app")))),
            .any([.unknown(path: "telco.ss7"), .has(path: "telco.roaming.country_codes", value: "GB")]),
        ]),
        .equals(path: "occurred_at", value: .string("2026-02-01T00:00:00Z")),
        .equals(path: "telco", value: .object(JSONObject())),
        .equals(path: "otp.channel", value: .null),
    ]

    @Test func theFlatWalkAgreesWithTheNestedConditionsOnSimulatedEvents() throws {
        var configuration = SimulationConfiguration(customers: 120, days: 10, seed: 5)
        configuration.driftAt = configuration.midpoint
        let events = try Simulation(configuration).events.map { ParsedEvent(event: $0) }
        var held = Array(repeating: 0, count: Self.conditions.count)
        for event in events {
            for (index, condition) in Self.conditions.enumerated() {
                let walked = CompiledPolicy.CompiledCondition(condition).holds(for: event)
                #expect(walked == Self.reference(condition, event), "condition \(index), event \(event.id ?? "")")
                if walked { held[index] += 1 }
            }
        }
        // Each condition both holds and fails on some events, except the ones that cannot
        // (an exact instant, a whole object, null for a present string).
        for index in 0..<6 {
            #expect(held[index] > 0 && held[index] < events.count, "condition \(index) held on \(held[index]) of \(events.count)")
        }
    }
}

/// Reasons write numbers with two decimals without Foundation's formatter; `%.2f` is the reference.
@Suite struct ReasonNumberTests {
    @Test func handWrittenNumbers() {
        #expect(Explainer.number(3) == "3")
        #expect(Explainer.number(-42) == "-42")
        #expect(Explainer.number(1234.5) == "1234.50")
        #expect(Explainer.number(0.07) == "0.07")
        #expect(Explainer.number(-0.5) == "-0.50")
        #expect(Explainer.number(2.999) == "3.00")
        #expect(Explainer.number(0.125) == "0.12")  // half to even, as printf
        #expect(Explainer.number(-0.004) == "-0.00")  // as printf
        #expect(Explainer.number(.nan) == "nan")
        #expect(Explainer.number(755_078_880_473.835) == "755078880473.83")  // printf's, past a billion
    }

    @Test func agreesWithPrintfOnSeededNumbers() {
        var generator = SeededGenerator(seed: 17)
        var disagreements: [String] = []
        for index in 0..<200_000 {
            let scale = [1.0, 100, 10_000, 1e6, 1e9, 1e12][index % 6]
            let value = Double.random(in: -scale...scale, using: &generator)
            let expected = value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(format: "%.2f", value)
            if Explainer.number(value) != expected { disagreements.append("\(value): \(Explainer.number(value)) ≠ \(expected)") }
        }
        // Multiplying by 100 rounds once more than printf's exact decimal expansion: a value a
        // hair from a half cent can land on the other side. Rare below a billion (larger numbers
        // go to printf), and one cent at most.
        #expect(disagreements.count < 20, "\(disagreements.count): \(disagreements.prefix(5))")
    }
}

@Suite struct HotSwapTests {
    @Test func swappingUnderConcurrentScoringNeverMixesModels() async throws {
        let modelA = try ServingModel(Handmade.artifact(weights: Handmade.weights(["forwarding=true": 1]), intercept: -2))
        let modelB = try ServingModel(Handmade.artifact(weights: Handmade.weights(["forwarding=true": 3]), intercept: -2))
        let probability = [modelA.artifact.id: 1 / (1 + exp(1.0)), modelB.artifact.id: 1 / (1 + exp(-1.0))]
        let scorer = Scorer(model: modelA, policy: Handmade.policy)
        let event = try Handmade.event(#""telco":{"call_forwarding":["unconditional"]}"#)
        let seen = await withTaskGroup(of: Set<String>.self) { group in
            for worker in 0..<4 {
                group.addTask {
                    var ids = Set<String>()
                    for round in 0..<2_000 {
                        let score = round % 3 == 0 ? scorer.score([event, event])[1] : scorer.score(event)
                        // Each score is wholly from one model: its id and its probability agree.
                        #expect(abs(score.probability - probability[score.modelId]!) < 1e-12)
                        ids.insert(score.modelId)
                        if worker == 0, round == 500 { scorer.swap(to: modelB) }
                    }
                    return ids
                }
            }
            return await group.reduce(into: Set<String>()) { $0.formUnion($1) }
        }
        #expect(seen == [modelA.artifact.id, modelB.artifact.id])
        #expect(scorer.score(event).modelId == modelB.artifact.id)
    }
}

extension HotSwapTests {
    /// The SS7 spec keeping `aggregates` of its six history features (all, four, none), with
    /// fixed weights: three specs whose histories have different widths.
    static func ss7Model(aggregates: Int) throws -> ServingModel {
        let root = URL(filePath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        var spec = try FeatureSpec.decode(from: Data(contentsOf: root.appending(path: "Models/ss7/feature-spec.json")))
        var kept = 0
        spec.features = spec.features.filter { feature in
            guard feature.kind == .aggregate || feature.kind == .fraudRate else { return true }
            kept += 1
            return kept <= aggregates
        }
        spec.name += "-\(aggregates)"
        let extractor = try FeatureExtractor(spec: spec)
        #expect(extractor.aggregateCount == aggregates)
        return try ServingModel(Handmade.artifact(weights: extractor.columns.indices.map { cos(Double($0)) }, intercept: -3, spec: spec))
    }

    /// Round 1 crashed here (a model read under one lock, the history of another spec under a
    /// second): every score must come wholly from one model and its own history.
    @Test func swappingBetweenSpecsWithOtherAggregatesUnderLoadNeverMixesThem() async throws {
        let models = try [6, 4, 0].map { try Self.ss7Model(aggregates: $0) }
        let specOfModel = Dictionary(uniqueKeysWithValues: models.map { ($0.artifact.id, $0.specSHA256) })
        let simulation = try Simulation(SimulationConfiguration(customers: 60, days: 5, seed: 3))
        let events = simulation.events.map { ParsedEvent(event: $0) }
        let scorer = Scorer(model: models[0], policy: Handmade.policy)
        let seen = await withTaskGroup(of: Set<String>.self) { group in
            group.addTask {
                for round in 0..<3_000 {
                    scorer.swap(to: models[round % 3])
                    if round % 100 == 0 { await Task.yield() }
                }
                return []
            }
            for worker in 0..<3 {
                group.addTask {
                    var ids = Set<String>()
                    for round in 0..<600 {
                        let start = (round * 7 + worker * 13) % (events.count - 8)
                        let scores =
                            round % 2 == 0 ? scorer.score(Array(events[start..<(start + 8)])) : [scorer.score(events[start])]
                        for score in scores {
                            #expect(score.specSHA256 == specOfModel[score.modelId])
                            ids.insert(score.modelId)
                        }
                    }
                    return ids
                }
            }
            return await group.reduce(into: Set<String>()) { $0.formUnion($1) }
        }
        #expect(seen.isSubset(of: Set(models.map(\.artifact.id))))
    }

    /// A model with another spec gets its history before it takes traffic; with the same spec the
    /// history carries over.
    @Test func swappingToAnotherSpecWarmsItsHistoryFirst() throws {
        let six = try Self.ss7Model(aggregates: 6), four = try Self.ss7Model(aggregates: 4)
        let simulation = try Simulation(SimulationConfiguration(customers: 40, days: 4, seed: 5))
        let events = simulation.events.map { ParsedEvent(event: $0) }
        let half = events.count / 2
        let reference = Scorer(model: four, policy: Handmade.policy)
        let expected = reference.score(events)
        let scorer = Scorer(model: six, policy: Handmade.policy)
        _ = scorer.score(Array(events[..<half]))
        var warmedWhileOldScored = false
        scorer.swap(to: four) { staging in
            _ = staging.score(Array(events[..<half]))
            // The old model still answers while the new one warms.
            warmedWhileOldScored = scorer.model.artifact.id == six.artifact.id
        }
        #expect(warmedWhileOldScored)
        #expect(scorer.score(Array(events[half...])) == Array(expected[half...]))
    }
}

@Suite struct BatchScoringTests {
    /// The default SS7 spec (aggregates and a fraud rate included) with arbitrary fixed weights:
    /// equality, not quality, is under test.
    static func ss7Model() throws -> ServingModel {
        let root = URL(filePath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let spec = try FeatureSpec.decode(from: Data(contentsOf: root.appending(path: "Models/ss7/feature-spec.json")))
        let extractor = try FeatureExtractor(spec: spec)
        let weights = extractor.columns.indices.map { sin(Double($0)) }
        return try ServingModel(Handmade.artifact(weights: weights, intercept: -4, spec: spec))
    }

    @Test func aBatchScoresExactlyAsEventByEventWithHistoryAndLabels() throws {
        let model = try Self.ss7Model()
        let simulation = try Simulation(SimulationConfiguration(customers: 150, days: 20, seed: 11))
        let events = simulation.events.map { ParsedEvent(event: $0) }
        let labels = simulation.labels.filter { $0.reportedAt < simulation.events[events.count / 2].occurredAt }
        let policy = try DecisionPolicy.decode(
            from: Data(
                contentsOf: URL(filePath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
                    .appending(path: "Models/ss7/policy.json")))
        let one = Scorer(model: model, policy: policy), batch = Scorer(model: model, policy: policy)
        for label in labels {
            one.observe(label)
            batch.observe(label)
        }
        let expected = events.map { one.score($0) }
        // In two batches: the second continues the history the first left.
        let half = events.count / 2
        let scored = batch.score(Array(events[..<half])) + batch.score(Array(events[half...]))
        #expect(scored.count == expected.count)
        for index in expected.indices where scored[index] != expected[index] {
            Issue.record("event \(index): \(scored[index]) ≠ \(expected[index])")
            break
        }
        // The data exercise the reasons and the history: some scores carry reasons from aggregates.
        #expect(expected.contains { $0.reasons.contains { $0.column.hasPrefix("customer.") || $0.column.hasPrefix("device.") } })
    }
}

extension BatchScoringTests {
    /// A spec without aggregates: no history pass, each row's aggregates empty.
    @Test func aBatchWithoutHistoryScoresAsOneByOne() throws {
        let weights = Handmade.weights(["sim_swap_age=<24h": 2, "forwarding=true": 1.5, "sim_swap_age=<24h&payee.new=true": 1])
        let model = try ServingModel(Handmade.artifact(weights: weights, intercept: -3))
        let events = try [
            #""telco":{"sim_swap":{"latest_change":"2026-03-01T09:00:00Z"},"call_forwarding":["unconditional"]},"payee":{"new":true}"#,
            #""telco":{"sim_swap":{"latest_change":null}}"#, #""payee":{"new":false}"#,
        ].map(Handmade.event)
        let one = Scorer(model: model, policy: Handmade.policy), batch = Scorer(model: model, policy: Handmade.policy)
        #expect(batch.score(events) == events.map { one.score($0) })
        #expect(
            batch.score(events)[0].reasons.map(\.column) == [
                "sim_swap_age=<24h", "forwarding=true", "sim_swap_age=<24h&payee.new=true",
            ])
    }
}

/// The service writes scores without `JSONEncoder`; Foundation's encoder is the reference.
@Suite struct ScoreJSONTests {
    static func encoded(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    static let awkward: [RiskScore] = {
        let texts = [
            "", "plain", "a/b \"quoted\" back\\slash", "tab\tnew\nline\r", "\u{0}\u{1}\u{8}\u{C}\u{1B}\u{1F}\u{7F}",
            "é ünïcode → 🛰️ \u{2028}", "under 24 h (3 h before this event)",
        ]
        let numbers = [
            0, -0.0, 1, -1, 0.1, 0.30000000000000004, 1e-5, 1e-7, 2.5e-3, .leastNonzeroMagnitude, .leastNormalMagnitude, 12345.678, 1e15,
            1e16,
            1.2345678901234568e+17, 1e21, -3.75, .greatestFiniteMagnitude,
        ]
        return numbers.enumerated().map { index, number in
            RiskScore(
                eventId: index.isMultiple(of: 3) ? nil : texts[index % texts.count], probability: number,
                band: [.low, .elevated, .high, .critical][index % 4], decision: Decision.allCases[index % 4],
                rulesApplied: Array(texts.prefix(index % 3)),
                reasons: (0..<(index % 4)).map {
                    RiskScore.Reason(
                        column: texts[($0 + index) % texts.count], text: texts[($0 + 2 * index) % texts.count],
                        contribution: numbers[($0 + 5) % numbers.count])
                }, modelId: texts[index % texts.count], specSHA256: String(repeating: "ab", count: 32), policyVersion: "v\(index)")
        }
    }()

    @Test func awkwardStringsAndNumbersMatchJSONEncoder() throws {
        for score in Self.awkward {
            #expect(score.jsonText() == (try Self.encoded(score)))
            #expect(score.reasonsJSON == (try Self.encoded(score.reasons)))
            #expect(score.jsonText(reasons: score.reasonsJSON) == score.jsonText())
        }
    }

    @Test func servedScoresMatchJSONEncoder() throws {
        let model = try BatchScoringTests.ss7Model()
        let policy = try DecisionPolicy.decode(
            from: Data(
                contentsOf: URL(filePath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
                    .appending(path: "Models/ss7/policy.json")))
        let simulation = try Simulation(SimulationConfiguration(customers: 60, days: 10, seed: 5))
        let scores = Scorer(model: model, policy: policy).score(simulation.events.map { ParsedEvent(event: $0) })
        #expect(scores.contains { !$0.rulesApplied.isEmpty } && scores.contains { $0.reasons.count == 3 })
        for score in scores where score.jsonText() != (try Self.encoded(score)) {
            Issue.record("\(try Self.encoded(score)) ≠ \(score.jsonText())")
            break
        }
    }

    @Test func aHandWrittenScore() {
        let score = RiskScore(
            eventId: "e/1", probability: 0.25, band: .elevated, decision: .stepUp, rulesApplied: ["otp_sms_forwarded"],
            reasons: [RiskScore.Reason(column: "forwarding=true", text: "call \"forwarding\"", contribution: 2)], modelId: "m1",
            specSHA256: "00", policyVersion: "3")
        #expect(
            score.jsonText()
                == #"{"band":"elevated","decision":"step_up","event_id":"e/1","model_id":"m1","policy_version":"3","probability":0.25,"reasons":[{"column":"forwarding=true","contribution":2,"text":"call \"forwarding\""}],"rules_applied":["otp_sms_forwarded"],"spec_sha256":"00"}"#
        )
        var infinite = score
        infinite.probability = .nan
        infinite.reasons[0].contribution = -.infinity
        #expect(infinite.jsonText().contains(#""probability":null"#) && infinite.reasonsJSON.contains(#""contribution":null"#))
    }
}

/// Bins read in words: which share of the training rows a learnt bin holds, and its edges.
@Suite struct BinWordsTests {
    @Test func learntAndFixedBinsInWords() throws {
        var amount = Feature(name: "amount", kind: .numeric, source: "amount", description: "payment amount")
        amount.bins = .init(quantiles: 10, edges: [10, 20, 412.5], edgeQuantiles: [0.3, 0.5, 0.9])
        let payee = Feature(name: "payee.new", kind: .boolean, source: "payee.new", description: "new payee")
        var cross = Feature(name: "amount_x_payee", kind: .cross)
        cross.of = ["amount", "payee.new"]
        var fixed = Feature(name: "fixed", kind: .numeric, source: "amount", description: "amount")
        fixed.bins = .init(edges: [50, 200])
        let extractor = try FeatureExtractor(spec: FeatureSpec(name: "words", features: [amount, payee, cross, fixed]))
        let meanings = Dictionary(uniqueKeysWithValues: zip(extractor.columns, extractor.columnMeanings))
        #expect(meanings["amount=<10"] == "payment amount in the bottom 30% (< 10)")
        #expect(meanings["amount=[10,20)"] == "payment amount between the 30% and 50% marks (10 to under 20)")
        #expect(meanings["amount=>=412.5"] == "payment amount in the top 10% (≥ 412.50)")
        #expect(meanings["amount=unknown"] == "payment amount: unknown")
        #expect(meanings["amount=>=412.5&payee.new=true"] == "payment amount in the top 10% (≥ 412.50) and new payee")
        #expect(meanings["fixed=<50"] == "amount < 50")
        #expect(meanings["fixed=[50,200)"] == "amount from 50 to under 200")
        #expect(meanings["fixed=>=200"] == "amount ≥ 200")
    }
}
