import ArgumentParser
import Foundation
import JWTKit
import Logging
import RiskContract
import RiskEngine
import RiskFeatures
import RiskModels
import RiskOperatorStub
import RiskScoring
import RiskSignals
import RiskSimulator
import RiskStore
import RiskStoreLocation

extension RiskLoop {
    struct Demo: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the main job end to end on a fresh database under --dir: simulate, train, replay with the feedback loop.",
            discussion: """
                Simulates --days of a bank's events with SS7, SIM-swap and call-forwarding fraud, \
                the fraudsters changing tactics at --drift-day, and ingests the events into \
                <dir>/demo.sqlite (recreated on every run) with the labels reported in the first \
                --train-days. It trains the first champion on those days, then replays the \
                remaining days in order: every event is scored by the adapting champion (decisions \
                logged) and by a frozen copy of the first model; labels are stored as they would \
                have arrived (with their delay); and a retraining cycle runs each midnight when the \
                --retrain-policy trigger holds, hot-swapping a promoted challenger.

                It prints, per week: events, fraud, fraud caught (not allowed) and missed by the \
                adapting champion, its false alarms (genuine events reviewed or blocked), the fraud \
                the frozen model would have missed, and the average precision of both against \
                ground truth. <dir>/report.html draws the same weeks and lists the cycles; \
                <dir>/report.json holds the same weeks and cycles for notebooks. \
                --label-delay-days adds that many days to every label's report time, to see what \
                slower chargebacks cost. Every review decision opens a case in the analysts' queue; \
                a simulated analyst resolves each with the ground truth --analyst-days after its \
                event (cases of the last days stay open), and the table shows the week's reviews, \
                the cases resolved and still open, and the median days from a fraud event to its \
                first label (analysts' labels come sooner than chargebacks). `make demo` runs this after installing what is missing \
                and building.

                With --replicas N, the adapting decisions are made by N `riskloop serve` processes \
                on the same store (ports --port, --port+1, …; logs in <dir>/replica-N.log), their \
                history warmed as of the replay's start: each day's labels go to one replica, its \
                events to each replica in turn, \(ReplicaDecider.eventsPerTurn) at a time, and each \
                midnight's cycle to one; before a replica takes its turn, the demo waits until its \
                history has applied what the others decided (riskloop_history_position). The table \
                is then the one a single server gives, followed by each replica's share of the \
                traffic and its history lag (riskloop_history_lag_seconds, and the demo's waits). \
                --db names the store (a PostgreSQL URL, as `make demo-cluster` passes, or an \
                SQLite file); it must hold no events yet.
                """)

        @Option(help: ArgumentHelp("Working directory for the simulated files, the database and the report.", valueName: "directory"))
        var dir = ".riskloop"

        @Option(help: "Number of customers.")
        var customers = 2_000

        @Option(help: "Number of days.")
        var days = 90

        @Option(help: "The day the fraudsters change tactics.")
        var driftDay = 45

        @Option(help: "Days the first champion is trained on.")
        var trainDays = 30

        @Option(help: "Random seed.")
        var seed: UInt64 = 42

        @Option(help: ArgumentHelp("The feature spec.", valueName: "spec.json"))
        var spec = "Models/ss7/feature-spec.json"

        @Option(help: ArgumentHelp("The decision policy.", valueName: "policy.json"))
        var policy = "Models/ss7/policy.json"

        @Option(help: ArgumentHelp("The retraining policy (riskloop.retrain/1).", valueName: "retrain.json"))
        var retrainPolicy = "Models/ss7/retrain.json"

        @Option(help: ArgumentHelp("Days added to every label's report time (slower labels).", valueName: "days"))
        var labelDelayDays = 0.0

        @Option(
            help: ArgumentHelp(
                "A simulated analyst resolves each review case with the ground truth this many days after its event (0: no analyst).",
                valueName: "days"))
        var analystDays = 2.0

        @Option(
            help: ArgumentHelp(
                "The store: an SQLite file or a postgres:// URL holding no events yet (default: <dir>/demo.sqlite, recreated).",
                valueName: "path-or-url"))
        var db: String?

        @Option(
            help: ArgumentHelp("Replay through this many `riskloop serve` replicas over HTTP (default: in this process).", valueName: "N"))
        var replicas = 0

        @Option(help: ArgumentHelp("With --replicas: the first replica's port; the others take the next ones.", valueName: "port"))
        var port = 8181

        @Option(
            help: ArgumentHelp(
                "stub: replay events that carry the customer's line and no telco signals, asking a stub operator (over HTTP, in this process) under three acquisition strategies at once (docs/operators.md).",
                valueName: "stub"))
        var operators: String?

        func validate() throws {
            guard (0...16).contains(replicas) else { throw ValidationError("--replicas must be 0 to 16") }
            if replicas > 0, db == ":memory:" {
                throw ValidationError("--replicas needs a store the servers can share: an SQLite file or a postgres:// URL, not :memory:")
            }
            guard (1...65_535 - 16).contains(port) else { throw ValidationError("--port must be 1 to 65,519") }
            guard trainDays >= 14, trainDays < days else { throw ValidationError("--train-days must be at least 14 and below --days") }
            guard driftDay > 0, driftDay < days else { throw ValidationError("--drift-day must fall inside the simulated days") }
            guard labelDelayDays >= 0 else { throw ValidationError("--label-delay-days must be zero or more") }
            guard analystDays >= 0 else { throw ValidationError("--analyst-days must be zero or more") }
            if let operators {
                guard operators == "stub" else { throw ValidationError("--operators takes stub (got '\(operators)')") }
                guard replicas == 0 else {
                    throw ValidationError("--operators stub replays in this process: it does not go with --replicas")
                }
            }
        }

        func run() async throws {
            let dataDirectory = URL(filePath: dir).appending(path: "data")
            let databasePath = db ?? URL(filePath: dir).appending(path: "demo.sqlite").path
            let reportPath = URL(filePath: dir).appending(path: "report.html").path
            let reportJSONPath = URL(filePath: dir).appending(path: "report.json").path
            let featureSpec = try CLIError.mapping { try SpecFile.read(spec).spec }
            let decisionPolicy = try CLIError.mapping { () throws(EngineError) in try PolicyFile.read(policy) }
            let loopPolicy = try CLIError.mapping { try RetrainPolicy.read(retrainPolicy) }
            var configuration = SimulationConfiguration(customers: customers, days: days, seed: seed)
            configuration.driftAt = configuration.start.adding(days: Double(driftDay))
            let replayStart = configuration.start.adding(days: Double(trainDays))
            let clock = Date()
            // The store first: a --db that cannot serve the demo is refused before the simulation.
            if db == nil {
                for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: databasePath + suffix) }
            }
            let store = try await CLIError.mapping { () async throws(StoreError) in
                try await StoreLocation(databasePath).open(logger: Logger.cli)
            }
            if db != nil, try await CLIError.mapping({ try await store.latestEventTime() }) != nil {
                throw CLIError.fail(
                    "--db \(store.location): the demo needs a store without events, and this one holds some", status: CLIError.usage)
            }

            print("1. Simulating \(customers.grouped) customers over \(days) days (seed \(seed)), tactics change on day \(driftDay)")
            let simulation = try CLIError.mapping { try Simulation(configuration) }
            try CLIError.mapping { try simulation.write(to: dataDirectory) }
            print(Simulate.render(simulation.summary, directory: dataDirectory.path, seconds: Date().timeIntervalSince(clock)))

            // With --operators stub: the training days are stored as enriched then (the customer's line
            // and the operator's signals); the replay's events arrive with the line and no telco object.
            var arriving: [(event: ParsedEvent, payload: String)]?
            var eventsFile = dataDirectory.appending(path: Simulation.eventsFileName)
            if operators != nil {
                try CLIError.mapping { try simulation.writeOperatorView(to: dataDirectory) }
                eventsFile = dataDirectory.appending(path: "history.jsonl")
                var history: [UInt8] = []
                var later: [(event: ParsedEvent, payload: String)] = []
                for event in simulation.events {
                    if event.occurredAt < replayStart {
                        history += JSONLine.encode(simulation.withCustomer(event))
                        history.append(UInt8(ascii: "\n"))
                    } else {
                        let line = JSONLine.encode(simulation.withoutTelco(event))
                        later.append((try ParsedEvent(jsonLine: line), String(decoding: line, as: UTF8.self)))
                    }
                }
                try CLIError.mapping { try ModelFile.write(Data(history), to: eventsFile.path) }
                arriving = later
            }

            print(
                "\n2. Ingesting the events\(operators == nil ? "" : " of the first \(trainDays) days"), and the labels reported in the first \(trainDays) days, into \(store.location)"
            )
            let ingested = try await CLIError.mapping {
                try await store.ingestEvents(fromFile: eventsFile.path)
            }
            let labels = simulation.labels.map { label in
                var later = label
                later.reportedAt = label.reportedAt.adding(days: labelDelayDays)
                return later
            }
            let early = labels.filter { $0.reportedAt < replayStart }
            _ = try await CLIError.mapping { try await store.ingest(labels: early, source: Simulation.labelsFileName) }
            print("   \(ingested.inserted.grouped) events, \(early.count.grouped) label versions")

            print("\n3. Training the first champion on days 1–\(trainDays)")
            var pipeline = TrainingPipeline(algorithm: .logisticRegression)
            pipeline.logisticRegression = loopPolicy.logisticRegression
            pipeline.holdout = .after(replayStart.adding(days: -loopPolicy.holdoutDays))
            let table = try await CLIError.mapping {
                try await SpecTable.fromStore(
                    store, spec: featureSpec, from: configuration.start, to: replayStart, historyDays: 0, pipeline: pipeline)
            }
            let first = try CLIError.mapping { try pipeline.train(table, now: replayStart) }
            try await CLIError.mapping {
                try await Registry(store: store).register(
                    first, status: .champion, actor: "demo", reason: "first model, days 1–\(trainDays)")
            }
            let firstAP = first.metrics.holdout?.averagePrecision.map { String(format: "%.3f", $0) } ?? "n/a"
            print("   \(first.id): \(first.training.rows.grouped) labelled events, holdout AP \(firstAP)")

            let loop = FeedbackLoop(store: store, policy: loopPolicy, actor: "demo")
            let truth = Dictionary(uniqueKeysWithValues: simulation.truth.map { ($0.eventId, $0.scenario.isFraud) })
            let cluster =
                try await replicas > 0
                ? Cluster(self, store: store, location: databasePath, champion: first.id, historyAsOf: replayStart) : nil
            var deciders = cluster.map { " by \($0.decider.replicas.count) replicas over HTTP" } ?? ""
            if operators != nil { deciders = ", every telco signal asked of a stub operator" }
            print("\n4. Replaying days \(trainDays + 1)–\(days)\(deciders): scoring, labels arriving, retraining on the trigger")
            let line = ProgressLine()
            let replayed: Result<FeedbackReplay.Report, any Error>
            var tallies: OperatorTallies?
            var requests = 0
            do {
                if let arriving {
                    let (report, counted, sent) = try await replayWithOperators(
                        loop: loop, policy: decisionPolicy, champion: first, from: replayStart, to: configuration.end, labels: labels,
                        truth: truth, arriving: arriving, dataDirectory: dataDirectory, line: line)
                    replayed = .success(report)
                    tallies = counted
                    requests = sent
                } else {
                    replayed = .success(
                        try await CLIError.mapping {
                            try await FeedbackReplay(loop: loop, policy: decisionPolicy).run(
                                from: replayStart, to: configuration.end, labels: labels, isFraud: truth, decider: cluster?.decider,
                                analystDays: analystDays > 0 ? analystDays : nil
                            ) { day in line.update("   replayed to \(day.rfc3339)") }
                        })
                }
            } catch {
                replayed = .failure(error)
            }
            line.finish()
            let lines = await cluster?.finish()
            let report = try replayed.get()
            print(Self.render(report, driftAt: configuration.driftAt!))
            if let lines { print(lines) }
            if let tallies {
                print("\n" + OperatorDecider.render(tallies, events: report.weeks.map(\.events).reduce(0, +), requests: requests))
            }
            let html = DemoReport.html(
                report, driftAt: configuration.driftAt!, trainDays: trainDays, title: "RiskLoop demo: \(customers) customers, \(days) days",
                operators: tallies)
            try CLIError.mapping { try ModelFile.write(Data(html.utf8), to: reportPath) }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            let summary = Summary(
                customers: customers, days: days, driftAt: configuration.driftAt!, replayStart: replayStart,
                labelDelayDays: labelDelayDays, retrainPolicy: retrainPolicy, report: report, operators: tallies)
            try CLIError.mapping { try ModelFile.write(try encoder.encode(summary), to: reportJSONPath) }
            print(
                "\nReport: \(reportPath)   (database: \(store.location), \(String(format: "%.0f", Date().timeIntervalSince(clock))) s in all)"
            )
        }

        /// `report.json`: the run's settings and the replay's weeks and cycles.
        struct Summary: Encodable {
            var customers: Int
            var days: Int
            var driftAt: Timestamp
            var replayStart: Timestamp
            var labelDelayDays: Double
            var retrainPolicy: String
            var report: FeedbackReplay.Report
            /// With --operators stub: each acquisition strategy's calls, cost and fraud caught and missed.
            var operators: OperatorTallies?

            enum CodingKeys: String, CodingKey {
                case customers, days, report, operators
                case driftAt = "drift_at"
                case replayStart = "replay_start"
                case labelDelayDays = "label_delay_days"
                case retrainPolicy = "retrain_policy"
            }
        }

        /// The replay through ``OperatorDecider``, with a stub operator serving the simulation's
        /// operator view on a free local port for its length.
        func replayWithOperators(
            loop: FeedbackLoop, policy: DecisionPolicy, champion: ModelArtifact, from: Timestamp, to: Timestamp, labels: [Label],
            truth: [String: Bool], arriving: [(event: ParsedEvent, payload: String)], dataDirectory: URL, line: ProgressLine
        ) async throws -> (FeedbackReplay.Report, OperatorTallies, requests: Int) {
            let view = try CLIError.mapping { try OperatorView.read(from: dataDirectory.appending(path: Simulation.operatorViewFileName)) }
            let key = ES256PrivateKey()
            let keyFile = dataDirectory.appending(path: "operator-client.pem")
            try CLIError.mapping { try ModelFile.write(Data(key.pemRepresentation.utf8), to: keyFile.path) }
            let stub = await OperatorStub(view: view, clients: ["riskloop-demo": key.publicKey])
            let scorer = Scorer(model: try CLIError.mapping { try FeedbackReplay.serving(champion) }, policy: policy)
            try await CLIError.mapping {
                try await loop.store.record(policy, actor: "demo")
                try await scorer.warm(from: loop.store, asOf: from, historyDays: loop.policy.historyDays)
            }
            let analyst = analystDays > 0 ? analystDays : nil
            return try await stub.whileServing { url in
                let configuration = try OperatorDecider.configuration(baseURL: url, keyFile: keyFile)
                let decider = try OperatorDecider(loop: loop, scorer: scorer, configuration: configuration, isFraud: truth)
                let report = try await CLIError.mapping {
                    try await FeedbackReplay(loop: loop, policy: policy).run(
                        from: from, to: to, labels: labels, isFraud: truth, decider: decider, analystDays: analyst, arriving: arriving
                    ) { day in line.update("   replayed to \(day.rfc3339)") }
                }
                return (report, decider.result, decider.shared.questionsSent)
            }
        }

        static func render(_ report: FeedbackReplay.Report, driftAt: Timestamp) -> String {
            func ap(_ value: Double?) -> String { value.map { String(format: "%.3f", $0) } ?? "  n/a" }
            func days(_ value: Double?) -> String { value.map { String(format: "%.1f", $0) } ?? "n/a" }
            var lines = [
                "   week of      events  fraud  caught  missed  false alarms  frozen missed  AP adapting  AP frozen  reviews  resolved  open  label days  champion"
            ]
            for week in report.weeks {
                let marker = week.start <= driftAt && driftAt < week.start.adding(days: 7) ? " ← tactics change" : ""
                lines.append(
                    String(
                        format: "   %@  %7d  %5d  %6d  %6d  %12d  %13d  %11@  %9@  %7d  %8d  %4d  %10@  %@%@",
                        String(week.start.rfc3339.prefix(10)), week.events, week.fraud, week.caught, week.missed, week.falseAlarms,
                        week.frozenMissed, ap(week.adaptingAP), ap(week.frozenAP), week.reviews, week.casesResolved, week.casesOpen,
                        days(week.fraudLabelDays), week.champion + (week.promotions > 0 ? " (new)" : ""), marker))
            }
            let after = report.weeks.filter { $0.start >= driftAt }
            let adapting = after.compactMap(\.adaptingAP), frozen = after.compactMap(\.frozenAP)
            if !adapting.isEmpty, adapting.count == frozen.count {
                let meanAdapting = adapting.reduce(0, +) / Double(adapting.count), meanFrozen = frozen.reduce(0, +) / Double(frozen.count)
                lines.append(
                    String(
                        format: "   After the change (%d weeks): mean AP %.3f adapting vs %.3f frozen; missed fraud %d vs %d.",
                        after.count, meanAdapting, meanFrozen, after.map(\.missed).reduce(0, +), after.map(\.frozenMissed).reduce(0, +)))
            }
            let promoted = report.cycles.filter { $0.outcome == .promoted }.count
            lines.append(
                "   \(report.cycles.count) retraining cycles: \(promoted) promoted, \(report.cycles.count - promoted) kept the champion; "
                    + "\(report.decisionsLogged.grouped) decisions logged.")
            return lines.joined(separator: "\n")
        }
    }
}
