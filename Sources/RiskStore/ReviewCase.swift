import Foundation
import RiskContract

/// A case in the analysts' review queue: a decided event that a person must look at.
///
/// Logging a `review` decision opens one (in the same transaction as the decision); so does a
/// step-up that failed or was abandoned, when the service reports it
/// (``Store/recordStepUpOutcome(eventId:outcome:opensCase:at:)``). One case per event. Resolving
/// it stores a label version (source `analyst`), so the feedback loop learns from it.
public struct ReviewCase: Sendable, Encodable, Equatable {
    public var id: Int64
    public var eventId: String
    public var customerId: String
    public var occurredAt: Timestamp
    public var openedAt: Timestamp
    /// Why the case was opened.
    public var trigger: CaseTrigger
    public var status: CaseStatus
    /// The decision that opened the case (`decisions.id`), and what it said.
    public var decisionId: Int64
    public var decision: String
    public var score: Double
    public var modelId: String
    public var policyVersion: String
    /// The decision's reasons (the columns that raised the score most), as logged.
    public var reasons: JSONValue
    /// Set once the case is resolved (`null` while open).
    @NullEncoded public var resolution: Resolution?

    /// How an analyst resolved a case.
    public struct Resolution: Sendable, Encodable, Equatable {
        public var outcome: Outcome
        public var note: String
        /// Who resolved it (`api-key:NAME`, or the CLI's `--actor`).
        public var resolvedBy: String
        public var resolvedAt: Timestamp

        public init(outcome: Outcome, note: String, resolvedBy: String, resolvedAt: Timestamp) {
            self.outcome = outcome
            self.note = note
            self.resolvedBy = resolvedBy
            self.resolvedAt = resolvedAt
        }

        enum CodingKeys: String, CodingKey {
            case outcome, note
            case resolvedBy = "resolved_by"
            case resolvedAt = "resolved_at"
        }
    }

    public init(
        id: Int64, eventId: String, customerId: String, occurredAt: Timestamp, openedAt: Timestamp, trigger: CaseTrigger,
        status: CaseStatus, decisionId: Int64, decision: String, score: Double, modelId: String, policyVersion: String,
        reasons: JSONValue, resolution: Resolution?
    ) {
        self.id = id
        self.eventId = eventId
        self.customerId = customerId
        self.occurredAt = occurredAt
        self.openedAt = openedAt
        self.trigger = trigger
        self.status = status
        self.decisionId = decisionId
        self.decision = decision
        self.score = score
        self.modelId = modelId
        self.policyVersion = policyVersion
        self.reasons = reasons
        self.resolution = resolution
    }

    enum CodingKeys: String, CodingKey {
        case id, trigger, status, decision, score, reasons, resolution
        case eventId = "event_id"
        case customerId = "customer_id"
        case occurredAt = "occurred_at"
        case openedAt = "opened_at"
        case decisionId = "decision_id"
        case modelId = "model_id"
        case policyVersion = "policy_version"
    }
}

/// Why a case was opened.
public enum CaseTrigger: String, Sendable, Codable, CaseIterable {
    /// The decision was `review`.
    case review
    /// The decision was `step_up` and the customer failed it.
    case stepUpFailed = "step_up_failed"
    /// The decision was `step_up` and the customer never completed it.
    case stepUpAbandoned = "step_up_abandoned"
}

/// Where a case stands.
public enum CaseStatus: String, Sendable, Codable, CaseIterable {
    case open, resolved
}

/// How a step-up (a second factor the service asked for) ended, as the service reports it.
public enum StepUpOutcome: String, Sendable, Codable, CaseIterable {
    case passed, failed, abandoned

    /// The trigger of the case this outcome opens, if it opens one.
    public var caseTrigger: CaseTrigger? {
        switch self {
        case .passed: nil
        case .failed: .stepUpFailed
        case .abandoned: .stepUpAbandoned
        }
    }
}

/// Which cases to list: oldest opened first.
public struct CaseFilter: Sendable, Equatable {
    /// `nil`: open and resolved.
    public var status: CaseStatus?
    public var customerId: String?
    public var trigger: CaseTrigger?
    /// Cases opened in `[openedFrom, openedTo)`.
    public var openedFrom: Timestamp?
    public var openedTo: Timestamp?
    public var limit: Int

    public init(
        status: CaseStatus? = .open, customerId: String? = nil, trigger: CaseTrigger? = nil, openedFrom: Timestamp? = nil,
        openedTo: Timestamp? = nil, limit: Int = 100
    ) {
        self.status = status
        self.customerId = customerId
        self.trigger = trigger
        self.openedFrom = openedFrom
        self.openedTo = openedTo
        self.limit = limit
    }
}

/// The queue in counts, for `/metrics`.
public struct CaseStatistics: Sendable, Equatable {
    public var open: Int
    /// When the oldest open case was opened.
    public var oldestOpenedAt: Timestamp?
    /// Resolved cases by outcome.
    public var resolved: [Outcome: Int]

    public init(open: Int, oldestOpenedAt: Timestamp?, resolved: [Outcome: Int]) {
        self.open = open
        self.oldestOpenedAt = oldestOpenedAt
        self.resolved = resolved
    }
}

