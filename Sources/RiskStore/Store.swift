import Foundation
import Logging
import RiskContract

/// RiskLoop's store: events, label versions, decisions, policies, the model registry, the audit
/// log, API keys and retraining cycles, behind one protocol that every backend implements.
///
/// ```swift
/// let store = try await StoreLocation("riskloop.sqlite").open(logger: logger)
/// let report = try await store.ingestEvents(fromFile: "events.jsonl")
/// ```
///
/// Every call is `async` and does its database work off Swift concurrency's cooperative threads
/// (SQLite calls block). Every write is one transaction: a failure leaves the store as it was
/// before that write. Every failure is a ``StoreError``. Table and column names are part of the
/// contract (notebooks and operators query them with SQL): `events`, `labels`, `decisions`,
/// `policies`, `models`, `audit_log`, `api_keys`, `retrain_cycles`, `ingest_batches`, `cases`.
///
/// Backends: `RiskStoreSQLite` (the embedded default) and `RiskStorePostgres` (one database that
/// several processes share). Code outside a backend depends on this
/// protocol only and opens a store through `RiskStoreLocation`.
public protocol Store: Sendable {
    /// Where the store lives, as it was opened (a file path, `:memory:`, or a URL).
    var location: String { get }

    // MARK: Events

    /// Ingests events from a JSON-lines file (ARCHITECTURE.md §5.1), one transaction per batch.
    ///
    /// Each line is validated (``RiskFeatures/Event``) and stored verbatim. An id the store
    /// already holds with the same JSON (in any member order) is reported as a duplicate and
    /// skipped; with other JSON it is a bad line (an id names one event for good). A line that
    /// breaks the contract stops the ingest with ``StoreError/badLine(file:line:field:message:accepted:)``:
    /// its batch is rolled back, the batches before it stay committed, so after fixing the line
    /// the same command resumes (the committed lines come back as duplicates).
    ///
    /// - Parameters:
    ///   - batchSize: lines per transaction.
    ///   - progress: called after each committed batch.
    func ingestEvents(fromFile path: String, batchSize: Int, progress: (@Sendable (IngestProgress) -> Void)?) async throws(StoreError)
        -> IngestReport

    /// The events that occurred in `[from, to)`, in time order (`occurred_at`, then arrival), with
    /// their JSON as stored.
    ///
    /// - Parameter keepingJSON: keep each event's JSON tree (a spec reads fields outside the contract).
    func events(from: Timestamp, to: Timestamp, keepingJSON: Bool) async throws(StoreError) -> [(event: ParsedEvent, payload: String)]

    /// Reads what a retraining cycle trains on, in one snapshot: events in `[from, to)` (and those
    /// in `[historyFrom, from)` for history), and the label versions reported at or before `cutoff`.
    func trainingSnapshot(historyFrom: Timestamp, from: Timestamp, to: Timestamp, labelsKnownAt cutoff: Timestamp, keepingJSON: Bool)
        async throws(StoreError) -> TrainingSnapshot

    /// The earliest `occurred_at` among the events `ids` (unknown ids are ignored).
    func earliestEventTime(of ids: [String]) async throws(StoreError) -> Timestamp?

    /// The latest `occurred_at` of any stored event.
    func latestEventTime() async throws(StoreError) -> Timestamp?

    /// The stored events among `ids`, by id: what a retry is checked against. One indexed read,
    /// made on every scoring request.
    func storedEvents(ids: [String]) async throws(StoreError) -> [String: StoredEvent]

    // MARK: Labels

    /// Ingests labels (ARCHITECTURE.md §5.2) from CSV with a header row (`.csv`) or from JSON
    /// lines (any other extension), one transaction per batch.
    ///
    /// Every version is kept; a label identical to a stored one (same event, outcome, time and
    /// source) is a duplicate and skipped. A label for an event the store does not hold is an
    /// error naming its line. Failure semantics are those of ``ingestEvents(fromFile:batchSize:progress:)``.
    func ingestLabels(fromFile path: String, batchSize: Int, progress: (@Sendable (IngestProgress) -> Void)?) async throws(StoreError)
        -> IngestReport

