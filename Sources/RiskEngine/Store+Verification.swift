import RiskContract
import RiskFeatures
import RiskModels
import RiskScoring
import RiskStore

extension Store {
    /// The registered model `id`, ready to serve, refused unless its stored artifact passes
    /// ``verifiedArtifact(_:)`` (checksum, trusted signature, the registry's record: a re-sealed
    /// edit is caught too) and can score events. Every path that makes a stored model act —
    /// promotion and rollback (``Registry``), serving, replay — reads it through here.
    public func verifiedModel(_ id: String) async throws(EngineError) -> ServingModel {
        let artifact = try await verifiedArtifact(id)
        do {
            return try ServingModel(artifact)
        } catch {
            throw .unservable(model: id, reason: error.description)
        }
    }

    /// The registered artifact `id`, refused unless it passes its own checksum, carries a trusted
    /// signature (``DeploymentKeys/trust(allowUnsigned:)``) and is the artifact the registry
    /// recorded when it was registered.
    public func verifiedArtifact(_ id: String) async throws(EngineError) -> ModelArtifact {
        let (json, registered) = try await storeCall { () async throws(StoreError) in try await registeredArtifact(of: id) }
        let trust = try DeploymentKeys.trust()
        let artifact: ModelArtifact
        do {
            artifact = try ModelArtifact.decode(from: json, trust: trust)
        } catch {
            throw .model(.invalidArtifact(reason: "model \(id): \(error.description); a changed model is refused"))
        }
        guard artifact.sha256 == registered else {
            throw .model(
                .invalidArtifact(
                    reason:
                        "model \(id): its stored artifact no longer matches the SHA-256 the registry recorded when it was registered; "
                        + "a changed model is refused"))
        }
        return artifact
    }
}
