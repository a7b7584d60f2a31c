import AsyncHTTPClient
import Foundation
import JWTKit
import RiskContract
import RiskEngine
import RiskOperatorStub
import RiskScoring
import RiskSignals
import RiskSimulator
import RiskStore
import Synchronization

/// What one acquisition strategy did over the replay: the operator calls it paid for, and the
/// fraud it caught (not allowed) and missed (allowed).
struct StrategyTally: Codable, Sendable, Equatable {
    var calls = 0
    var cost = 0.0
    var fraudCaught = 0
    var fraudMissed = 0

    enum CodingKeys: String, CodingKey {
        case calls, cost
        case fraudCaught = "fraud_caught"
        case fraudMissed = "fraud_missed"
    }
}

/// `report.json`'s `operators`: each strategy's tally.
struct OperatorTallies: Codable, Sendable, Equatable {
    var always: StrategyTally
    var costAware: StrategyTally
    var never: StrategyTally

    enum CodingKeys: String, CodingKey {
        case always, never
        case costAware = "cost_aware"
    }
}

/// `riskloop demo --operators stub`: the replay's events come with the customer's line and no
/// telco object, and every signal is asked of a stub operator (in this process, over HTTP)
/// answering from the simulator's operator view as of each event's time.
///
/// One pass computes the three strategies. Each has its own enricher (and cache): `always`
/// asks every missing signal, `cost_aware` only what could change the decision (plus its
/// explore share), `never` nothing. Each pays for the calls it makes; a question two strategies
/// ask about the same line at the same event goes over HTTP once (``SharedAnswers``), since the
/// operator would answer both the same. The adapting champion decides with the cost-aware event,
/// which is logged and stored (the production path); the always and never events are decided by
/// the same scorer without entering its history. Events are enriched in chunks of
/// ``chunkSize`` at once, each acquisition decision seeing the history as of its chunk's start.
final class OperatorDecider: ReplayDecider {
    let loop: FeedbackLoop
    let scorer: Scorer
    let enrichers: [AcquisitionStrategy: Enricher]
    let isFraud: [String: Bool]
    private let tallies = Mutex([AcquisitionStrategy: StrategyTally]())
    /// The stub's answers within a chunk, shared by the three strategies: each question about a
    /// line at an event's instant goes over HTTP once, and each strategy asking it pays its call.
    let shared = SharedAnswers()
    static let chunkSize = 64

    /// The demo's prices per call (a currency unit of the reader's choosing): SIM swap and
    /// call forwarding dearest, as the anti-fraud APIs operators charge most for.
    static let prices: [OperatorAPI: Double] = [
        .simSwap: 0.05, .deviceSwap: 0.03, .callForwarding: 0.04, .roaming: 0.02, .reachability: 0.01, .numberRecycling: 0.02,
    ]

    init(loop: FeedbackLoop, scorer: Scorer, configuration: OperatorConfiguration, isFraud: [String: Bool]) throws {
        self.loop = loop
        self.scorer = scorer
        self.isFraud = isFraud
        var enrichers: [AcquisitionStrategy: Enricher] = [:]
        for strategy in AcquisitionStrategy.allCases {
            enrichers[strategy] = try Enricher(configuration: configuration, http: .shared, sendsAsOf: true, shared: shared)
        }
        self.enrichers = enrichers
    }

    var result: OperatorTallies {
        tallies.withLock {
            OperatorTallies(always: $0[.always] ?? .init(), costAware: $0[.costAware] ?? .init(), never: $0[.never] ?? .init())
        }
    }

    func championId() async -> String { scorer.model.artifact.id }

