import Foundation
import RiskContract
import RiskFeatures
import RiskStore
import RiskStoreLocation
import RiskStorePostgres
import Testing

/// A temporary directory per test, removed when the value goes away.
final class TemporaryDirectory {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appending(path: "riskloop-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    /// Writes `text` to a file in the directory and returns its path.
    func file(_ name: String, _ text: String) throws -> String {
        let path = url.appending(path: name).path
        try Data(text.utf8).write(to: URL(filePath: path))
        return path
    }

    var databasePath: String { url.appending(path: "test.sqlite").path }
}

/// Event lines written by hand, so the tests do not depend on the encoder under test.
enum Lines {
    static func event(_ id: String, minute: Int = 0, customer: String = "c1", kind: String = "login") -> String {
        let time = "2026-03-01T10:\(minute < 10 ? "0" : "")\(minute):00Z"
        return #"{"id":"\#(id)","occurred_at":"\#(time)","customer_id":"\#(customer)","kind":"\#(kind)","extra":{"kept":true}}"#
    }

    static func events(_ ids: [String]) -> String {
        ids.enumerated().map { event($1, minute: $0 % 60) }.joined(separator: "\n") + "\n"
    }
}

/// The backends the store conformance tests run on: every test written against `any Store` with
/// `@Test(arguments: Backend.allCases)` is what any backend of the protocol must pass.
/// PostgreSQL is among them when `RISKLOOP_TEST_POSTGRES_URL` names a server
/// (``PostgresTesting``); each test then gets a database of its own.
enum Backend: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqliteMemory = "sqlite :memory:"
    case sqliteFile = "sqlite file"
    case postgres = "postgres"

    static var allCases: [Backend] { PostgresTesting.url == nil ? [.sqliteMemory, .sqliteFile] : [.sqliteMemory, .sqliteFile, .postgres] }

    var testDescription: String { rawValue }

    /// A fresh, migrated store (a file backend's lives in `directory`).
    func open(_ directory: TemporaryDirectory) async throws -> any Store {
        switch self {
        case .sqliteMemory: try await StoreLocation(":memory:").open()
        case .sqliteFile: try await StoreLocation(directory.databasePath).open()
        case .postgres: try await PostgresTesting.freshStore()
        }
    }
}