    /// Stores label versions received in memory (an API call), in one transaction. Every label
    /// must name a stored event; the first that does not fails the whole call with its position
    /// (a ``StoreError/badLine(file:line:field:message:accepted:)`` naming `event_id`).
    func ingest(labels: [Label], source: String) async throws(StoreError) -> IngestReport

    /// Each event's latest label version reported at or before `cutoff`, by event id.
    func labels(knownAt cutoff: Timestamp) async throws(StoreError) -> [String: Label]

    /// Every label version of one event, in report order.
    func labelVersions(eventId: String) async throws(StoreError) -> [Label]

    /// The label versions reported in `(after, through]`, in report order, each saying whether
    /// its event had a version reported at or before `after`.
    func labelVersions(reportedAfter after: Timestamp, through: Timestamp) async throws(StoreError) -> [(
        label: Label, eventWasLabelled: Bool
    )]

    /// How many label versions were stored after `seq` (`labels.seq`).
    func labelVersionCount(after seq: Int64) async throws(StoreError) -> Int

    /// Events in `[from, to)` and the fraud among them by the labels known at `knownAt`, per label source.
    func labelSourceCounts(from: Timestamp, to: Timestamp, knownAt: Timestamp) async throws(StoreError) -> [LabelSourceCount]

    // MARK: Decisions and policies

    /// Logs decisions (and their events, when not stored yet) in one transaction. A `review`
    /// decision opens a case in the same transaction (one per event).
    ///
    /// - Throws: ``StoreError/duplicateEvent(id:)`` when an event id is stored with another payload.
    func log(_ decisions: [DecisionRecord]) async throws(StoreError)

    /// The end of the shared log now: the last decision and the last label version stored.
    func logPosition() async throws(StoreError) -> LogPosition

    /// The decisions (with their events) and label versions appended after `position`, at most
    /// `limit` of each, in log order: what a replica applies to its entity history to see what
    /// the others decided and were told. A position once returned never has an earlier entry
    /// appear behind it (appends become visible in log order).
    func logTail(after position: LogPosition, limit: Int) async throws(StoreError) -> LogTail

    /// The decisions logged for events that occurred in `[from, to)`, in time order.
    func decisions(from: Timestamp, to: Timestamp) async throws(StoreError) -> [LoggedDecision]

    /// The scores `modelId` gave, as champion or in shadow, to events that occurred in `[from, to)`.
    func decisionScores(modelId: String, from: Timestamp, to: Timestamp) async throws(StoreError) -> [Double]

    /// Records the decision policy `version` as `json` (with an audit entry, `policy.record`)
    /// before decisions that name it are logged. Recording the same content again is a no-op.
    ///
    /// - Throws: ``StoreError/conflict(reason:)`` when `version` is recorded with other content.
    func recordPolicy(version: String, json: String, actor: String) async throws(StoreError)

    /// The policy recorded under `version`, as recorded.
    func policyJSON(version: String) async throws(StoreError) -> String?

    /// Proposes the decision policy `version` as `json` (canonical), with a `policy.propose` audit
    /// entry. A version recorded with the same content becomes proposed; one already proposed,
    /// active or retired is left as it is.
    ///
    /// - Throws: ``StoreError/conflict(reason:)`` when `version` is stored with other content.
    func proposePolicy(version: String, json: String, actor: String) async throws(StoreError)

    /// Makes the proposed (or retired) policy `version` the active one and retires the previous,
    /// atomically, with a `policy.activate` audit entry. Activating the active one changes nothing.
    ///
    /// - Parameter fourEyes: refuse when `actor` proposed it (only a server deploying its own
    ///   `--policy` file passes `false`, and says so in `reason`).
    /// - Throws: ``StoreError/notFound(what:)`` for an unknown version; ``StoreError/conflict(reason:)``
    ///   when its proposer activates it, or it was never proposed.
    func activatePolicy(version: String, actor: String, reason: String, fourEyes: Bool) async throws(StoreError)

