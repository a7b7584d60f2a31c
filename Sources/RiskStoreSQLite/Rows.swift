import GRDB
import RiskContract
import RiskStore

// The rows of the tables the backend writes and reads whole, as GRDB records: columns named by
// the migrations (snake_case), times in milliseconds since the epoch. Each converts to and from
// the protocol's record, so a column is mapped in one place.

/// A row of `audit_log` (append-only: inserted, never updated).
struct AuditRow: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "audit_log"
    static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase

    var seq: Int64?
    var at: Int64
    var actor: String
    var action: String
    var subject: String?
    var reason: String?
    var detail: String?

    var entry: AuditEntry {
        AuditEntry(
            seq: seq ?? 0, at: Timestamp(millisecondsSinceEpoch: at), actor: actor, action: action, subject: subject, reason: reason,
            detail: detail)
    }
}

/// A row of `api_keys`: the key itself is never stored, only its SHA-256.
struct APIKeyRow: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "api_keys"
    static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase

    var id: Int64?
    var name: String
    var role: String
    var keySha256: String
    var createdAt: Int64
    var revokedAt: Int64?

    /// - Throws: ``RiskStore/StoreError/database(message:)`` for a role the code does not know.
    func key() throws -> APIKey {
        guard let role = APIRole(rawValue: role) else {
            throw StoreError.database(message: "api_keys row \(id ?? 0): unknown role '\(role)'")
        }
        return APIKey(
            id: id ?? 0, name: name, role: role, createdAt: Timestamp(millisecondsSinceEpoch: createdAt),
            revokedAt: revokedAt.map(Timestamp.init(millisecondsSinceEpoch:)))
    }
}

/// A row of `retrain_cycles`.
struct RetrainCycleRow: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "retrain_cycles"
    static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase

    var id: Int64?
    var startedAt: Int64
    var finishedAt: Int64
    var asOf: Int64
    var actor: String
    var trigger: String
    var labelHighWater: Int64
    var championId: String?
    var challengerId: String
    var outcome: String
    var reason: String
    var detail: String

    init(_ cycle: RetrainCycleRecord) {
        id = cycle.id
        startedAt = cycle.startedAt.millisecondsSinceEpoch
        finishedAt = cycle.finishedAt.millisecondsSinceEpoch
        asOf = cycle.asOf.millisecondsSinceEpoch
        actor = cycle.actor
        trigger = cycle.trigger
        labelHighWater = cycle.labelHighWater
        championId = cycle.championId
        challengerId = cycle.challengerId
        outcome = cycle.outcome.rawValue
        reason = cycle.reason
        detail = cycle.detail
    }

    /// - Throws: ``RiskStore/StoreError/database(message:)`` for an outcome the code does not
    ///   know (the CHECK constraint allows only known ones; a newer schema's would land here),
    ///   rather than reading it as some other outcome.
    func cycle() throws -> RetrainCycleRecord {
        guard let outcome = RetrainCycleRecord.Outcome(rawValue: outcome) else {
            throw StoreError.database(message: "retrain_cycles row \(id ?? 0): unknown outcome '\(outcome)'")
        }
        var record = RetrainCycleRecord(
            startedAt: Timestamp(millisecondsSinceEpoch: startedAt), finishedAt: Timestamp(millisecondsSinceEpoch: finishedAt),
            asOf: Timestamp(millisecondsSinceEpoch: asOf), actor: actor, trigger: trigger, labelHighWater: labelHighWater,
            championId: championId, challengerId: challengerId, outcome: outcome, reason: reason, detail: detail)
        record.id = id
        return record
    }
}

/// A row of `models`, as registration inserts it (status changes are updates of two columns).
struct ModelRow: Encodable, PersistableRecord {
    static let databaseTableName = "models"
    static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase

    var id: String
    var algorithm: String
    var status: String
    var createdAt: Int64
    var parentId: String?
    var featureSpecSha256: String
    /// The signed artifact's JSON text.
    var artifact: String
    var artifactSha256: String
    var statusReason: String?
    var statusChangedAt: Int64

    init(_ model: ModelRegistration, status: ModelStatus, reason: String?, now: Int64) {
        id = model.id
        algorithm = model.algorithm
        self.status = status.rawValue
        createdAt = model.createdAt.millisecondsSinceEpoch
        parentId = model.parentId
        featureSpecSha256 = model.featureSpecSHA256
        artifact = String(decoding: model.artifact, as: UTF8.self)
        artifactSha256 = model.artifactSHA256
        statusReason = reason
        statusChangedAt = now
    }
}

/// A row of `models` without its artifact: what the registry listing reads.
struct ModelSummaryRow: Decodable, FetchableRecord, TableRecord {
    static let databaseTableName = "models"
    static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    static var databaseSelection: [any SQLSelectable] {
        [
            Column("id"), Column("algorithm"), Column("status"), Column("created_at"), Column("parent_id"),
            Column("feature_spec_sha256"), Column("artifact_sha256"), Column("status_reason"),
        ]
    }

    var id: String
    var algorithm: String
    var status: String
    var createdAt: Int64
    var parentId: String?
    var featureSpecSha256: String
    var artifactSha256: String
    var statusReason: String?

    var model: RegisteredModel {
        RegisteredModel(
            id: id, algorithm: algorithm, status: status, createdAt: Timestamp(millisecondsSinceEpoch: createdAt).rfc3339,
            parentId: parentId, featureSpecSHA256: featureSpecSha256, artifactSHA256: artifactSha256, statusReason: statusReason)
    }
}

/// A row of `decisions` with its event's time, as replay and backtests read the log.
struct LoggedDecisionRow: Decodable, FetchableRecord {
    static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase

    var id: Int64
    var eventId: String
    var occurredAt: Int64
    var decidedAt: Int64
    var modelId: String
    var policyVersion: String
    var score: Double
    var decision: String
    var replica: String?
    var historyPosition: Int64?

    var decisionRecord: LoggedDecision {
        LoggedDecision(
            id: id, eventId: eventId, occurredAt: Timestamp(millisecondsSinceEpoch: occurredAt),
            decidedAt: Timestamp(millisecondsSinceEpoch: decidedAt), modelId: modelId, policyVersion: policyVersion, score: score,
            decision: decision, replica: replica, historyPosition: historyPosition)
    }
}
