import Foundation
import RiskStore
import RiskStoreLocation
import RiskStorePostgres
import RiskStoreTesting
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
        (
            "postgres://riskloop@localhost:5432/bank",
            .postgres(url: try! PostgresURL("postgres://riskloop@localhost/bank"))
        ),
    ])
    func readsPathsAndMemory(text: String, backend: StoreLocation.Backend) throws {
        #expect(try StoreLocation(text).backend == backend)
    }

    /// Round 1 opened `postgres://user@host/db` as an SQLite file named `postgres:`; a URL
    /// without what PostgreSQL needs is refused, never taken for a file.
    @Test(arguments: [
        "postgresql://h/db", "postgres://u@h", "postgres://u@/db", "postgres://u@h/db?sslmode=require", "postgres://u@h/db?pool_size=0",
        "postgres://u@h/db?colour=blue", "mysql://h/db", "https://example.com/x", "", "file:",
    ])
    func refusesWhatNoBackendServes(text: String) {
        #expect {
            try StoreLocation(text)
        } throws: { error in
            guard case .unsupportedLocation(let location, let reason) = error as? StoreError else { return false }
            return location == text && !reason.isEmpty
        }
    }

    @Test func aPostgresURLIsReadAsLibpqReadsItAndItsPasswordIsNeverShown() throws {
        let url = try PostgresURL("postgresql://fraud%2Dteam:s3cret@db.bank.example:6543/risk?sslmode=disable&pool_size=4")
        #expect(url.username == "fraud-team")
        #expect(url.password == "s3cret")
        #expect(url.host == "db.bank.example")
        #expect(url.port == 6543)
        #expect(url.database == "risk")
        #expect(url.poolSize == 4)
        #expect(url.redacted == "postgres://fraud-team:***@db.bank.example:6543/risk")
        let location = try StoreLocation("postgres://u:s3cret@h/db")
        #expect(!location.description.contains("s3cret"))
        let socket = try PostgresURL("postgres://riskloop@/bank?host=/run/pg")
        #expect(socket.socketDirectory == "/run/pg")
        #expect(socket.port == 5432)
        #expect {
            try PostgresURL("postgres://u:s3cret@h")
        } throws: { error in
            !"\(error)".contains("s3cret") && "\(error)".contains("no database name")
        }
    }

    @Test func opensAWorkingStore() async throws {
        let store = try await StoreLocation(":memory:").open()
        #expect(store.location == ":memory:")
        #expect(try await store.championId() == nil)
        #expect(try await store.statistics().events == 0)
    }
}