    /// Every stored policy version, newest first.
    func policies() async throws(StoreError) -> [PolicyRecord]

    // MARK: Review cases

    /// The cases `filter` selects, oldest opened first, at most `filter.limit`.
    func cases(_ filter: CaseFilter) async throws(StoreError) -> [ReviewCase]

    /// One case, with its event's JSON as stored; `nil` for an id the store does not hold.
    func reviewCase(id: Int64) async throws(StoreError) -> (reviewCase: ReviewCase, payload: String)?

    /// Resolves an open case as `outcome`, in one transaction: the case records who resolved it,
    /// when and why, a label version (source `analyst`, reported `at`) joins the shared log, and
    /// the audit log gets `case.resolve`.
    ///
    /// - Throws: ``StoreError/notFound(what:)`` for an unknown case; ``StoreError/conflict(reason:)``
    ///   for one already resolved (a case is resolved once).
    func resolveCase(id: Int64, outcome: Outcome, note: String, actor: String, at: Timestamp) async throws(StoreError) -> (
        reviewCase: ReviewCase, label: Label
    )

    /// Records how the step-up of a `step_up` decision ended and, when `opensCase` and it failed
    /// or was abandoned, opens a case for it, in one transaction. Reporting the same outcome again
    /// changes nothing.
    ///
    /// - Returns: the event's case, if it has one.
    /// - Throws: ``StoreError/notFound(what:)`` for an event without a decision;
    ///   ``StoreError/conflict(reason:)`` when its decision was not `step_up`, or its step-up was
    ///   reported with another outcome.
    func recordStepUpOutcome(eventId: String, outcome: StepUpOutcome, opensCase: Bool, at: Timestamp) async throws(StoreError)
        -> ReviewCase?

    /// The queue in counts: open cases, the oldest one's opening, resolutions by outcome.
    func caseStatistics() async throws(StoreError) -> CaseStatistics

    /// The events of one customer that occurred in `[from, to)`, in time order: what a case shows
    /// as the customer's usual behaviour.
    func events(customerId: String, from: Timestamp, to: Timestamp) async throws(StoreError) -> [(event: ParsedEvent, payload: String)]

    // MARK: Registry

    /// Adds a model to the registry with `status` (a model already there is left as it is).
    /// Registering a champion retires the current one, in the same transaction, with an audit entry.
    ///
    /// - Returns: whether the model was new.
    @discardableResult
    func register(_ model: ModelRegistration, status: ModelStatus, actor: String, reason: String?) async throws(StoreError) -> Bool

    /// Makes `id` the champion and retires the previous one, atomically, with an audit entry.
    /// The store does not read the artifact: `RiskEngine`'s registry checks it first.
    func promote(_ id: String, actor: String, reason: String?) async throws(StoreError)

    /// Puts the previous champion back and retires the current one, atomically, with an audit entry.
    ///
    /// - Returns: the restored champion's id.
    @discardableResult
    func rollback(actor: String, reason: String?) async throws(StoreError) -> String

    /// The model a ``rollback(actor:reason:)`` now would restore, if there is one.
    func rollbackTarget() async throws(StoreError) -> String?

    /// Makes `id` the one model scoring in shadow beside the champion, or ends shadow scoring with
    /// `nil`; a previous shadow goes back to `candidate`. Atomic, with an audit entry.
    func setShadow(_ id: String?, actor: String, reason: String?) async throws(StoreError)

    /// The champion's id, if there is one.
    func championId() async throws(StoreError) -> String?

    /// The model scoring in shadow, if there is one.
    func shadowId() async throws(StoreError) -> String?

