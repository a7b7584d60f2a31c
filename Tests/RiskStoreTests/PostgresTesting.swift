import Foundation
import RiskStore
import RiskStorePostgres
import Testing

/// The PostgreSQL server the tests may use: `RISKLOOP_TEST_POSTGRES_URL` (CI starts a throwaway
/// cluster with `scripts/postgres-cluster.sh` and sets it). Without it the PostgreSQL runs are
/// skipped, and ``PostgresAvailability`` says so, except under `CI=true`, where it fails.
enum PostgresTesting {
    static let url: PostgresURL? = ProcessInfo.processInfo.environment["RISKLOOP_TEST_POSTGRES_URL"].flatMap {
        $0.isEmpty ? nil : try? PostgresURL($0)
    }

    static let skipReason =
        "RISKLOOP_TEST_POSTGRES_URL is not set: the PostgreSQL runs are skipped (README: Running the PostgreSQL tests)"

    /// A new, empty, migrated database of its own on the test server.
    static func freshStore() async throws -> PostgresStore {
        let base = try #require(url, Comment(rawValue: skipReason))
        let name = "riskloop_test_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        return try await PostgresStore.open(url: try await PostgresStore.createDatabase(name, on: base))
    }
}

@Suite struct PostgresAvailability {
    @Test(.enabled(if: PostgresTesting.url != nil, Comment(rawValue: PostgresTesting.skipReason)))
    func theTestServerIsReachableAndMigrates() async throws {
        let store = try await PostgresTesting.freshStore()
        #expect(try await store.statistics().events == 0)
        #expect(PostgresSchema.migrationNames.count == 5)
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
