import Foundation
import RiskContract

/// The status of a model in the registry.
public enum ModelStatus: String, Sendable, Codable, CaseIterable {
    case candidate, champion, shadow, rejected, retired
}

/// What the registry stores about a model; the artifact itself is kept verbatim as JSON (the
/// store does not interpret it, so it never depends on the model code).
public struct ModelRegistration: Sendable {
    public var id: String
    public var algorithm: String
    public var createdAt: Timestamp
    public var parentId: String?
    public var featureSpecSHA256: String
    public var artifactSHA256: String
    /// The artifact's JSON, exactly as it will be read back.
    public var artifact: Data

    public init(
        id: String, algorithm: String, createdAt: Timestamp, parentId: String?, featureSpecSHA256: String, artifactSHA256: String,
        artifact: Data
    ) {
        self.id = id
        self.algorithm = algorithm
        self.createdAt = createdAt
        self.parentId = parentId
        self.featureSpecSHA256 = featureSpecSHA256
        self.artifactSHA256 = artifactSHA256
        self.artifact = artifact
    }
}

/// The registry's status reasons that the backends write and rollback looks for, written once.
package enum RegistryReason {
    /// The status reason of a champion retired by a promotion: what rollback looks for.
    package static let replaced = "replaced by a new champion"
    package static let restored = "restored by rollback"
    package static let shadowEnded = "shadow scoring ended"

    package static func rolledBack(_ reason: String?) -> String { "rolled back" + (reason.map { ": \($0)" } ?? "") }
}
