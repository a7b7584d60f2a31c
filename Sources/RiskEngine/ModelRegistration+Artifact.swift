import RiskModels
import RiskStore

extension ModelRegistration {
    /// The registry entry of a model artifact: its identity, lineage and bytes.
    public init(_ artifact: ModelArtifact) {
        self.init(
            id: artifact.id, algorithm: artifact.algorithm.rawValue, createdAt: artifact.createdAt, parentId: artifact.parentId,
            featureSpecSHA256: artifact.featureSpecSHA256, artifactSHA256: artifact.sha256 ?? artifact.computedSHA256(),
            artifact: artifact.encoded())
    }
}
