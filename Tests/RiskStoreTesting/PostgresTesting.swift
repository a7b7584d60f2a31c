import Foundation
import RiskStore
import RiskStorePostgres

/// The PostgreSQL server the tests may use: `RISKLOOP_TEST_POSTGRES_URL` (CI starts a throwaway
/// cluster with `scripts/postgres-cluster.sh` and sets it). Without it the PostgreSQL runs are
/// skipped, and ``PostgresAvailability`` says so, except under `CI=true`, where it fails.
public enum PostgresTesting {
    public static let url: PostgresURL? = ProcessInfo.processInfo.environment["RISKLOOP_TEST_POSTGRES_URL"].flatMap {
        $0.isEmpty ? nil : try? PostgresURL($0)
    }

    public static let skipReason =
        "RISKLOOP_TEST_POSTGRES_URL is not set: the PostgreSQL runs are skipped (README: Running the PostgreSQL tests)"

    /// A new, empty, migrated database of its own on the test server.
    public static func freshStore() async throws -> PostgresStore {
        guard let base = url else { throw StoreError.unsupportedLocation(location: "RISKLOOP_TEST_POSTGRES_URL", reason: skipReason) }
        let name = "riskloop_test_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        return try await PostgresStore.open(url: try await PostgresStore.createDatabase(name, on: base))
    }
}
