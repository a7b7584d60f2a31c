import Foundation
import Logging
import RiskStore
import RiskStorePostgres
import RiskStoreSQLite

/// Where a store lives, read from `--db` or `RISKLOOP_DB`, and the backend that opens it.
///
/// ```swift
/// let store = try await StoreLocation("riskloop.sqlite").open(logger: logger)
/// ```
///
/// - a path (relative or absolute) or `file:PATH`: an SQLite file, created if missing;
/// - `:memory:`: a private in-memory SQLite database (tests, one-off experiments);
/// - `postgres://USER@HOST:PORT/DATABASE` (or `postgresql://`): a PostgreSQL database that
///   several processes share (``RiskStorePostgres/PostgresURL`` lists the parameters);
/// - any other `SCHEME://…` is refused, naming the scheme: a URL is never taken for a file name.
public struct StoreLocation: Sendable, Equatable, CustomStringConvertible {
    /// The backend and what it needs to open the store.
    public enum Backend: Sendable, Equatable {
        case sqliteFile(path: String)
        case sqliteInMemory
        case postgres(url: PostgresURL)
    }

    public let backend: Backend
    /// The location as given (a URL without its password).
    public let description: String

    /// Reads a location.
    ///
    /// - Throws: ``RiskStore/StoreError/unsupportedLocation(location:reason:)`` for a URL whose
    ///   scheme no backend of this build serves, or an empty location.
    public init(_ text: String) throws(StoreError) {
        if text == ":memory:" {
            backend = .sqliteInMemory
        } else if text.hasPrefix("file:") {
            let path = String(text.dropFirst("file:".count))
            guard !path.isEmpty else { throw .unsupportedLocation(location: text, reason: "no path after 'file:'") }
            backend = .sqliteFile(path: path.hasPrefix("//") ? String(path.dropFirst(2)) : path)
        } else if let scheme = Self.urlScheme(text) {
            guard ["postgres", "postgresql"].contains(scheme.lowercased()) else {
                throw .unsupportedLocation(
                    location: text, reason: "'\(scheme)://' names no store backend; use an SQLite file path or a postgres:// URL")
            }
            let url = try PostgresURL(text)
            backend = .postgres(url: url)
            description = url.redacted
            return
        } else {
            guard !text.isEmpty else { throw .unsupportedLocation(location: text, reason: "the location is empty") }
            backend = .sqliteFile(path: text)
        }
        description = text
    }

    /// Opens (creating and migrating if needed) the store.
    public func open(logger: Logger = Logger(label: "riskloop.store")) async throws(StoreError) -> any Store {
        switch backend {
        case .sqliteFile(let path): try await SQLiteStore.open(path: path, logger: logger)
        case .sqliteInMemory: try SQLiteStore.inMemory(logger: logger)
        case .postgres(let url): try await PostgresStore.open(url: url, logger: logger)
        }
    }

    /// The scheme of `text` when it has the form `scheme://…` (RFC 3986 scheme characters).
    private static func urlScheme(_ text: String) -> String? {
        guard let range = text.range(of: "://") else { return nil }
        let scheme = text[..<range.lowerBound]
        guard let first = scheme.first, first.isLetter,
            scheme.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "+-.".contains($0)) })
        else { return nil }
        return String(scheme)
    }
}
