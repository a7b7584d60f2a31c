import ArgumentParser
import Foundation
import Logging
import RiskEngine
import RiskModels
import RiskScoring
import RiskServer
import RiskSignals
import RiskStore

extension RiskLoop {
    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the HTTP scoring service.",
            discussion: """
                Serves the registry's champion with the decision policy, on --host:--port. \
                --model registers a model file first (as the champion when the registry has none, \
                or with --promote). Routes: POST /v1/score, POST /v1/events/{id}/outcome, POST \
                /v1/labels, GET /v1/models, GET /v1/models/{id}, GET /v1/models/{id}/export, POST \
                /v1/models/{id}/promote, POST /v1/retrain, POST /v1/backtests, GET /v1/cases, GET \
                /v1/cases/{id}, POST /v1/cases/{id}/resolve (the analysts' review queue, role \
                analyst), GET /healthz, GET /metrics and GET /openapi.yaml (the full reference). /v1 routes need an API key (riskloop keys create); a revoked key is \
                refused at the next request. A promotion, rollback or shadow change made by another \
                process (riskloop models …) is served within about a second; GET /healthz says which \
                champion, shadow and policy this server holds in memory. Several servers (replicas) \
                may share one store, a PostgreSQL database or an SQLite file: each applies the \
                events the others decide and the labels they are given to its own entity history \
                within milliseconds (riskloop_history_lag_seconds; riskloop_history_position says how \
                far it has read), so velocity and fraud-rate \
                features count every replica's traffic; each decision records its --replica and \
                how far its history had read the shared log. Each decision is committed before its answer is sent \
                (group commit), so a crash loses no answered decision; an event id seen before is a \
                retry (the first answer again) with the same JSON, a 409 with other JSON. SIGTERM or \
                SIGINT stops it after the requests in flight and ends the feedback loop at once.

                Models are signed: --model must carry a signature of a trusted key (or pass \
                --allow-unsigned for an unsigned file), and the champion is checked the same way on \
                start. Trust comes from RISKLOOP_TRUSTED_KEYS; without it the per-user keys and the \
                sample key of Models/keys/ are trusted, and serve warns. See `riskloop keys sign --help`.

                Decision policies are governed in the store (riskloop policy): every server decides \
                with the active one and follows an activation within about a second. On start, a \
                --policy version the store does not hold is proposed and activated by the start \
                itself (audited as such; a version already stored with other content is refused), as \
                is any --policy when no policy is active, so a deployment from a file stays one \
                command; otherwise the store's active policy is served. Then the \
                scorer's entity history is warmed from the stored events of the retraining \
                policy's history_days and the labels known, so that velocity and fraud-rate \
                features carry over a restart and `riskloop replay` reproduces the decisions \
                (--history-as-of warms as of a past time instead, to replay a past period).

                The feedback loop: with --retrain-every, the server checks the retraining policy's \
                trigger that often (one cycle at a time runs on a store: while another replica or \
                process runs one, this server's is skipped and it takes the new champion from the \
                registry) and runs a cycle when the trigger holds (as `riskloop retrain` does), \
                hot-swapping the scorer to a promoted challenger; POST /v1/retrain (admin) runs one \
                on demand, as of its as_of (default: the latest stored event). A model with status shadow (riskloop models shadow ID) scores every \
                event beside the champion; its scores are logged with the decisions, never acted on. \
                /metrics carries riskloop_drift_psi{model,variable} after each check.
                """)

        @Option(help: "Address to listen on.")
        var host = "127.0.0.1"

        @Option(help: "Port to listen on.")
        var port = 8080

        @Option(
            help: ArgumentHelp(
                "The decision policy (JSON): deployed when the store does not hold its version or has no active policy; otherwise the active one is served.",
                valueName: "policy.json"))
        var policy = "Models/ss7/policy.json"

        @Option(help: ArgumentHelp("Register this model file before serving.", valueName: "model.json"))
        var model: String?

        @Flag(help: "With --model: make it the champion even if there is one.")
        var promote = false

        @Option(help: ArgumentHelp("The retraining policy (riskloop.retrain/1; default: the built-in one).", valueName: "retrain.json"))
        var retrainPolicy: String?

        @Option(help: ArgumentHelp("Check the retraining trigger every N seconds (default: only on POST /v1/retrain).", valueName: "N"))
        var retrainEvery: Double?

        @Option(
            help: ArgumentHelp(
                "Remove events older than N days (with their decisions and labels) every hour, as `riskloop prune` does (default: keep everything).",
                valueName: "N"))
        var retentionDays: Double?

        @Option(
            help: ArgumentHelp(
                "This server's name among the replicas sharing the store, logged with its decisions (default: host name and process id).",
                valueName: "name"))
        var replica: String?

        @Option(
            help: ArgumentHelp(
                "Warm the entity history as of this instant (RFC 3339 or YYYY-MM-DD) instead of now: to replay a past period, as `riskloop demo --replicas` does.",
                valueName: "date"))
        var historyAsOf: String?

        @Option(
            help: ArgumentHelp(
                "The step-up outcomes reported at POST /v1/events/{id}/outcome that open a review case: failed, abandoned, both (comma-separated), or none.",
                valueName: "outcomes"))
        var stepUpCases = "failed,abandoned"

        @Option(
            help: ArgumentHelp(
                "Ask the customers' mobile operators (CAMARA) for the telco signals an event lacks, as this file configures them (docs/operators.md).",
                valueName: "operators.json"))
        var operators: String?

        @OptionGroup var store: StoreOptions
        @OptionGroup var trust: TrustOptions

        /// `--step-up-cases` as a set, `nil` when it names something else.
        static func stepUpOutcomes(_ text: String) -> Set<StepUpOutcome>? {
            if text == "none" { return [] }
            var outcomes: Set<StepUpOutcome> = []
            for word in text.split(separator: ",") {
                guard let outcome = StepUpOutcome(rawValue: word.trimmingCharacters(in: .whitespaces)), outcome != .passed else {
                    return nil
                }
                outcomes.insert(outcome)
            }
            return outcomes.isEmpty ? nil : outcomes
        }

        func validate() throws {
            if Self.stepUpOutcomes(stepUpCases) == nil {
                throw ValidationError("--step-up-cases is failed, abandoned, failed,abandoned or none (got '\(stepUpCases)')")
            }
            if let retentionDays, !(retentionDays > 0 && retentionDays <= Retention.maximumKeepDays) {
                throw ValidationError("--retention-days must be a number of days above 0 and at most \(Int(Retention.maximumKeepDays))")
            }
            if let replica, replica.isEmpty || replica.count > 256 { throw ValidationError("--replica must be 1 to 256 characters") }
            if let retrainEvery, !(retrainEvery >= 1) { throw ValidationError("--retrain-every must be at least 1 second") }
            if let historyAsOf, Train.parseInstant(historyAsOf) == nil {
                throw ValidationError("--history-as-of: '\(historyAsOf)' is not RFC 3339 or YYYY-MM-DD")
            }
        }

        func run() async throws {
            var logger = Logger(label: "riskloop.serve")
            logger.logLevel = .info
            // Every input is read and checked before anything is written.
            let decisionPolicy = try CLIError.mapping { try PolicyFile.read(policy) }
            let loopPolicy = try retrainPolicy.map { path in try CLIError.mapping { try RetrainPolicy.read(path) } } ?? RetrainPolicy()
            let artifact = try model.map { path in try CLIError.mapping { try ModelFile.read(path, allowUnsigned: trust.allowUnsigned) } }
            let operatorConfiguration = try operators.map { path in
                try CLIError.mapping { try OperatorConfiguration.read(from: URL(filePath: path)) }
            }
            if let artifact, case .failure(let error) = Result(catching: { try ServingModel(artifact) }) {
                throw CLIError.fail("\(model!): \(error)", status: CLIError.badInput)
            }
            let database = try await store.open()
            if let artifact {
                let hasChampion = try await CLIError.mapping { try await database.championId() } != nil
                try await CLIError.mapping {
                    let registry = Registry(store: database)
                    try await registry.register(
                        artifact, status: hasChampion ? .candidate : .champion, actor: RiskLoop.Keys.actor, reason: "riskloop serve --model"
                    )
                    if promote { try await registry.promote(artifact.id, actor: RiskLoop.Keys.actor, reason: "riskloop serve --promote") }
                }
            }
            let served = try await CLIError.mapping {
                try await PolicyGovernance(store: database).deploy(decisionPolicy, actor: "riskloop-serve")
            }
            if served.version != decisionPolicy.version {
                logger.notice(
                    "serving the store's active decision policy, not --policy's (stored already: activate it with riskloop policy activate)",
                    metadata: ["active": "\(served.version)", "file": "\(decisionPolicy.version)"])
            }
            let service: RiskService
            do {
                service = try await RiskService(
                    store: database, policy: served, retrainPolicy: loopPolicy, replica: replica,
                    historyAsOf: historyAsOf.flatMap(Train.parseInstant), stepUpCases: Self.stepUpOutcomes(stepUpCases) ?? [],
                    operators: operatorConfiguration, logger: logger)
            } catch {
                throw CLIError.fail("\(error)", status: CLIError.internalFailure)
            }
            if !DeploymentKeys.hasTrustDirectory {
                logger.warning(
                    "no RISKLOOP_TRUSTED_KEYS: trusting the per-user keys and the SAMPLE key of Models/keys/, which anyone can sign with; set a trust directory for a deployment"
                )
            }
            logger.info("serving", metadata: ["model": "\(service.scorer.model.artifact.id)", "policy": "\(served.version)"])
            if let retentionDays {
                // Refused at start, not an hour later, when shorter than what the live model reads.
                try await CLIError.mapping { try await Retention(store: database, keepDays: retentionDays).check() }
            }
            try await buildApplication(
                service, host: host, port: port, retrainEvery: retrainEvery.map { .milliseconds(Int64($0 * 1000)) },
                retentionDays: retentionDays
            )
            .runService()
        }
    }
}
