import Foundation
import RiskStore
import RiskStoreLocation
import Testing

/// `--db` and `RISKLOOP_DB`: a path or `:memory:` opens SQLite; a URL is never taken for a file.
@Suite struct StoreLocationTests {
    @Test(arguments: [
        ("riskloop.sqlite", StoreLocation.Backend.sqliteFile(path: "riskloop.sqlite")),
        ("/var/lib/riskloop/bank.sqlite", .sqliteFile(path: "/var/lib/riskloop/bank.sqlite")),
        ("file:/tmp/a.sqlite", .sqliteFile(path: "/tmp/a.sqlite")),
        ("file:///tmp/a.sqlite", .sqliteFile(path: "/tmp/a.sqlite")),
        ("./data:2026/a.sqlite", .sqliteFile(path: "./data:2026/a.sqlite")),
        (":memory:", .sqliteInMemory),
    ])
    func readsPathsAndMemory(text: String, backend: StoreLocation.Backend) throws {
        #expect(try StoreLocation(text).backend == backend)
    }

    /// Round 1 opened `postgres://user@host/db` as an SQLite file named `postgres:`.
    @Test(arguments: ["postgres://riskloop@localhost:5432/bank", "postgresql://h/db", "mysql://h/db", "https://example.com/x", "", "file:"])
    func refusesWhatNoBackendServes(text: String) {
        #expect {
            try StoreLocation(text)
        } throws: { error in
            guard case .unsupportedLocation(let location, let reason) = error as? StoreError else { return false }
            return location == text && !reason.isEmpty
        }
    }

    @Test func opensAWorkingStore() async throws {
        let store = try await StoreLocation(":memory:").open()
        #expect(store.location == ":memory:")
        #expect(try await store.championId() == nil)
        #expect(try await store.statistics().events == 0)
    }
}