// The refusals every backend gives for the same case, written once.
extension StoreError {
    package static func noCase(_ id: Int64) -> StoreError { .notFound(what: "case \(id)") }

    package static func caseResolved(_ id: Int64, _ resolution: ReviewCase.Resolution) -> StoreError {
        .conflict(
            reason:
                "case \(id) is already resolved (\(resolution.outcome.rawValue), by \(resolution.resolvedBy) at \(resolution.resolvedAt.rfc3339)); a case is resolved once — send a new label to change the outcome"
        )
    }

    package static func noDecision(_ eventId: String) -> StoreError { .notFound(what: "a decision for event \(eventId)") }

    package static func notSteppedUp(_ eventId: String, decision: String) -> StoreError {
        .conflict(reason: "event \(eventId) was decided '\(decision)', not 'step_up': it had no step-up to report on")
    }

    package static func stepUpReported(_ eventId: String, _ outcome: String) -> StoreError {
        .conflict(reason: "the step-up of event \(eventId) was already reported as '\(outcome)'")
    }
}

extension ReviewCase {
    /// The columns every backend selects for a case, in this order (`c`: cases, `d`: decisions),
    /// read back by ``init(row:)``.
    package static let selectedColumns = """
        c.id, c.event_id, c.customer_id, c.occurred_at, c.opened_at, c.trigger, c.status, c.outcome, c.note, c.resolved_by,
        c.resolved_at, c.decision_id, d.decision, d.score, d.model_id, d.policy_version, d.reasons
        """

    /// The stored columns of a case, as ``selectedColumns`` names them.
    package struct Row: Sendable {
        package var id: Int64, eventId: String, customerId: String, occurredAt: Int64, openedAt: Int64
        package var trigger: String, status: String, outcome: String?, note: String?, resolvedBy: String?, resolvedAt: Int64?
        package var decisionId: Int64, decision: String, score: Double, modelId: String, policyVersion: String, reasons: String

        package init(
            id: Int64, eventId: String, customerId: String, occurredAt: Int64, openedAt: Int64, trigger: String, status: String,
            outcome: String?, note: String?, resolvedBy: String?, resolvedAt: Int64?, decisionId: Int64, decision: String,
            score: Double, modelId: String, policyVersion: String, reasons: String
        ) {
            self.id = id
            self.eventId = eventId
            self.customerId = customerId
            self.occurredAt = occurredAt
            self.openedAt = openedAt
            self.trigger = trigger
            self.status = status
            self.outcome = outcome
            self.note = note
            self.resolvedBy = resolvedBy
            self.resolvedAt = resolvedAt
            self.decisionId = decisionId
            self.decision = decision
            self.score = score
            self.modelId = modelId
            self.policyVersion = policyVersion
            self.reasons = reasons
        }
    }

    /// A case from its stored columns.
    ///
    /// - Throws: ``StoreError/database(message:)`` for a trigger, status or outcome the code does
    ///   not know, or a resolved case without its resolution: never read as something else.
    package init(row: Row) throws(StoreError) {
        guard let trigger = CaseTrigger(rawValue: row.trigger) else {
            throw .database(message: "cases row \(row.id): unknown trigger '\(row.trigger)'")
        }
        guard let status = CaseStatus(rawValue: row.status) else {
            throw .database(message: "cases row \(row.id): unknown status '\(row.status)'")
        }
        var resolution: Resolution?
        if status == .resolved {
            guard let text = row.outcome, let outcome = Outcome(rawValue: text), let resolvedBy = row.resolvedBy,
                let resolvedAt = row.resolvedAt
            else {
                throw .database(message: "cases row \(row.id): resolved without a known outcome, resolver and time")
            }
            resolution = Resolution(
                outcome: outcome, note: row.note ?? "", resolvedBy: resolvedBy, resolvedAt: Timestamp(millisecondsSinceEpoch: resolvedAt))
        }
        let reasons: JSONValue
        do {
            reasons = try JSONValue.parse(Array(row.reasons.utf8))
        } catch {
            throw .database(message: "decisions row \(row.decisionId): reasons are not JSON (\(error))")
        }
        self.init(
            id: row.id, eventId: row.eventId, customerId: row.customerId, occurredAt: Timestamp(millisecondsSinceEpoch: row.occurredAt),
            openedAt: Timestamp(millisecondsSinceEpoch: row.openedAt), trigger: trigger, status: status, decisionId: row.decisionId,
            decision: row.decision, score: row.score, modelId: row.modelId, policyVersion: row.policyVersion, reasons: reasons,
            resolution: resolution)
    }

    /// The audit detail of a resolution: the case, its event and the outcome, as JSON.
    package static func resolutionDetail(id: Int64, eventId: String, outcome: Outcome, labelSeq: Int64) -> String {
        struct Detail: Encodable {
            var `case`: Int64, eventId: String, outcome: Outcome, labelSeq: Int64
            enum CodingKeys: String, CodingKey {
                case `case`, outcome
                case eventId = "event_id"
                case labelSeq = "label_seq"
            }
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = (try? encoder.encode(Detail(case: id, eventId: eventId, outcome: outcome, labelSeq: labelSeq))) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }
}
