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
