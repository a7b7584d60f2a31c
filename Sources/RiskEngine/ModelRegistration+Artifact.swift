import RiskModels
import RiskStore

extension ModelRegistration {
    /// The registry entry of a model artifact: its identity, lineage and bytes. An unsigned
    /// artifact is signed with the deployment's key first (``DeploymentKeys``): everything in the
    /// registry is vouched for, and read back only through a signature check. An artifact signed
    /// elsewhere keeps its signature.
    public init(_ artifact: ModelArtifact) throws(EngineError) {
        var signed = artifact
        if signed.signature == nil { try DeploymentKeys.sign(&signed) }
        self.init(
            id: signed.id, algorithm: signed.algorithm.rawValue, createdAt: signed.createdAt, parentId: signed.parentId,
            featureSpecSHA256: signed.featureSpecSHA256, artifactSHA256: signed.sha256 ?? signed.computedSHA256(),
            artifact: signed.encoded())
    }
}