    /// A registered model's artifact JSON as stored, and the SHA-256 recorded when it was registered.
    ///
    /// - Throws: ``StoreError/notFound(what:)`` for an id the registry does not hold.
    func registeredArtifact(of id: String) async throws(StoreError) -> (json: Data, registeredSHA256: String)

    /// Every registered model, newest first.
    func models() async throws(StoreError) -> [RegisteredModel]

    /// Calls `changed` with the registry's champion, shadow and active policy once at the start
    /// and then whenever another writer (this process or another one, such as the CLI) changes them,
    /// checking every `interval`; runs until the task is cancelled.
    func watchRegistry(every interval: Duration, _ changed: @Sendable (RegistryState) async -> Void) async throws

    // MARK: Retraining cycles

    /// Retraining cycles, newest first (by cutoff), at most `limit`.
    func cycles(limit: Int) async throws(StoreError) -> [RetrainCycleRecord]

    /// Registers the challenger, promotes it when `promote` is true and the champion is still the
    /// one the cycle compared it with, and records the cycle, in one transaction.
    ///
    /// - Returns: the cycle as recorded (with its id, and `rejected` when the champion changed meanwhile).
    func finishCycle(_ cycle: RetrainCycleRecord, challenger: ModelRegistration, promote: Bool) async throws(StoreError)
        -> RetrainCycleRecord

    // MARK: Audit log and API keys

    /// Appends an entry to the append-only audit log.
    ///
    /// - Returns: the entry's sequence number.
    @discardableResult
    func appendAudit(actor: String, action: String, subject: String?, reason: String?, detail: String?, at: Timestamp?)
        async throws(StoreError) -> Int64

    /// The audit entries in `[from, to)` (all of them by default), in sequence order.
    func auditEntries(from: Timestamp?, to: Timestamp?) async throws(StoreError) -> [AuditEntry]

    /// Creates an API key and returns it with its record. Only its SHA-256 is stored, so this is
    /// the only time it can be read. Audited in the same transaction.
    func createKey(name: String, role: APIRole, actor: String) async throws(StoreError) -> (key: String, record: APIKey)

    /// The key that `presented` is, if it exists and is not revoked: looked up on every request,
    /// so a revocation counts from the next one.
    func key(matching presented: String) async throws(StoreError) -> APIKey?

    /// Every key, newest first.
    func keys() async throws(StoreError) -> [APIKey]

    /// Revokes a key (it stays listed), with an audit entry.
    func revokeKey(id: Int64, actor: String, reason: String?) async throws(StoreError)

    // MARK: Retention

    /// Removes the events that occurred before `cutoff`, except those inside `keeping` and those
    /// with an open review case, with their decisions, label versions and resolved cases (the
    /// audit log keeps each resolution): oldest first, `batchSize` events per transaction, so
    /// a long run never holds the database and an interrupted one keeps what it removed. A run
    /// that removed something is audited (``PruneReport/auditAction``, the report as detail).
    /// The registry, the audit log, API keys, policies and cycles are never touched.
    ///
    /// - Parameter dryRun: count only; nothing is removed or audited.
    func prune(before cutoff: Timestamp, keeping: [PruneReport.KeptWindow], batchSize: Int, dryRun: Bool, actor: String)
        async throws(StoreError) -> PruneReport

    // MARK: Locks

    /// Runs `body` while holding `lock`, which one holder at a time has among every process on
    /// the store (PostgreSQL: a session advisory lock, released if the process dies; SQLite: a
    /// `flock` on a file beside the database, likewise). Returns `nil` at once, without running
    /// `body`, when another holder has it.
    func exclusively<T: Sendable>(_ lock: StoreLock, _ body: () async -> T) async throws(StoreError) -> T?

    // MARK: Upkeep

    /// What the store holds, in counts.
    func statistics() async throws(StoreError) -> StoreStatistics

