import Foundation
import RiskContract
import RiskStore
import RiskStoreTesting
import Testing

/// Policies through the store on every backend: proposed, activated by someone else, one active.
@Suite struct PolicyGovernanceTests {
    static let v1 = #"{"version":"v1"}"#, v2 = #"{"version":"v2"}"#

    @Test(arguments: Backend.allCases)
    func aPolicyIsProposedThenActivatedBySomeoneElse(backend: Backend) async throws {
        let scratch = try TemporaryDirectory()
        let store = try await backend.open(scratch)
        try await store.proposePolicy(version: "v1", json: Self.v1, actor: "alice")
        try await store.proposePolicy(version: "v1", json: Self.v1, actor: "carol")
        await #expect(throws: StoreError.self) { try await store.proposePolicy(version: "v1", json: Self.v2, actor: "alice") }
        #expect(try await store.policies().map(\.status) == [.proposed])
        #expect(try await store.policies().first?.proposedBy == "alice", "a second proposal of the same content changes nothing")
        // Four eyes: not by its proposer.
        await #expect {
            try await store.activatePolicy(version: "v1", actor: "alice", reason: "mine", fourEyes: true)
        } throws: { error in
            guard case .conflict(let reason) = error as? StoreError else { return false }
            return reason.contains("four eyes")
        }
        #expect(try await store.registryState().policy == nil)
        try await store.activatePolicy(version: "v1", actor: "bob", reason: "backtest: more fraud caught", fourEyes: true)
        #expect(try await store.registryState().policy == "v1")
        let active = try #require(try await store.policies().first)
        #expect(active.status == .active && active.activatedBy == "bob" && active.reason == "backtest: more fraud caught")
        // The next one retires it.
        try await store.proposePolicy(version: "v2", json: Self.v2, actor: "alice")
        try await store.activatePolicy(version: "v2", actor: "bob", reason: "stricter", fourEyes: true)
        try await store.activatePolicy(version: "v2", actor: "alice", reason: "again", fourEyes: true)
        #expect(try await store.registryState().policy == "v2")
        #expect(
            Dictionary(uniqueKeysWithValues: try await store.policies().map { ($0.version, $0.status) }) == ["v1": .retired, "v2": .active])
        await #expect(throws: StoreError.notFound(what: "decision policy v9")) {
            try await store.activatePolicy(version: "v9", actor: "bob", reason: "r", fourEyes: true)
        }
        let audit = try await store.auditEntries().filter { $0.action.hasPrefix("policy.") }
        #expect(audit.map(\.action) == ["policy.propose", "policy.activate", "policy.propose", "policy.activate"])
        #expect(audit.map(\.actor) == ["alice", "bob", "alice", "bob"])
        #expect(audit[3].detail == #"{"previous":"v1"}"# && audit[1].detail == #"{"previous":null}"#)
    }

    @Test(arguments: Backend.allCases)
    func aRecordedVersionIsProposedBeforeItIsActivated(backend: Backend) async throws {
        let scratch = try TemporaryDirectory()
        let store = try await backend.open(scratch)
        try await store.recordPolicy(version: "v1", json: Self.v1, actor: "riskloop-serve")
        await #expect {
            try await store.activatePolicy(version: "v1", actor: "bob", reason: "r", fourEyes: true)
        } throws: { error in
            guard case .conflict(let reason) = error as? StoreError else { return false }
            return reason.contains("never proposed")
        }
        // A server deploying its own file is the one exception, and says so.
        try await store.activatePolicy(version: "v1", actor: "riskloop-serve", reason: "deployed from a file", fourEyes: false)
        #expect(try await store.registryState().policy == "v1")
        try await store.proposePolicy(version: "v1", json: Self.v1, actor: "alice")
        #expect(try await store.policies().first?.status == .active, "proposing the active version leaves it active")
    }
}
