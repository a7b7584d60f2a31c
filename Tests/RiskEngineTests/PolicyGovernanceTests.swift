import Foundation
import RiskContract
import RiskScoring
import RiskStore
import RiskStoreLocation
import Testing

@testable import RiskEngine

@Suite struct PolicyGovernanceEngineTests {
    static func policy(_ version: String) -> DecisionPolicy {
        DecisionPolicy(version: version, thresholds: .init(stepUp: 0.2, review: 0.5, block: 0.9))
    }

    /// `serve --policy FILE`: a new version is deployed at once; a stored one yields to the active.
    @Test func aServersFileIsDeployedOnlyWhenTheStoreDoesNotHoldIt() async throws {
        let store = try await StoreLocation(":memory:").open()
        let governance = PolicyGovernance(store: store)
        #expect(try await governance.deploy(Self.policy("v1"), actor: "riskloop-serve").version == "v1")
        #expect(try await governance.active()?.version == "v1")
        #expect(try await governance.deploy(Self.policy("v1"), actor: "riskloop-serve").version == "v1")
        try await governance.propose(Self.policy("v2"), actor: "alice")
        await #expect(throws: EngineError.self) { try await governance.activate("v2", actor: "alice", reason: "mine") }
        await #expect(throws: EngineError.self) { try await governance.activate("v2", actor: "bob", reason: "") }
        try await governance.activate("v2", actor: "bob", reason: "backtested")
        // A restart with the old file serves what is active now, not the file.
        #expect(try await governance.deploy(Self.policy("v1"), actor: "riskloop-serve").version == "v2")
        #expect(try await governance.deploy(Self.policy("v3"), actor: "riskloop-serve").version == "v3")
        #expect(try await governance.active()?.version == "v3")
        let deployed = try #require(try await store.auditEntries().last)
        #expect(deployed.action == "policy.activate" && deployed.actor == "riskloop-serve" && deployed.reason?.contains("--policy") == true)
    }
}
