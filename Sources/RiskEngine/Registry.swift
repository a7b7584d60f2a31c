import RiskContract
import RiskFeatures
import RiskModels
import RiskScoring
import RiskStore

/// The model registry as both surfaces use it — `riskloop models …` and the HTTP routes — with
/// every check written once: a model is verified (checksum, trusted signature, the artifact the
/// registry recorded, able to score events) before it becomes champion or shadow, whether by a
/// promotion or by a rollback.
///
/// ```swift
/// let registry = Registry(store: store)
/// let champion = try await registry.promote("lr-e15b61216488", actor: "alice", reason: "weekly review")
/// scorer.swap(to: champion)
/// ```
public struct Registry: Sendable {
    public let store: any Store

    public init(store: any Store) {
        self.store = store
    }

    /// Adds `artifact` with `status`, signing it first when it is unsigned (with the deployment's
    /// key); a champion retires the current one in the same transaction.
    ///
    /// - Returns: whether the model was new to the registry.
    @discardableResult
    public func register(_ artifact: ModelArtifact, status: ModelStatus, actor: String, reason: String? = nil) async throws(EngineError)
        -> Bool
    {
        let registration = try ModelRegistration(artifact)
        return try await storeCall { () async throws(StoreError) in
            try await store.register(registration, status: status, actor: actor, reason: reason)
        }
    }

    /// Makes `id` the champion after ``RiskStore/Store/verifiedModel(_:)`` accepted it; the
    /// current champion is retired in the same transaction.
    ///
    /// - Returns: the new champion, ready for a scorer's swap.
    @discardableResult
    public func promote(_ id: String, actor: String, reason: String?) async throws(EngineError) -> ServingModel {
        let model = try await store.verifiedModel(id)
        try await storeCall { () async throws(StoreError) in try await store.promote(id, actor: actor, reason: reason) }
        return model
    }

    /// Puts the previous champion back (the model most recently replaced by a promotion), after
    /// checking it as a promotion would: a model changed in the store since is not restored.
    ///
    /// - Returns: the restored champion.
    @discardableResult
    public func rollback(actor: String, reason: String?) async throws(EngineError) -> ServingModel {
        guard let target = try await storeCall({ () async throws(StoreError) in try await store.rollbackTarget() }) else {
            throw .store(.notFound(what: "a previous champion to roll back to"))
        }
        let model = try await store.verifiedModel(target)
        let restored = try await storeCall { () async throws(StoreError) in try await store.rollback(actor: actor, reason: reason) }
        // Another process rolled back or promoted in between: what was restored is checked too.
        return restored == target ? model : try await store.verifiedModel(restored)
    }

    /// Makes `id` the model scoring in shadow after ``RiskStore/Store/verifiedModel(_:)`` accepted
    /// it, or ends shadow scoring with `nil`.
    ///
    /// - Returns: the shadow model, ready for a scorer.
    @discardableResult
    public func setShadow(_ id: String?, actor: String, reason: String?) async throws(EngineError) -> ServingModel? {
        let model: ServingModel?
        if let id { model = try await store.verifiedModel(id) } else { model = nil }
        try await storeCall { () async throws(StoreError) in try await store.setShadow(id, actor: actor, reason: reason) }
        return model
    }
}
