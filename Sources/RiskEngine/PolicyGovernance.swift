import Foundation
import RiskScoring
import RiskStore

/// Decision policies through the store, like models: proposed (validated, versioned, audited),
/// backtested, activated by someone other than the proposer (four eyes); every server follows the
/// active one (`riskloop policy`, `riskloop serve --policy`).
///
/// ```swift
/// let governance = PolicyGovernance(store: store)
/// try await governance.propose(stricter, actor: "alice")
/// try await governance.activate(stricter.version, actor: "bob", reason: "backtest: +12 frauds caught")
/// ```
public struct PolicyGovernance: Sendable {
    public let store: any Store

    public init(store: any Store) {
        self.store = store
    }

    /// Stores `policy` (validated when it was read) as proposed, audited.
    public func propose(_ policy: DecisionPolicy, actor: String) async throws(EngineError) {
        try await storeCall { () async throws(StoreError) in
            try await store.proposePolicy(version: policy.version, json: policy.canonicalJSON, actor: actor)
        }
    }

    /// Makes `version` the active policy, audited; refused when `actor` proposed it.
    public func activate(_ version: String, actor: String, reason: String) async throws(EngineError) {
        guard !reason.isEmpty else { throw .invalidOptions(option: "reason", reason: "an activation needs a reason, for the audit log") }
        try await storeCall { () async throws(StoreError) in
            try await store.activatePolicy(version: version, actor: actor, reason: reason, fourEyes: true)
        }
    }

    /// What a server started with `--policy FILE` decides with: a version the store does not hold
    /// is proposed and activated by the server's start (audited as such), as is any stored version
    /// when none is active, so a deployment from a file stays one command; otherwise the active
    /// policy, which someone may have changed since the file was written.
    ///
    /// - Returns: the policy to serve.
    public func deploy(_ policy: DecisionPolicy, actor: String) async throws(EngineError) -> DecisionPolicy {
        let stored = try await storeCall { () async throws(StoreError) in try await store.policies() }
        let active = stored.first { $0.status == .active }
        if !stored.contains(where: { $0.version == policy.version }) || active == nil {
            try await propose(policy, actor: actor)
            try await storeCall { () async throws(StoreError) in
                try await store.activatePolicy(
                    version: policy.version, actor: actor, reason: "deployed from a file by the server's start (riskloop serve --policy)",
                    fourEyes: false)
            }
            return policy
        }
        return try await self.active() ?? policy
    }

    /// The active policy, if one is.
    public func active() async throws(EngineError) -> DecisionPolicy? {
        guard let version = try await storeCall({ () async throws(StoreError) in try await store.registryState() }).policy else {
            return nil
        }
        return try await store.recordedPolicy(version)
    }

    /// Every stored version, newest first.
    public func list() async throws(EngineError) -> [PolicyRecord] {
        try await storeCall { () async throws(StoreError) in try await store.policies() }
    }
}
