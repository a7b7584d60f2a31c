import Foundation
import RiskContract

/// A decision policy version in the store, and where it stands in its governance.
///
/// A policy goes through the store like a model: proposed (validated, versioned, audited),
/// backtested, then activated by someone other than its proposer (four eyes); every server
/// follows the active one. Versions that only decided before governance existed are `recorded`.
public struct PolicyRecord: Sendable, Encodable, Equatable {
    public var version: String
    public var status: PolicyStatus
    public var recordedAt: Timestamp
    @NullEncoded public var proposedBy: String?
    @NullEncoded public var activatedBy: String?
    @NullEncoded public var activatedAt: Timestamp?
    /// Why its status last changed (an activation's reason).
    @NullEncoded public var reason: String?

    public init(
        version: String, status: PolicyStatus, recordedAt: Timestamp, proposedBy: String?, activatedBy: String?, activatedAt: Timestamp?,
        reason: String?
    ) {
        self.version = version
        self.status = status
        self.recordedAt = recordedAt
        self.proposedBy = proposedBy
        self.activatedBy = activatedBy
        self.activatedAt = activatedAt
        self.reason = reason
    }

    enum CodingKeys: String, CodingKey {
        case version, status, reason
        case recordedAt = "recorded_at"
        case proposedBy = "proposed_by"
        case activatedBy = "activated_by"
        case activatedAt = "activated_at"
    }

    /// A policy from its stored columns; a status the code does not know is an error naming the row.
    package init(
        version: String, status: String, recordedAt: Int64, proposedBy: String?, activatedBy: String?, activatedAt: Int64?, reason: String?
    ) throws(StoreError) {
        guard let known = PolicyStatus(rawValue: status) else {
            throw .database(message: "policies row '\(version)': unknown status '\(status)'")
        }
        self.init(
            version: version, status: known, recordedAt: Timestamp(millisecondsSinceEpoch: recordedAt), proposedBy: proposedBy,
            activatedBy: activatedBy, activatedAt: activatedAt.map(Timestamp.init(millisecondsSinceEpoch:)), reason: reason)
    }
}

/// Where a policy version stands.
public enum PolicyStatus: String, Sendable, Codable, CaseIterable {
    /// Stored because it decided (before governance, or by the demo); never proposed.
    case recorded
    case proposed
    /// The one every server decides with.
    case active
    /// Active once, replaced since.
    case retired
}

// The refusals every backend gives for the same policy, written once.
extension StoreError {
    package static func noPolicy(_ version: String) -> StoreError { .notFound(what: "decision policy \(version)") }

    package static func sameProposer(_ version: String, _ actor: String) -> StoreError {
        .conflict(reason: "policy \(version) was proposed by \(actor): someone else must activate it (four eyes)")
    }

    package static func neverProposed(_ version: String) -> StoreError {
        .conflict(reason: "policy \(version) was never proposed: propose it first (riskloop policy propose FILE)")
    }

    /// The audit detail of an activation: the version it replaced.
    package static func activationDetail(previous: String?) -> String {
        // Through the encoder: a version is any string, quotes included.
        struct Detail: Encodable {
            @NullEncoded var previous: String?
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        let data = (try? encoder.encode(Detail(previous: previous))) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }
}
