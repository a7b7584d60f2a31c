import Foundation
import PostgresNIO
import RiskStore

/// A PostgreSQL connection URL, as libpq reads it:
/// `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?host=/socket/dir&sslmode=disable&pool_size=N]`.
///
/// - `host=DIR` in the query connects through the Unix socket `DIR/.s.PGSQL.PORT` (the host part
///   may then be empty: `postgres://riskloop@/bank?host=/tmp/pg`);
/// - `sslmode`: `disable` (the default) or `prefer`/`allow`, which this build treats as
///   `disable`; `require` and the `verify-*` modes are refused, since this build connects
///   without TLS (run it beside the database, or through a local socket or tunnel);
/// - `pool_size`: connections each process keeps at most (default 8).
///
/// The password is never printed: ``redacted`` replaces it.
public struct PostgresURL: Sendable, Equatable {
    public var username: String
    public var password: String?
    public var host: String
    public var port: Int
    /// The directory of the server's Unix socket, when it is reached through one.
    public var socketDirectory: String?
    public var database: String
    public var poolSize: Int

    /// Reads a URL whose scheme is `postgres` or `postgresql`.
    ///
    /// - Throws: ``RiskStore/StoreError/unsupportedLocation(location:reason:)`` naming what is
    ///   missing or wrong.
    public init(_ text: String) throws(StoreError) {
        func refuse(_ reason: String) -> StoreError { .unsupportedLocation(location: Self.redact(text), reason: reason) }
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
            ["postgres", "postgresql"].contains(scheme)
        else { throw refuse("not a postgres:// URL") }
        guard let user = components.user, !user.isEmpty else {
            throw refuse("no user name: write postgres://USER@HOST:PORT/DATABASE")
        }
        username = user.removingPercentEncoding ?? user
        password = components.password.map { $0.removingPercentEncoding ?? $0 }
        let database = String(components.path.drop(while: { $0 == "/" }))
        guard !database.isEmpty, !database.contains("/") else {
            throw refuse("no database name: write postgres://USER@HOST:PORT/DATABASE")
        }
        self.database = database.removingPercentEncoding ?? database
        port = components.port ?? 5432
        poolSize = 8
        var parameters: [String: String] = [:]
        for item in components.queryItems ?? [] { parameters[item.name] = item.value ?? "" }
        socketDirectory = parameters.removeValue(forKey: "host")
        host = components.host ?? ""
        if host.isEmpty, socketDirectory == nil {
            throw refuse("no host: write postgres://USER@HOST:PORT/DATABASE, or ?host=/socket/directory")
        }
        if let mode = parameters.removeValue(forKey: "sslmode"), !["disable", "allow", "prefer"].contains(mode) {
            throw refuse("sslmode=\(mode) needs TLS, which this build does not speak; use sslmode=disable or a local socket")
        }
        if let size = parameters.removeValue(forKey: "pool_size") {
            guard let value = Int(size), (1...1_000).contains(value) else {
                throw refuse("pool_size must be a whole number from 1 to 1000")
            }
            poolSize = value
        }
        if let unknown = parameters.keys.sorted().first {
            throw refuse("unknown parameter '\(unknown)' (known: host, sslmode, pool_size)")
        }
    }

    /// The URL with its password replaced by `***`: what logs and messages show.
    public var redacted: String {
        var text = "postgres://\(username)\(password == nil ? "" : ":***")@\(host):\(port)/\(database)"
        if let socketDirectory { text += "?host=\(socketDirectory)" }
        return text
    }

    /// The same server with another database: what the tests use to make a database per test.
    public func with(database: String) -> PostgresURL {
        var url = self
        url.database = database
        return url
    }

    /// The pool's configuration.
    var clientConfiguration: PostgresClient.Configuration {
        var configuration =
            if let socketDirectory {
                PostgresClient.Configuration(
                    unixSocketPath: "\(socketDirectory)/.s.PGSQL.\(port)", username: username, password: password, database: database)
            } else {
                PostgresClient.Configuration(
                    host: host, port: port, username: username, password: password, database: database, tls: .disable)
            }
        configuration.options.maximumConnections = poolSize
        // No parallel plans: on partitioned tables the planner chose them for the log follower's
        // read of a few hundred rows (45 ms with workers against 2 ms without, every 10 ms on
        // every replica), and the serial plan of a training snapshot's ordered read is faster too.
        configuration.options.additionalStartupParameters = [("max_parallel_workers_per_gather", "0")]
        return configuration
    }

    /// The configuration of a connection outside the pool (the registry watch's `LISTEN`).
    var connectionConfiguration: PostgresConnection.Configuration {
        if let socketDirectory {
            return PostgresConnection.Configuration(
                unixSocketPath: "\(socketDirectory)/.s.PGSQL.\(port)", username: username, password: password, database: database)
        }
        return PostgresConnection.Configuration(
            host: host, port: port, username: username, password: password, database: database, tls: .disable)
    }

    /// `text` with anything between `:` and `@` after the scheme replaced, for an error message
    /// about a URL that did not parse.
    static func redact(_ text: String) -> String {
        guard let schemeEnd = text.range(of: "://"), let at = text.range(of: "@", range: schemeEnd.upperBound..<text.endIndex),
            let colon = text.range(of: ":", range: schemeEnd.upperBound..<at.lowerBound)
        else { return text }
        return text.replacingCharacters(in: colon.upperBound..<at.lowerBound, with: "***")
    }
}
