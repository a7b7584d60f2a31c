import Foundation
import RiskContract
import RiskFeatures
import RiskStoreLocation
import RiskStoreTesting
import Testing

@testable import RiskStore
@testable import RiskStoreSQLite

@Suite struct RegistryTests {
    /// A registration whose artifact bytes are distinctive (the store keeps them verbatim).
    static func model(_ id: String, at seconds: Int64) -> ModelRegistration {
        let artifact = Data(#"{"id":"\#(id)","weights":[0.1000000000000000055511151231257827,-2.5e-308]}"#.utf8)
        return ModelRegistration(
            id: id, algorithm: "logistic_regression", createdAt: Timestamp(millisecondsSinceEpoch: seconds * 1000), parentId: nil,
            featureSpecSHA256: "spec", artifactSHA256: "sha-\(id)", artifact: artifact)
    }

    @Test(arguments: Backend.allCases)
    func rollbackRestoresThePreviousChampionBitForBitAndIsAudited(backend: Backend) async throws {
        let scratch = try TemporaryDirectory()
        let store = try await backend.open(scratch)
        let first = Self.model("m1", at: 1), second = Self.model("m2", at: 2)
        try await store.register(first, status: .champion, actor: "alice", reason: "first model")
        try await store.register(second, status: .candidate, actor: "riskloop")
        try await store.promote("m2", actor: "bob", reason: "better AP on the holdout")
        #expect(try await store.championId() == "m2")

        #expect(try await store.rollback(actor: "carol", reason: "false alarms doubled") == "m1")
        #expect(try await store.championId() == "m1")
        #expect(try await store.artifactJSON(of: "m1") == first.artifact)
        let statuses = Dictionary(uniqueKeysWithValues: try await store.models().map { ($0.id, ($0.status, $0.statusReason)) })
        #expect(statuses["m2"]?.0 == "retired" && statuses["m2"]?.1 == "rolled back: false alarms doubled")
        let last = try #require(try await store.auditEntries().last)
        #expect(last.action == "model.rollback" && last.actor == "carol" && last.subject == "m1" && last.reason == "false alarms doubled")
    }

    @Test(arguments: Backend.allCases)
    func rollbackWithoutAPreviousChampionIsRefusedAndChangesNothing(backend: Backend) async throws {
        let scratch = try TemporaryDirectory()
        let store = try await backend.open(scratch)
        await #expect { try await store.rollback(actor: "a", reason: nil) } throws: { "\($0)" == "not found: a champion to roll back" }
        try await store.register(Self.model("m1", at: 1), status: .champion, actor: "a")
        await #expect { try await store.rollback(actor: "a", reason: nil) } throws: {
            "\($0)" == "not found: a previous champion to roll back to"
        }
        #expect(try await store.championId() == "m1")
        #expect(try await store.auditEntries().map(\.action) == ["model.register"])
    }

    @Test(arguments: Backend.allCases)
    func promotingAnUnknownModelIsRefused(backend: Backend) async throws {
        let scratch = try TemporaryDirectory()
        let store = try await backend.open(scratch)
        await #expect { try await store.promote("nope", actor: "a", reason: nil) } throws: { "\($0)" == "not found: model nope" }
    }

    @Test(arguments: Backend.shared)
    func concurrentPromotionsLeaveExactlyOneChampion(backend: Backend) async throws {
        let directory = try TemporaryDirectory()
        let store = try await backend.open(directory)
        for index in 0..<8 { try await store.register(Self.model("m\(index)", at: Int64(index)), status: .candidate, actor: "a") }
        await withTaskGroup(of: Void.self) { group in
            for index in 0..<8 {
                group.addTask {
                    let own = try? await backend.openAgain(store)
                    try? await own?.promote("m\(index)", actor: "worker\(index)", reason: nil)
                }
            }
        }
        let champions = try await store.models().filter { $0.status == "champion" }
        #expect(champions.count == 1)
        #expect(try await store.auditEntries().filter { $0.action == "model.promote" }.count == 8)
    }
}
