import AsyncHTTPClient
import Benchmark
import Foundation
import JWTKit
import RiskContract
import RiskOperatorStub
import RiskScoring
import RiskSignals
import RiskSimulator
import Synchronization

/// The cost enrichment adds to a request whose every answer is cached: what `riskloop serve
/// --operators` does before scoring an event that names the customer's line and no telco
/// signals, when the cache (or the notifications) know all six.
///
/// Target (issue: signals from the operators): under 2 µs per request. The event is then scored
/// as if it had carried the signals itself, so this step is the whole difference.
///
/// The cache is filled in the setup by real calls to a stub operator (over HTTP, in this
/// process) answering from the simulator's operator view; the measured step makes no call.
let benchmarks: @Sendable () -> Void = {
    let configuration = Benchmark.Configuration(
        metrics: [.wallClock, .mallocCountTotal], timeUnits: .nanoseconds, warmupIterations: 1_000, maxDuration: .seconds(10),
        maxIterations: 100_000)

    Benchmark("request carrying its telco signals: read the event", configuration: configuration) { benchmark, fixture in
        let item = fixture.cached[benchmark.currentIteration % fixture.cached.count]
        benchmark.startMeasurement()
        blackHole(try ParsedEvent(jsonLine: item.sentWithTelco.utf8, keepingJSON: false))
        benchmark.stopMeasurement()
    } setup: {
        try await EnrichmentFixture.shared()
    }

    /// Reads each of `items`' events as sent and enriches it from the cache.
    func enriching(_ name: String, _ items: @escaping @Sendable (EnrichmentFixture) -> [EnrichmentFixture.Item]) {
        Benchmark(name, configuration: configuration) { benchmark, fixture in
            let list = items(fixture)
            let item = list[benchmark.currentIteration % list.count]
            benchmark.startMeasurement()
            let event = try ParsedEvent(jsonLine: item.payload.utf8, keepingJSON: false)
            let free = fixture.enricher.free(event, at: item.time, strategy: .costAware)
            blackHole(free.enrichment.completed(event, payload: item.payload))
            benchmark.stopMeasurement()
        } setup: {
            try await EnrichmentFixture.shared()
        }
    }
    enriching("request naming the line, six answers cached: read the event, enrich it (cache, completed event, origins)") {
        $0.cached
    }
    enriching("the same, the event carrying an SS7 counter in a telco object of its own (its JSON written again whole)") {
        $0.carrying
    }
}

final class EnrichmentFixture: Sendable {
    struct Item: Sendable {
        var event: ParsedEvent
        var payload: String
        var time: Timestamp
        /// The same event sent with the six signals in it, as the enrichment completes it.
        var sentWithTelco = ""
    }

    let enricher: Enricher
    /// Events whose six answers the cache holds.
    let cached: [Item]
    /// The same events, each carrying an SS7 counter in a telco object of its own.
    let carrying: [Item]

    init(enricher: Enricher, cached: [Item], carrying: [Item]) {
        self.enricher = enricher
        self.cached = cached
        self.carrying = carrying
    }

    /// One fixture for the three benchmarks (its cache is filled by some thousands of calls).
    static func shared() async throws -> EnrichmentFixture {
        if let made = made.withLock({ $0 }) { return made }
        let fixture = try await make()
        made.withLock { $0 = fixture }
        return fixture
    }
    private static let made = Mutex<EnrichmentFixture?>(nil)

    static func make() async throws -> EnrichmentFixture {
        let directory = FileManager.default.temporaryDirectory.appending(path: "riskloop-enrichment-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let simulation = try Simulation(SimulationConfiguration(customers: 300, days: 10, seed: 5))
        try simulation.writeOperatorView(to: directory)
        let view = try OperatorView.read(from: directory.appending(path: Simulation.operatorViewFileName))
        let key = ES256PrivateKey()
        try key.pemRepresentation.write(to: directory.appending(path: "client.pem"), atomically: true, encoding: .utf8)
        let stub = await OperatorStub(view: view, clients: ["bench": key.publicKey])
        let sent = try simulation.events.prefix(2_000).map { event in
            let line = JSONLine.encode(simulation.withoutTelco(event))
            return Item(
                event: try ParsedEvent(jsonLine: line, keepingJSON: false), payload: String(decoding: line, as: UTF8.self),
                time: event.occurredAt)
        }
        let enricher = try await stub.whileServing { url in
            let file = directory.appending(path: "operators.json")
            let apis = OperatorAPI.allCases.map { #""\#($0.rawValue)": {"price": 0.01}"# }.joined(separator: ", ")
            try #"""
            {"operators": [{"name": "stub", "prefixes": ["+"], "base_url": "\#(url)", "token_url": "\#(url)\#(OperatorStub.tokenPath)",
              "client_id": "bench", "credentials_file": "client.pem", "apis": {\#(apis)}}]}
            """#.write(to: file, atomically: true, encoding: .utf8)
            let enricher = try Enricher(configuration: try OperatorConfiguration.read(from: file), http: .shared, sendsAsOf: true)
            for item in sent { _ = await enricher.enrich(item.event.event!, at: item.time) }
            return enricher
        }
        // Only events whose six answers are cached values (not a cached 404 or 422).
        let cached = sent.compactMap { item -> Item? in
            let free = enricher.free(item.event, at: item.time, strategy: .costAware)
            guard !free.paid, free.enrichment.values.count == OperatorAPI.allCases.count else { return nil }
            var item = item
            item.sentWithTelco = free.enrichment.completed(item.event, payload: item.payload).payload
            return item
        }
        guard cached.count >= 100 else { throw CocoaError(.featureUnsupported) }
        let carrying = try cached.map { item in
            let line = String(item.payload.dropLast()) + #","telco":{"ss7":{"sri_for_sm_requests_24h":1}}}"#
            return Item(event: try ParsedEvent(jsonLine: Array(line.utf8), keepingJSON: false), payload: line, time: item.time)
        }
        return EnrichmentFixture(enricher: enricher, cached: cached, carrying: carrying)
    }
}