    func decide(_ events: [(event: ParsedEvent, payload: String)], labels: [Label], day: Timestamp) async throws(EngineError)
        -> [ReplayDecision]
    {
        for label in labels { scorer.observe(label) }
        var decisions: [ReplayDecision] = []
        var records: [DecisionRecord] = []
        for start in stride(from: 0, to: events.count, by: Self.chunkSize) {
            let chunk = Array(events[start..<min(start + Self.chunkSize, events.count)])
            let enriched = await withTaskGroup(of: (Int, AcquisitionStrategy, Enrichment).self) { group in
                for (index, item) in chunk.enumerated() {
                    for (strategy, enricher) in enrichers {
                        group.addTask {
                            let now = item.event.time ?? day
                            return (index, strategy, await enricher.enrich(item.event, at: now, strategy: strategy, scorer: self.scorer))
                        }
                    }
                }
                var enriched = [[AcquisitionStrategy: Enrichment]](repeating: [:], count: chunk.count)
                for await (index, strategy, enrichment) in group { enriched[index][strategy] = enrichment }
                return enriched
            }
            shared.forget()
            for (index, item) in chunk.enumerated() {
                guard let typed = item.event.event else { continue }
                let fraud = isFraud[typed.id] ?? false
                var outcome: [AcquisitionStrategy: Decision] = [:]
                // The other strategies first, as what-ifs on the history before this event.
                for strategy in [AcquisitionStrategy.always, .never] {
                    let completed = enriched[index][strategy]!.parsed(item.event)
                    outcome[strategy] = scorer.acquisitionNeed(completed, unknown: []).decision
                }
                let chosen = enriched[index][.costAware]!.completed(item.event, payload: item.payload)
                let score = scorer.score(chosen.event)
                outcome[.costAware] = score.decision
                tallies.withLock { tallies in
                    for (strategy, decision) in outcome {
                        var tally = tallies[strategy] ?? .init()
                        tally.calls += enriched[index][strategy]!.calls
                        tally.cost += enriched[index][strategy]!.cost
                        if fraud {
                            if decision == .allow { tally.fraudMissed += 1 } else { tally.fraudCaught += 1 }
                        }
                        tallies[strategy] = tally
                    }
                }
                records.append(
                    DecisionRecord(
                        event: chosen.event.event ?? typed, payload: chosen.payload, decidedAt: typed.occurredAt, modelId: score.modelId,
                        policyVersion: score.policyVersion, score: score.probability, decision: score.decision.rawValue,
                        reasons: score.reasonsJSON, signals: chosen.signals))
                decisions.append(ReplayDecision(probability: score.probability, decision: score.decision))
            }
        }
        do {
            try await loop.store.log(records)
            _ = try await loop.store.ingest(labels: labels, source: "replay \(day.rfc3339)")
        } catch {
            throw .store(error)
        }
        return decisions
    }

    func heard(_ labels: [Label]) async throws(EngineError) {
        for label in labels { scorer.observe(label) }
    }

    func midnight(_ asOf: Timestamp) async throws(EngineError) -> RetrainCycleRecord? {
        guard case .ran(let cycle) = try await loop.runCycle(asOf: asOf) else { return nil }
        if cycle.record.outcome == .promoted { scorer.swap(to: try FeedbackReplay.serving(cycle.challenger)) }
        return cycle.record
    }

    /// The stub's configuration as RiskLoop reads it: every API at ``prices``, a deadline the
    /// stub (no injected latency) always meets, the default cost-aware explore share.
    static func configuration(baseURL: String, keyFile: URL) throws -> OperatorConfiguration {
        let file = keyFile.deletingLastPathComponent().appending(path: "operators.json")
        let apis = prices.sorted { $0.key < $1.key }.map { #""\#($0.key.rawValue)": {"price": \#($0.value)}"# }.joined(separator: ", ")
        try """
        {"deadline_ms": 30000, "acquisition": "cost_aware", "operators": [{"name": "stub", "prefixes": ["+"], "base_url": "\(baseURL)",
          "token_url": "\(baseURL)\(OperatorStub.tokenPath)", "client_id": "riskloop-demo", "credentials_file": "\(keyFile.lastPathComponent)",
          "apis": {\(apis)}}]}
        """.write(to: file, atomically: true, encoding: .utf8)
        return try OperatorConfiguration.read(from: file)
    }

    /// Renders the tallies beside the weekly table, with the HTTP requests the pass sent to the
    /// stub (`requests`: each question once, however many strategies asked it).
    static func render(_ tallies: OperatorTallies, events: Int, requests: Int) -> String {
        var lines = ["   operator signals      calls   cost / 1,000 events   fraud caught   fraud missed"]
        for (name, tally) in [("always", tallies.always), ("cost-aware", tallies.costAware), ("never", tallies.never)] {
            let perThousand = events > 0 ? tally.cost / Double(events) * 1000 : 0
            let padded = name.padding(toLength: 18, withPad: " ", startingAt: 0)
            lines.append(
                "   " + padded
                    + String(format: " %9d   %19.2f   %12d   %12d", tally.calls, perThousand, tally.fraudCaught, tally.fraudMissed))
        }
        lines.append(
            "   \(requests.grouped) HTTP requests to the stub: a question two strategies ask about the same event is sent once, and each pays for it."
        )
        return lines.joined(separator: "\n")
    }
}