    /// The backend's background work for a long-running server, until the task is cancelled
    /// (SQLite: WAL checkpoints off the commit path; PostgreSQL: listening for API key changes,
    /// so that keys can be kept in memory). Errors are logged and retried, never thrown.
    func runUpkeep(logger: Logger) async
}

/// A lock that one holder at a time has among every process on a store.
public enum StoreLock: String, Sendable, CaseIterable {
    /// Held while a retraining cycle runs: two replicas with `--retrain-every` never train at once.
    case retraining
}

/// The registry's serving state: what every scorer of a deployment follows.
public struct RegistryState: Sendable, Equatable {
    public var champion: String?
    public var shadow: String?
    /// The active decision policy's version.
    public var policy: String?

    public init(champion: String?, shadow: String?, policy: String? = nil) {
        self.champion = champion
        self.shadow = shadow
        self.policy = policy
    }
}

extension Store {
    /// ``ingestEvents(fromFile:batchSize:progress:)`` in batches of ``IngestReport/defaultBatchSize``.
    public func ingestEvents(fromFile path: String, progress: (@Sendable (IngestProgress) -> Void)? = nil) async throws(StoreError)
        -> IngestReport
    {
        try await ingestEvents(fromFile: path, batchSize: IngestReport.defaultBatchSize, progress: progress)
    }

    /// ``ingestEvents(fromFile:batchSize:progress:)`` without progress reports.
    public func ingestEvents(fromFile path: String, batchSize: Int) async throws(StoreError) -> IngestReport {
        try await ingestEvents(fromFile: path, batchSize: batchSize, progress: nil)
    }

    /// ``ingestLabels(fromFile:batchSize:progress:)`` without progress reports.
    public func ingestLabels(fromFile path: String, batchSize: Int) async throws(StoreError) -> IngestReport {
        try await ingestLabels(fromFile: path, batchSize: batchSize, progress: nil)
    }

    /// ``ingestLabels(fromFile:batchSize:progress:)`` in batches of ``IngestReport/defaultBatchSize``.
    public func ingestLabels(fromFile path: String, progress: (@Sendable (IngestProgress) -> Void)? = nil) async throws(StoreError)
        -> IngestReport
    {
        try await ingestLabels(fromFile: path, batchSize: IngestReport.defaultBatchSize, progress: progress)
    }

    /// ``register(_:status:actor:reason:)`` without a reason.
    @discardableResult
    public func register(_ model: ModelRegistration, status: ModelStatus, actor: String) async throws(StoreError) -> Bool {
        try await register(model, status: status, actor: actor, reason: nil)
    }

    /// A registered model's artifact JSON, as stored.
    public func artifactJSON(of id: String) async throws(StoreError) -> Data {
        try await registeredArtifact(of: id).json
    }

    /// The newest retraining cycle, if any.
    public func lastCycle() async throws(StoreError) -> RetrainCycleRecord? {
        try await cycles(limit: 1).first
    }

    /// Every retraining cycle, newest first.
    public func cycles() async throws(StoreError) -> [RetrainCycleRecord] {
        try await cycles(limit: .max)
    }

    /// ``appendAudit(actor:action:subject:reason:detail:at:)`` stamped now.
    @discardableResult
    public func appendAudit(actor: String, action: String, subject: String? = nil, reason: String? = nil, detail: String? = nil)
        async throws(StoreError) -> Int64
    {
        try await appendAudit(actor: actor, action: action, subject: subject, reason: reason, detail: detail, at: nil)
    }

    /// The whole audit log, in sequence order.
    public func auditEntries() async throws(StoreError) -> [AuditEntry] {
        try await auditEntries(from: nil, to: nil)
    }

    /// The registry's champion and shadow, and the active policy, now.
    public func registryState() async throws(StoreError) -> RegistryState {
        RegistryState(
            champion: try await championId(), shadow: try await shadowId(),
            policy: try await policies().first { $0.status == .active }?.version)
    }
}
