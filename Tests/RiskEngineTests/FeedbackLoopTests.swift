import Foundation
import RiskContract
import RiskFeatures
import RiskModels
import RiskSimulator
import RiskStore
import RiskStoreLocation
import Testing

@testable import RiskEngine

/// Where this test process keeps its files: one directory, removed when the process exits (a
/// simulated bank is tens of megabytes, and every run of the suite makes several).
enum ProcessScratch {
    static let root: URL = {
        let root = FileManager.default.temporaryDirectory.appending(path: "riskloop-engine-tests-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        atexit { try? FileManager.default.removeItem(at: ProcessScratch.root) }
        return root
    }()

    /// A new directory under ``root``, named `prefix` and a UUID.
    static func directory(_ prefix: String) throws -> URL {
        let directory = root.appending(path: "\(prefix)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }
}

/// Simulated banks in a store, each made once per set of parameters and copied for every test
/// that asks for it: simulating and ingesting a 40-day bank costs seconds of CPU, and most tests
/// start from the same one (each gets a file of its own, so none sees another's writes).
actor SimulatedBanks {
    static let shared = SimulatedBanks()
    private var made: [String: Task<(simulation: Simulation, path: String), any Error>] = [:]

    func template(customers: Int, days: Int, labelsBefore: Timestamp?) async throws -> (simulation: Simulation, path: String) {
        let key = "\(customers)-\(days)-\(labelsBefore?.millisecondsSinceEpoch ?? -1)"
        if let task = made[key] { return try await task.value }
        let task = Task { () async throws -> (simulation: Simulation, path: String) in
            let directory = try ProcessScratch.directory("bank")
            var configuration = SimulationConfiguration(customers: customers, days: days, seed: 7)
            configuration.driftAt = configuration.start.adding(days: Double(days / 2))
            let simulation = try Simulation(configuration)
            try simulation.write(to: directory)
            let path = directory.appending(path: "db.sqlite").path
            // Closed before it is copied: the last connection to close checkpoints the WAL into the file.
            try await {
                let store = try await StoreLocation(path).open()
                _ = try await store.ingestEvents(fromFile: directory.appending(path: Simulation.eventsFileName).path)
                let labels = simulation.labels.filter { label in labelsBefore.map { label.reportedAt < $0 } ?? true }
                _ = try await store.ingest(labels: labels, source: "simulation")
            }()
            return (simulation: simulation, path: path)
        }
        made[key] = task
        return try await task.value
    }
}

/// A simulated bank in a store: 40 days, tactics changing on day 20.
struct SimulatedStore {
    let directory: URL
    let simulation: Simulation
    let path: String
    let spec: FeatureSpec

    static let start = SimulationConfiguration.defaultStart

    /// Events all stored; label versions stored only when reported before `labelsBefore`. The
    /// store is a copy of one made once per set of parameters (``SimulatedBanks``).
    init(customers: Int = 300, days: Int = 40, labelsBefore: Timestamp? = nil) async throws {
        directory = try ProcessScratch.directory("loop")
        let template = try await SimulatedBanks.shared.template(customers: customers, days: days, labelsBefore: labelsBefore)
        simulation = template.simulation
        path = directory.appending(path: "db.sqlite").path
        for suffix in ["", "-wal"] where FileManager.default.fileExists(atPath: template.path + suffix) {
            try FileManager.default.copyItem(atPath: template.path + suffix, toPath: path + suffix)
        }
        let root = URL(filePath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        spec = try FeatureSpec.decode(from: Data(contentsOf: root.appending(path: "Models/ss7/feature-spec.json")))
    }

    func open() async throws -> any Store { try await StoreLocation(path).open() }

    func day(_ number: Double) -> Timestamp { Self.start.adding(days: number) }

    /// Trains on days [0, `until`) and registers the model as champion.
    func trainChampion(until: Double, c: Double = 1, algorithm: ModelArtifact.Algorithm = .logisticRegression) async throws
        -> ModelArtifact
    {
        var pipeline = TrainingPipeline(algorithm: algorithm)
        pipeline.logisticRegression.c = c
        pipeline.holdout = .after(day(until - 5))
        let table = try await SpecTable.fromStore(try open(), spec: spec, from: day(0), to: day(until), historyDays: 0, pipeline: pipeline)
        let model = try pipeline.train(table, now: day(until))
        try await open().register(ModelRegistration(model), status: .champion, actor: "test")
        return model
    }

    func remove() { try? FileManager.default.removeItem(at: directory) }
}

@Suite struct FeedbackLoopTests {
    static var policy: RetrainPolicy {
        var policy = RetrainPolicy()
        policy.windowDays = 14
        policy.holdoutDays = 5
        policy.historyDays = 7
        return policy
    }

    @Test func aLabelReportedAfterTheCutoffNeverReachesTheTrainingSet() async throws {
        let bank = try await SimulatedStore()
        defer { bank.remove() }
        let cutoff = bank.day(20)
        var pipeline = TrainingPipeline(algorithm: .logisticRegression)
        pipeline.holdout = .after(bank.day(16))
        let before = try await SpecTable.fromStore(
            bank.open(), spec: bank.spec, from: bank.day(5), to: cutoff, historyDays: 5, pipeline: pipeline)

        // The labels are each event's latest version reported by the cutoff, computed independently.
        let known = try await bank.open().labels(knownAt: cutoff)
        let events = try await bank.open().events(from: bank.day(5), to: cutoff, keepingJSON: false).map(\.event)
        let expected = events.compactMap { event in known[event.id!].map { $0.outcome == .fraud ? 1.0 : 0.0 } }
        #expect(before.labels == expected)

        // New versions after the cutoff: one flips a labelled event, one labels an unlabelled event.
        let labelled = events.first { known[$0.id!]?.outcome == .genuine }!.id!
        let unlabelled = events.first { known[$0.id!] == nil }!.id!
        _ = try await bank.open().ingest(
            labels: [
                Label(eventId: labelled, outcome: .fraud, reportedAt: cutoff.adding(hours: 1), source: "analyst"),
                Label(eventId: unlabelled, outcome: .fraud, reportedAt: cutoff.adding(days: 3), source: "chargeback"),
            ], source: "late")
        let after = try await SpecTable.fromStore(
            bank.open(), spec: bank.spec, from: bank.day(5), to: cutoff, historyDays: 5, pipeline: pipeline)
        #expect(after.labels == before.labels)
        #expect(after.features == before.features)
        // The same label at the cutoff itself is known.
        _ = try await bank.open().ingest(
            labels: [Label(eventId: unlabelled, outcome: .fraud, reportedAt: cutoff, source: "analyst")], source: "at cutoff")
        let atCutoff = try await SpecTable.fromStore(
            bank.open(), spec: bank.spec, from: bank.day(5), to: cutoff, historyDays: 5, pipeline: pipeline)
        #expect(atCutoff.features.rows == before.features.rows + 1)
    }

    @Test func featuresNeverUseLaterEvents() async throws {
        let bank = try await SimulatedStore()
        defer { bank.remove() }
        let store = try await bank.open()
        let extractor = try FeatureExtractor(spec: bank.spec)
        // The same events' rows with the window ending at day 20 and at day 30: later events and
        // labels change nothing in the earlier rows.
        let short = try await store.trainingSnapshot(
            historyFrom: bank.day(0), from: bank.day(5), to: bank.day(20), labelsKnownAt: bank.day(20), keepingJSON: false)
        let long = try await store.trainingSnapshot(
            historyFrom: bank.day(0), from: bank.day(5), to: bank.day(30), labelsKnownAt: bank.day(30), keepingJSON: false)
        func rows(_ snapshot: TrainingSnapshot) -> Matrix {
            var profiles = extractor.makeProfiles()
            for label in snapshot.labelVersions { profiles.observe(label) }
            _ = profiles.history(for: snapshot.warmup)
            return extractor.matrix(snapshot.events, profiles: &profiles)
        }
        let shortRows = rows(short), longRows = rows(long)
        #expect(long.events.count > short.events.count)
        #expect(Array(longRows.values.prefix(shortRows.values.count)) == shortRows.values)
    }

    @Test func aCycleTrainsAChallengerGatesItAndRecordsEverything() async throws {
        let bank = try await SimulatedStore()
        defer { bank.remove() }
        let champion = try await bank.trainChampion(until: 15)
        let loop = FeedbackLoop(store: try await bank.open(), policy: Self.policy, actor: "nightly")
        guard case .ran(let cycle) = try await loop.runCycle(asOf: bank.day(30)) else {
            Issue.record("a cycle should have run: many labels arrived since the champion")
            return
        }
        #expect(cycle.record.championId == champion.id)
        #expect(cycle.challenger.parentId == champion.id)  // warm-started from the champion
        #expect(cycle.challenger.training.windowEnd! < bank.day(25))  // the holdout (last 5 days) is not trained on
        #expect(cycle.detail.holdoutRows > 0 && cycle.detail.trainRows == cycle.challenger.training.rows)
        #expect(cycle.detail.champion?.id == champion.id)
        #expect(Set(cycle.detail.stageSeconds.keys) == Set(FeedbackLoop.Stage.allCases.map(\.rawValue)))
        let store = try await bank.open()
        let recorded = try #require(try await store.lastCycle())
        #expect(recorded.challengerId == cycle.challenger.id && recorded.outcome == cycle.record.outcome)
        let status = try await store.models().first { $0.id == cycle.challenger.id }?.status
        #expect(status == (cycle.record.outcome == .promoted ? "champion" : "rejected"))
        #expect(try await store.auditEntries().map(\.action).suffix(1) == ["retrain.cycle"])
        // The registered artifact is the challenger, bit for bit.
        #expect(try await store.artifactJSON(of: cycle.challenger.id) == cycle.challenger.encoded())
        // Right after, nothing is due: the labels were consumed and the interval has not passed.
        await #expect(try loop.dueReason(asOf: bank.day(30)) == nil)
        if case .skipped = try await loop.runCycle(asOf: bank.day(30)) {} else { Issue.record("a second cycle should have been skipped") }
    }

    @Test func theGateComparesOnTheSameHoldoutWithMargins() async throws {
        let loop = FeedbackLoop(store: try await StoreLocation(":memory:").open(), policy: Self.policy, actor: "test")
        let labels: [Double] = [1, 0, 1, 0, 0, 1, 0, 0]
        func evaluated(_ probabilities: [Double]) -> FeedbackLoop.CycleDetail.Evaluated {
            .init(id: "m", algorithm: "logistic_regression", holdout: Metrics.evaluate(labels: labels, probabilities: probabilities))
        }
        let perfect = evaluated([0.9, 0.1, 0.8, 0.2, 0.3, 0.7, 0.1, 0.2])  // AP 1, AUC 1
        let worse = evaluated([0.9, 0.1, 0.8, 0.75, 0.3, 0.7, 0.1, 0.2])  // one genuine ranked above a fraud
        let model = try ModelArtifact.decode(from: try Self.someArtifact().encoded())
        #expect(loop.gate(challenger: perfect, champion: nil, championMetrics: nil).0)
        #expect(loop.gate(challenger: perfect, champion: model, championMetrics: worse).0)
        let (promoted, reason) = loop.gate(challenger: worse, champion: model, championMetrics: perfect)
        #expect(!promoted)
        #expect(reason.hasPrefix("worse than the champion on average precision by more than 0.01"))
        var lenient = loop
        lenient.policy.apMargin = 0.5
        lenient.policy.aucMargin = 0.5
        #expect(lenient.gate(challenger: worse, champion: model, championMetrics: perfect).0)
        // A holdout without fraud cannot rank: no promotion over a champion.
        let noFraud = FeedbackLoop.CycleDetail.Evaluated(
            id: "m", algorithm: "logistic_regression", holdout: Metrics.evaluate(labels: [0, 0], probabilities: [0.1, 0.2]))
        #expect(!loop.gate(challenger: noFraud, champion: model, championMetrics: noFraud).0)
    }

    static func someArtifact() throws -> ModelArtifact {
        let data = try TrainingData(
            features: Matrix(rows: 4, columns: 1, values: [0, 1, 2, 3]), labels: [0, 0, 1, 1], columns: ["x"])
        let model = try LogisticRegression().fit(data).model
        return ModelArtifact(
            algorithm: .logisticRegression, createdAt: Timestamp(millisecondsSinceEpoch: 0), featureSpec: .null, columns: ["x"],
            logisticRegression: model, hyperparameters: .init(holdout: "none"),
            training: .init(
                source: "test", rows: 4, positives: 2, totalWeight: 4, dataSHA256: data.sha256, durationSeconds: 0,
                holdoutRows: 0, calibrationRows: 0), metrics: .init(holdout: nil))
    }

    /// Two cycles started at once on one store (two replicas with `--retrain-every`, or a CLI
    /// beside a server): the second finds the retraining lock held and is skipped, saying why, so
    /// they never both train and promote. Before the lock both trained and the commit's check of
    /// the champion rejected the later one; that check stays for a promotion made by a person
    /// during a cycle (the store conformance suite tests it).
    @Test func twoCyclesStartedAtOnceDoNotBothPromote() async throws {
        let bank = try await SimulatedStore()
        defer { bank.remove() }
        _ = try await bank.trainChampion(until: 15)
        var policy = Self.policy
        policy.apMargin = 1
        policy.aucMargin = 1  // the gate alone would promote both
        let first = FeedbackLoop(store: try await bank.open(), policy: policy, actor: "cycle-1")
        let second = FeedbackLoop(store: try await bank.open(), policy: policy, actor: "cycle-2")
        // The first cycle holds at its commit stage (with the lock) until the second has returned.
        let atCommit = CommitBarrier(parties: 2), release = CommitBarrier(parties: 2)
        let running = Task {
            try await first.runCycle(asOf: bank.day(30), force: true) { stage in
                if stage == .commit {
                    await atCommit.arrive()
                    await release.arrive()
                }
            }
        }
        await atCommit.arrive()
        let skipped = try await second.runCycle(asOf: bank.day(30), force: true)
        await release.arrive()
        let ran = try await running.value
        guard case .skipped(let reason) = skipped, case .ran(let cycle) = ran else {
            Issue.record("expected one cycle skipped and one run, got \(skipped) and \(ran)")
            return
        }
        #expect(reason == FeedbackLoop.anotherCycleRuns)
        #expect(cycle.record.outcome == .promoted)
        let store = try await bank.open()
        #expect(try await store.models().filter { $0.status == "champion" }.count == 1)
        #expect(try await store.cycles().count == 1)
        // Released: the next cycle runs.
        guard case .ran = try await second.runCycle(asOf: bank.day(30), force: true) else {
            Issue.record("the lock was not released")
            return
        }
    }

    @Test func labelsArrivingDuringACycleCountForTheNextOne() async throws {
        let bank = try await SimulatedStore(labelsBefore: SimulatedStore.start.adding(days: 30))
        defer { bank.remove() }
        _ = try await bank.trainChampion(until: 15)
        let late = bank.simulation.labels.filter { $0.reportedAt >= bank.day(30) }.prefix(40)
        #expect(late.count == 40)
        var policy = Self.policy
        policy.minNewLabels = 40
        policy.intervalHours = nil
        policy.psiThreshold = nil
        let loop = FeedbackLoop(store: try await bank.open(), policy: policy, actor: "nightly")
        let writer = try await bank.open()
        let result = try await loop.runCycle(asOf: bank.day(30)) { stage in
            // While the cycle trains, 40 label versions arrive (another connection).
            if stage == .train { _ = try? await writer.ingest(labels: Array(late), source: "during the cycle") }
        }
        guard case .ran(let cycle) = result else {
            Issue.record("the first cycle should have run")
            return
        }
        let store = try await bank.open()
        #expect(try await store.labelVersionCount(after: cycle.record.labelHighWater) == 40)
        await #expect(try loop.dueReason(asOf: bank.day(30)) == "40 new label versions (at least 40)")
    }

    @Test func aNaiveBayesChampionAbsorbsNewLabelsBetweenCycles() async throws {
        let bank = try await SimulatedStore()
        defer { bank.remove() }
        let champion = try await bank.trainChampion(until: 15, algorithm: .naiveBayes)
        #expect(champion.training.labelsKnownAt == bank.day(15))
        var policy = Self.policy
        policy.minNewLabels = nil
        policy.intervalHours = nil
        policy.psiThreshold = nil
        let loop = FeedbackLoop(store: try await bank.open(), policy: policy, actor: "online")
        guard case .ran(let update) = try await loop.runCycle(asOf: bank.day(20)) else {
            Issue.record("labels reported after day 15 should have been absorbed")
            return
        }
        // Independently: events first labelled in (day 15, day 20], with their latest label by day 20.
        var first: [String: Timestamp] = [:], latest: [String: Outcome] = [:]
        for label in bank.simulation.labels.sorted(by: { $0.reportedAt < $1.reportedAt }) where label.reportedAt <= bank.day(20) {
            if first[label.eventId] == nil { first[label.eventId] = label.reportedAt }
            latest[label.eventId] = label.outcome
        }
        let fresh = first.filter { $0.value > bank.day(15) }.keys
        let fraud = Double(fresh.filter { latest[$0] == .fraud }.count), genuine = Double(fresh.count) - fraud
        let before = try #require(champion.naiveBayes), after = try #require(update.challenger.naiveBayes)
        #expect(after.classWeights == [before.classWeights[0] + genuine, before.classWeights[1] + fraud])
        #expect(update.challenger.parentId == champion.id && update.record.outcome == .promoted)
        #expect(update.challenger.training.rows == champion.training.rows + fresh.count)
        #expect(update.challenger.training.labelsKnownAt == bank.day(20))
        #expect(try await bank.open().championId() == update.challenger.id)
        // Nothing new since: skipped.
        if case .skipped = try await loop.runCycle(asOf: bank.day(20)) {} else { Issue.record("nothing new should be absorbed twice") }
    }

    @Test func theRetrainPolicyReadsDefaultsAndRefusesBadMembers() async throws {
        let partial = try RetrainPolicy.decode(Data(#"{"min_new_labels": 10, "interval_hours": null}"#.utf8), source: "p.json")
        #expect(partial.minNewLabels == 10 && partial.intervalHours == nil && partial.windowDays == RetrainPolicy().windowDays)
        // What is written reads back the same.
        let written = try JSONEncoder().encode(partial)
        #expect(try RetrainPolicy.decode(written, source: "again") == partial)
        let cases: [(String, String)] = [
            (#"{"window_day": 10}"#, "window_day"), (#"{"holdout_days": 30, "window_days": 28}"#, "window_days"),
            (#"{"min_new_labels": 0}"#, "min_new_labels"), (#"{"ap_margin": "x"}"#, "ap_margin"),
            (#"{"format": "riskloop.retrain/9"}"#, "format"), (#"{"algorithms": []}"#, "algorithms"),
        ]
        for (text, member) in cases {
            #expect {
                try RetrainPolicy.decode(Data(text.utf8), source: "p.json")
            } throws: { error in
                guard case .badInput("p.json", nil, member, _) = error as? EngineError else { return false }
                return true
            }
        }
    }

    @Test func psiMatchesAHandComputedCase() {
        // A 0/1 column: half and half in training, a quarter ones in recent traffic.
        let training = Matrix(rows: 4, columns: 1, values: [0, 1, 0, 1])
        let reference = DriftReference.fit(features: training, scores: [0.1, 0.9, 0.1, 0.9])
        #expect(reference.columns[0].upperBounds == [0])
        let recent = Matrix(rows: 4, columns: 1, values: [0, 0, 0, 1])
        let report = reference.report(columnNames: ["x"], features: recent, scores: [0.1, 0.1, 0.1, 0.9])
        let expected = (0.75 - 0.5) * log(0.75 / 0.5) + (0.25 - 0.5) * log(0.25 / 0.5)
        #expect(abs(report.columns[0].psi - expected) < 1e-12)
        #expect(abs(report.score - expected) < 1e-12)
        #expect(abs(reference.scorePSI([0.1, 0.1, 0.1, 0.9]) - expected) < 1e-12)
        // The same distribution: no drift.
        #expect(reference.report(columnNames: ["x"], features: training, scores: [0.1, 0.9, 0.1, 0.9]).score == 0)
    }
}

/// Holds each arriving task until `parties` have arrived, then lets them all go on.
actor CommitBarrier {
    private let parties: Int
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(parties: Int) {
        self.parties = parties
    }

    func arrive() async {
        if waiting.count + 1 == parties {
            for continuation in waiting { continuation.resume() }
            waiting = []
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }
}
