import Foundation
import RiskStorePostgres
import RiskStoreTesting
import Testing

@Suite struct PostgresAvailability {
    @Test(.enabled(if: PostgresTesting.url != nil, Comment(rawValue: PostgresTesting.skipReason)))
    func theTestServerIsReachableAndMigrates() async throws {
        let store = try await PostgresTesting.freshStore()
        #expect(try await store.statistics().events == 0)
        #expect(PostgresSchema.migrationNames.count == 11)
    }

    /// CI must run the PostgreSQL half of the suite, not skip it.
    @Test func underCIThePostgresURLIsSet() {
        if ProcessInfo.processInfo.environment["CI"] == "true" {
            #expect(
                PostgresTesting.url != nil,
                "CI=true but RISKLOOP_TEST_POSTGRES_URL is unset or not a postgres:// URL: .ci/run starts the cluster and sets it")
        }
    }
}
