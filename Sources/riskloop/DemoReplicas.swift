import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import RiskContract
import RiskEngine
import RiskScoring
import RiskStore

/// `riskloop serve` processes started by `riskloop demo --replicas`, on one store and consecutive
/// ports, each logging to `<dir>/replica-N.log`.
final class ReplicaProcesses {
    struct Replica: Sendable {
        var name: String
        var url: String
        var log: String
    }

    let replicas: [Replica]
    private var processes: [Process] = []

    /// Starts `count` servers on `database` with `policy` and `retrainPolicy`, their history
    /// warmed as of `historyAsOf`, and waits until each answers `GET /healthz`.
    init(
        count: Int, firstPort: Int, database: String, policy: String, retrainPolicy: String, historyAsOf: Timestamp, directory: URL,
        client: HTTPClient
    ) async throws {
        let executable = Bundle.main.executableURL ?? URL(filePath: "/proc/self/exe")
        replicas = (1...count).map { number in
            Replica(
                name: "replica-\(number)", url: "http://127.0.0.1:\(firstPort + number - 1)",
                log: directory.appending(path: "replica-\(number).log").path)
        }
        for (index, replica) in replicas.enumerated() {
            _ = FileManager.default.createFile(atPath: replica.log, contents: nil)
            let process = Process()
            process.executableURL = executable
            process.arguments = [
                "serve", "--port", "\(firstPort + index)", "--replica", replica.name, "--policy", policy,
                "--retrain-policy", retrainPolicy, "--history-as-of", historyAsOf.rfc3339,
            ]
            // The store by environment, so that a password in its URL stays out of the process list.
            var environment = ProcessInfo.processInfo.environment
            environment["RISKLOOP_DB"] = database
            process.environment = environment
            let output = try FileHandle(forWritingTo: URL(filePath: replica.log))
            process.standardOutput = output
            process.standardError = output
            try process.run()
            processes.append(process)
        }
        for (index, replica) in replicas.enumerated() {
            try await waitUntilServing(replica, process: processes[index], client: client)
        }
    }

    /// The longest a server may take to warm its history and listen.
    static let startSeconds = 120.0

