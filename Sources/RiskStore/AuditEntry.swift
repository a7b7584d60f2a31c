import Foundation
import RiskContract

/// One entry of the append-only audit log.
public struct AuditEntry: Sendable, Codable, Equatable {
    public var seq: Int64
    public var at: Timestamp
    /// Who acted: a user name, an API key's name, or `riskloop` for the engine itself.
    public var actor: String
    /// What happened, as a dotted verb: `model.promote`, `model.rollback`, `key.create`, `retrain.cycle`.
    public var action: String
    public var subject: String?
    public var reason: String?
    /// A JSON object with the particulars.
    public var detail: String?

    public init(seq: Int64, at: Timestamp, actor: String, action: String, subject: String?, reason: String?, detail: String?) {
        self.seq = seq
        self.at = at
        self.actor = actor
        self.action = action
        self.subject = subject
        self.reason = reason
        self.detail = detail
    }
}