    private func waitUntilServing(_ replica: Replica, process: Process, client: HTTPClient) async throws {
        let deadline = Date().addingTimeInterval(Self.startSeconds)
        while Date() < deadline {
            guard process.isRunning else {
                let log = (try? String(contentsOfFile: replica.log, encoding: .utf8)) ?? ""
                throw CLIError.fail(
                    "\(replica.name) exited with status \(process.terminationStatus) before serving; its log (\(replica.log)) ends:\n"
                        + log.split(separator: "\n").suffix(5).joined(separator: "\n"), status: CLIError.internalFailure)
            }
            if let response = try? await client.execute(HTTPClientRequest(url: replica.url + "/healthz"), timeout: .seconds(1)),
                response.status == .ok
            {
                return
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw CLIError.fail(
            "\(replica.name) did not answer GET /healthz within \(Int(Self.startSeconds)) s; see \(replica.log)",
            status: CLIError.internalFailure)
    }

    /// Stops every server (SIGTERM: each finishes its requests in flight) and waits for it.
    func stop() {
        for process in processes where process.isRunning { process.terminate() }
        for process in processes { process.waitUntilExit() }
        processes = []
    }

    deinit { stop() }
}

/// The adapting decisions of `riskloop demo --replicas`, made by `riskloop serve` replicas over
/// HTTP: each day's label versions go to one replica (`POST /v1/labels`), its events in chunks of
/// ``eventsPerTurn`` to each replica in turn (`POST /v1/score`), and the midnight cycle to one
/// (`POST /v1/retrain?as_of=`).
///
/// Before a replica takes a chunk, the demo waits until that replica's entity history has applied
/// everything the store's log held after the previous call (its `riskloop_history_position`), so
/// each decision sees what a single server would have seen; the waits measure the history lag.
/// After a promotion it waits until every replica serves the new champion (`GET /healthz`).
actor ReplicaDecider: ReplayDecider {
    /// Events sent to one replica before the next takes over.
    static let eventsPerTurn = 250
    /// The longest a replica may take to apply the others' log or follow a promotion.
    static let followSeconds = 30.0

    struct Share: Sendable {
        var name: String
        var events = 0
        var waits: [Double] = []
    }

    let replicas: [ReplicaProcesses.Replica]
    let store: any Store
    let client: HTTPClient
    private let headers: HTTPHeaders
    private var champion: String
    /// Event chunks sent so far: chunk `turn` goes to replica `turn % replicas.count`.
    private var turn = 0
    /// How far the store's log reached after the last call answered.
    private var logged: LogPosition
    private(set) var shares: [Share]

    init(replicas: [ReplicaProcesses.Replica], store: any Store, apiKey: String, champion: String, client: HTTPClient) async throws {
        self.replicas = replicas
        self.store = store
        self.client = client
        self.champion = champion
        headers = ["Authorization": "Bearer \(apiKey)", "Content-Type": "application/json"]
        logged = try await store.logPosition()
        shares = replicas.map { Share(name: $0.name) }
    }

    func championId() async -> String { champion }

    func decide(_ events: [(event: ParsedEvent, payload: String)], labels: [Label], day: Timestamp) async throws(EngineError)
        -> [ReplayDecision]
    {
        if !labels.isEmpty {
            // To the replica whose turn comes next, which then needs no wait for them.
            let replica = turn % replicas.count
            try await caughtUp(replica)
            let body: Data
            do { body = try JSONEncoder().encode(labels) } catch { throw Self.failed("labels of \(day.rfc3339)", error) }
            _ = try await post(replica, path: "/v1/labels", body: body)
        }
        var decisions: [ReplayDecision] = []
        decisions.reserveCapacity(events.count)
        var start = 0
        while start < events.count {
            let chunk = events[start..<min(start + Self.eventsPerTurn, events.count)]
            let replica = turn % replicas.count
            turn += 1
            try await caughtUp(replica)
            let body = Data(("[" + chunk.map(\.payload).joined(separator: ",") + "]").utf8)
            let answer = try await post(replica, path: "/v1/score", body: body)
            let scores: [Answer]
            do { scores = try JSONDecoder().decode(Scores.self, from: answer).scores } catch {
                throw Self.failed("the scores of \(replicas[replica].name)", error)
            }
            decisions += scores.map { ReplayDecision(probability: $0.probability, decision: $0.decision) }
            shares[replica].events += chunk.count
            start += chunk.count
        }
        return decisions
    }

    /// The replicas learn an analyst's resolutions from the shared log: the next request waits
    /// until the replica it goes to has read them.
    func heard(_ labels: [Label]) async throws(EngineError) {
        guard !labels.isEmpty else { return }
        do {
            logged = try await store.logPosition()
        } catch {
            throw .store(error)
        }
    }

    func midnight(_ asOf: Timestamp) async throws(EngineError) -> RetrainCycleRecord? {
        let replica = turn % replicas.count
        try await caughtUp(replica)
        let answer = try await post(replica, path: "/v1/retrain?as_of=\(asOf.rfc3339)", body: Data())
        let cycle: RetrainCycleRecord?
        do { cycle = try JSONDecoder().decode(Retrained.self, from: answer).cycle } catch {
            throw Self.failed("the cycle of \(asOf.rfc3339)", error)
        }
        guard let cycle else { return nil }
        if cycle.outcome == .promoted {
            champion = cycle.challengerId
            for index in replicas.indices { try await servesChampion(index) }
        }
        return cycle
    }

    private func post(_ replica: Int, path: String, body: Data) async throws(EngineError) -> Data {
        var request = HTTPClientRequest(url: replicas[replica].url + path)
        request.method = .POST
        request.headers = headers
        request.body = .bytes(ByteBuffer(bytes: body))
        let data: Data
        let status: HTTPResponseStatus
        do {
            let response = try await client.execute(request, timeout: .seconds(300))
            status = response.status
            data = Data(buffer: try await response.body.collect(upTo: 64 << 20))
            logged = try await store.logPosition()
        } catch {
            throw Self.failed("POST \(path) to \(replicas[replica].name)", error)
        }
        guard status == .ok else {
            throw .invalidOptions(
                option: "--replicas",
                reason: "POST \(path) to \(replicas[replica].name) answered \(status.code): \(String(decoding: data, as: UTF8.self))")
        }
        return data
    }

    /// Waits until `replica`'s history has applied the log up to ``logged``, and records the wait.
    private func caughtUp(_ replica: Int) async throws(EngineError) {
        let started = Date()
        while true {
            let metrics = try await get(replica, path: "/metrics")
            let decisions = Self.value(of: #"riskloop_history_position{log="decisions"}"#, in: metrics)
            let labels = Self.value(of: #"riskloop_history_position{log="labels"}"#, in: metrics)
            if let decisions, let labels, LogPosition(decision: Int64(decisions), label: Int64(labels)) >= logged { break }
            guard Date().timeIntervalSince(started) < Self.followSeconds else {
                throw .invalidOptions(
                    option: "--replicas",
                    reason: "\(replicas[replica].name) did not apply the shared log within \(Int(Self.followSeconds)) s")
            }
            try? await Task.sleep(for: .milliseconds(1))
        }
        shares[replica].waits.append(Date().timeIntervalSince(started))
    }

    /// Waits until `replica` serves ``champion``.
    private func servesChampion(_ replica: Int) async throws(EngineError) {
        let started = Date()
        while true {
            let health = try await get(replica, path: "/healthz")
            if (try? JSONDecoder().decode(Health.self, from: Data(health.utf8)))?.champion == champion { return }
            guard Date().timeIntervalSince(started) < Self.followSeconds else {
                throw .invalidOptions(
                    option: "--replicas", reason: "\(replicas[replica].name) did not serve \(champion) within \(Int(Self.followSeconds)) s")
            }
            try? await Task.sleep(for: .milliseconds(5))
        }
    }

    func get(_ replica: Int, path: String) async throws(EngineError) -> String {
        do {
            let response = try await client.execute(HTTPClientRequest(url: replicas[replica].url + path), timeout: .seconds(10))
            return String(buffer: try await response.body.collect(upTo: 16 << 20))
        } catch {
            throw Self.failed("GET \(path) from \(replicas[replica].name)", error)
        }
    }

    /// The value of the Prometheus sample `series` (name and labels as written) in `text`.
    static func value(of series: String, in text: String) -> Double? {
        for line in text.split(separator: "\n") where line.hasPrefix(series + " ") {
            return Double(line.dropFirst(series.count + 1).trimmingCharacters(in: .whitespaces))
        }
        return nil
    }

    private static func failed(_ what: String, _ error: any Error) -> EngineError {
        .invalidOptions(option: "--replicas", reason: "\(what): \(error)")
    }

    private struct Answer: Decodable {
        var probability: Double
        var decision: Decision
    }

    private struct Scores: Decodable { var scores: [Answer] }
    private struct Retrained: Decodable { var cycle: RetrainCycleRecord? }
    private struct Health: Decodable { var champion: String }
}

/// What `riskloop_history_lag_seconds` says of one replica: how many of the others' events it
/// applied, and the upper bounds of the buckets holding the median and the 99th percentile.
struct HistoryLag: Equatable {
    var applied: Int
    var medianAtMostSeconds: Double?
    var p99AtMostSeconds: Double?

    init?(metrics text: String) {
        var buckets: [(bound: Double, count: Double)] = []
        let prefix = #"riskloop_history_lag_seconds_bucket{le=""#
        for line in text.split(separator: "\n") where line.hasPrefix(prefix) {
            let rest = line.dropFirst(prefix.count)
            guard let quote = rest.firstIndex(of: "\""), let space = rest.lastIndex(of: " "),
                let count = Double(rest[rest.index(after: space)...])
            else { continue }
            let bound = rest[..<quote] == "+Inf" ? Double.infinity : Double(rest[..<quote])
            if let bound { buckets.append((bound, count)) }
        }
        guard let total = buckets.map(\.count).max() else { return nil }
        buckets.sort { $0.bound < $1.bound }
        applied = Int(total)
        func quantile(_ share: Double) -> Double? {
            guard total > 0 else { return nil }
            return buckets.first { $0.count >= share * total }?.bound
        }
        medianAtMostSeconds = quantile(0.5)
        p99AtMostSeconds = quantile(0.99)
    }
}

extension RiskLoop.Demo {
    /// The replicas of `riskloop demo --replicas`, the HTTP client that drives them and the
    /// decider the replay calls.
    struct Cluster {
        let client: HTTPClient
        let processes: ReplicaProcesses
        let decider: ReplicaDecider

        /// - Parameter location: the store as the servers open it (`--db`, or the demo's own file).
        init(_ demo: RiskLoop.Demo, store: any Store, location: String, champion: String, historyAsOf: Timestamp) async throws {
            let (key, _) = try await CLIError.mapping {
                try await store.createKey(name: "demo-replicas", role: .admin, actor: "demo")
            }
            client = HTTPClient(eventLoopGroupProvider: .singleton)
            do {
                processes = try await ReplicaProcesses(
                    count: demo.replicas, firstPort: demo.port,
                    database: location,
                    policy: demo.policy, retrainPolicy: demo.retrainPolicy, historyAsOf: historyAsOf, directory: URL(filePath: demo.dir),
                    client: client)
                decider = try await ReplicaDecider(
                    replicas: processes.replicas, store: store, apiKey: key, champion: champion, client: client)
            } catch {
                try? await client.shutdown()
                throw error
            }
        }

        /// Reads each replica's history lag, stops the replicas and the client, and describes the
        /// traffic shares and lags.
        func finish() async -> String {
            let shares = await decider.shares
            let total = max(1, shares.map(\.events).reduce(0, +))
            var lines = ["   replica      events  share  history lag (applied, p50, p99)        waits before a turn (p50, p99, max)"]
            for (index, share) in shares.enumerated() {
                let lag = (try? await decider.get(index, path: "/metrics")).flatMap(HistoryLag.init(metrics:))
                let waits = share.waits.sorted()
                func milliseconds(_ seconds: Double?) -> String {
                    guard let seconds else { return "n/a" }
                    return seconds.isInfinite ? "> 5 s" : String(format: "%.0f ms", seconds * 1000)
                }
                func waited(_ share: Double) -> Double? {
                    waits.isEmpty ? nil : waits[min(waits.count - 1, Int((share * Double(waits.count)).rounded(.up)) - 1)]
                }
                let lagText =
                    lag.map {
                        "\($0.applied.grouped) events, ≤ \(milliseconds($0.medianAtMostSeconds)), ≤ \(milliseconds($0.p99AtMostSeconds))"
                    }
                    ?? "n/a"
                lines.append(
                    "   "
                        + [
                            share.name.padding(toLength: 10, withPad: " ", startingAt: 0),
                            String(format: "%8@", share.events.grouped),
                            String(format: "%5.1f%%", 100 * Double(share.events) / Double(total)),
                            lagText.padding(toLength: 40, withPad: " ", startingAt: 0),
                            "\(milliseconds(waited(0.5))), \(milliseconds(waited(0.99))), \(milliseconds(waits.last))",
                        ].joined(separator: "  "))
            }
            processes.stop()
            try? await client.shutdown()
            return lines.joined(separator: "\n")
        }
    }
}
