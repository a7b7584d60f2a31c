import Foundation
import Logging
import PostgresNIO
import RiskContract
import RiskStore
import Synchronization

extension PostgresStore {
    // MARK: Audit log

    @discardableResult
    public func appendAudit(
        actor: String, action: String, subject: String?, reason: String?, detail: String?, at: Timestamp?
    ) async throws(StoreError) -> Int64 {
        let at = at?.millisecondsSinceEpoch ?? Self.nowMilliseconds()
        return try await transaction { connection in
            try await self.audit(connection, now: at, actor: actor, action: action, subject: subject, reason: reason, detail: detail)
        }
    }

    public func auditEntries(from: Timestamp?, to: Timestamp?) async throws(StoreError) -> [AuditEntry] {
        let rows = try await rows(
            """
            SELECT seq, at, actor, action, subject, reason, detail FROM audit_log
            WHERE at >= \(from?.millisecondsSinceEpoch ?? Int64.min) AND at < \(to?.millisecondsSinceEpoch ?? Int64.max) ORDER BY seq
            """)
        return try decodeAll(rows, as: (Int64, Int64, String, String, String?, String?, String?).self).map {
            AuditEntry(
                seq: $0.0, at: Timestamp(millisecondsSinceEpoch: $0.1), actor: $0.2, action: $0.3, subject: $0.4, reason: $0.5,
                detail: $0.6)
        }
    }

    /// Appends an audit entry inside the caller's transaction; returns its sequence number.
    @discardableResult
    func audit(
        _ connection: PostgresConnection, now: Int64, actor: String, action: String, subject: String?, reason: String?, detail: String?
    ) async throws -> Int64 {
        let rows = try await connection.query(
            """
            INSERT INTO audit_log (at, actor, action, subject, reason, detail)
            VALUES (\(now), \(actor), \(action), \(subject), \(reason), \(detail)) RETURNING seq
            """, logger: logger)
        for try await seq in rows.decode(Int64.self) { return seq }
        throw StoreError.database(message: "audit_log: no sequence number returned")
    }

    // MARK: API keys

    public func createKey(name: String, role: APIRole, actor: String) async throws(StoreError) -> (key: String, record: APIKey) {
        let key = APIKey.generate()
        let now = Self.nowMilliseconds()
        let id = try await transaction { connection in
            var id: Int64 = 0
            for try await inserted in try await connection.query(
                """
                INSERT INTO api_keys (name, role, key_sha256, created_at) VALUES (\(name), \(role.rawValue), \(APIKey.sha256Hex(key)), \(now))
                RETURNING id
                """, logger: self.logger
            ).decode(Int64.self) {
                id = inserted
            }
            try await self.audit(
                connection, now: now, actor: actor, action: "key.create", subject: "key \(id)", reason: nil,
                detail: APIKey.creationDetail(name: name, role: role))
            return id
        }
        return (key, APIKey(id: id, name: name, role: role, createdAt: Timestamp(millisecondsSinceEpoch: now), revokedAt: nil))
    }

    /// The key that `presented` is, if it exists and is not revoked: from memory while this
    /// process listens for key changes (``KeyCache``), else one indexed read.
    public func key(matching presented: String) async throws(StoreError) -> APIKey? {
        let sha256 = APIKey.sha256Hex(presented)
        let (cached, generation) = keyCache.lookup(sha256)
        if let cached { return cached }
        let found = try await keys(
            "SELECT id, name, role, created_at, revoked_at FROM api_keys WHERE key_sha256 = \(sha256) AND revoked_at IS NULL"
        ).first
        if let found, let generation { keyCache.store(found, for: sha256, generation: generation) }
        return found
    }

    public func keys() async throws(StoreError) -> [APIKey] {
        try await keys("SELECT id, name, role, created_at, revoked_at FROM api_keys ORDER BY id DESC")
    }

    private func keys(_ query: PostgresQuery) async throws(StoreError) -> [APIKey] {
        try decodeAll(try await rows(query), as: (Int64, String, String, Int64, Int64?).self).map { (row) throws(StoreError) in
            guard let role = APIRole(rawValue: row.2) else { throw .database(message: "api_keys row \(row.0): unknown role '\(row.2)'") }
            return APIKey(
                id: row.0, name: row.1, role: role, createdAt: Timestamp(millisecondsSinceEpoch: row.3),
                revokedAt: row.4.map(Timestamp.init(millisecondsSinceEpoch:)))
        }
    }

    public func revokeKey(id: Int64, actor: String, reason: String?) async throws(StoreError) {
        let now = Self.nowMilliseconds()
        try await transaction { connection in
            let revoked = try await connection.query(
                "UPDATE api_keys SET revoked_at = \(now) WHERE id = \(id) AND revoked_at IS NULL RETURNING id", logger: self.logger
            ).collect()
            guard revoked.count == 1 else { throw StoreError.noActiveKey(id) }
            try await self.audit(
                connection, now: now, actor: actor, action: "key.revoke", subject: "key \(id)", reason: reason, detail: nil)
        }
    }

    // MARK: Statistics

    public func statistics() async throws(StoreError) -> StoreStatistics {
        try await snapshot { connection in
            func count(_ query: PostgresQuery) async throws -> Int {
                for try await value in try await connection.query(query, logger: self.logger).decode(Int64.self) { return Int(value) }
                return 0
            }
            func counts(_ query: PostgresQuery) async throws -> [String: Int] {
                var counts: [String: Int] = [:]
                for try await (key, value) in try await connection.query(query, logger: self.logger).decode((String, Int64).self) {
                    counts[key] = Int(value)
                }
                return counts
            }
            var first: Int64?, last: Int64?
            for try await (low, high) in try await connection.query(
                "SELECT MIN(occurred_at), MAX(occurred_at) FROM events", logger: self.logger
            ).decode((Int64?, Int64?).self) {
                (first, last) = (low, high)
            }
            var weekly: [StoreStatistics.LabelsKnown] = []
            if let first {
                var replay = StoreStatistics.WeeklyLabels(firstEventAt: first)
                for try await (eventId, outcome, reportedAt) in try await connection.query(
                    "SELECT event_id, outcome, reported_at FROM labels ORDER BY reported_at, seq", logger: self.logger
                ).decode((String, String, Int64).self) {
                    replay.add(eventId: eventId, isFraud: outcome == Outcome.fraud.rawValue, reportedAt: reportedAt)
                }
                weekly = replay.finish()
            }
            return StoreStatistics(
                events: try await count("SELECT COUNT(*) FROM events"),
                eventsByKind: try await counts("SELECT kind, COUNT(*) FROM events GROUP BY kind"),
                customers: try await count("SELECT COUNT(DISTINCT customer_id) FROM events"),
                firstEventAt: first.map { Timestamp(millisecondsSinceEpoch: $0).rfc3339 },
                lastEventAt: last.map { Timestamp(millisecondsSinceEpoch: $0).rfc3339 },
                labelVersions: try await count("SELECT COUNT(*) FROM labels"),
                labelledEvents: try await count("SELECT COUNT(DISTINCT event_id) FROM labels"),
                latestLabelsByOutcome: try await counts("SELECT outcome, COUNT(*) FROM latest_labels GROUP BY outcome"),
                labelsKnownByDate: weekly,
                models: try await count("SELECT COUNT(*) FROM models"),
                decisions: try await count("SELECT COUNT(*) FROM decisions"),
                auditEntries: try await count("SELECT COUNT(*) FROM audit_log"))
        }
    }

    // MARK: Locks

    /// A session advisory lock on a connection leased for `body`'s length: released when `body`
    /// ends, or by the server when the connection drops (a process that dies holds nothing).
    public func exclusively<T: Sendable>(_ lock: StoreLock, _ body: () async -> T) async throws(StoreError) -> T? {
        let key: PostgresSchema.Lock =
            switch lock {
            case .retraining: .retraining
            }
        do {
            return try await client.withConnection { connection -> T? in
                var taken = false
                for try await value in try await connection.query(
                    "SELECT pg_try_advisory_lock(\(PostgresSchema.lockNamespace), \(key.rawValue))", logger: logger
                ).decode(Bool.self) {
                    taken = value
                }
                guard taken else { return nil }
                let result = await body()
                try await connection.query(
                    "SELECT pg_advisory_unlock(\(PostgresSchema.lockNamespace), \(key.rawValue))", logger: logger)
                return result
            }
        } catch {
            throw StoreError(postgres: error, at: url)
        }
    }

    // MARK: Following the registry

    /// Calls `changed` with the champion and shadow at the start, then at every change made by
    /// any process on the database: a connection of its own `LISTEN`s on the registry's channel,
    /// which every write of `models` notifies at its commit. The state is also read every
    /// `interval`, so a lost connection (reconnected after `interval`) or a missed notification
    /// costs at most one interval.
    public func watchRegistry(every interval: Duration, _ changed: @Sendable (RegistryState) async -> Void) async throws {
        let (pokes, poke) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await self.listen(poke: poke, retryAfter: interval) }
            group.addTask {
                while true {
                    try await Task.sleep(for: interval)
                    poke.yield()
                }
            }
            var last: RegistryState?
            poke.yield()
            for await _ in pokes {
                try Task.checkCancellation()
                do {
                    let state = try await registryState()
                    if state != last {
                        last = state
                        await changed(state)
                    }
                } catch {
                    logger.error("reading the registry failed; retrying", metadata: ["error": "\(error)"])
                }
            }
            group.cancelAll()
        }
    }

    /// Listens on the registry's channel until cancelled, poking at each notification and once
    /// each time it (re)connects (a change may have come while it was not listening).
    private func listen(poke: AsyncStream<Void>.Continuation, retryAfter interval: Duration) async {
        var attempt = 0
        while !Task.isCancelled {
            attempt += 1
            do {
                let connection = try await PostgresConnection.connect(
                    configuration: url.connectionConfiguration, id: attempt, logger: logger)
                do {
                    try await connection.listen(on: PostgresSchema.registryChannel) { notifications in
                        poke.yield()
                        for try await _ in notifications { poke.yield() }
                    }
                } catch {
                    try? await connection.close()
                    throw error
                }
                try? await connection.close()
            } catch {
                if Task.isCancelled { return }
                logger.warning(
                    "registry notifications lost; checking every interval until reconnected",
                    metadata: ["error": "\(StoreError(postgres: error, at: url))"])
            }
            try? await Task.sleep(for: interval)
        }
    }

    /// Listens for API key changes until cancelled, so that the keys checked on every request
    /// are kept in memory (``KeyCache``) while, and only while, a change would be heard:
    /// reconnecting after a lost connection, nothing is cached.
    public func runUpkeep(logger: Logger) async {
        var attempt = 0
        while !Task.isCancelled {
            attempt += 1
            do {
                let connection = try await PostgresConnection.connect(
                    configuration: url.connectionConfiguration, id: attempt, logger: self.logger)
                do {
                    try await connection.listen(on: PostgresSchema.keysChannel) { notifications in
                        keyCache.invalidate(listening: true)
                        for try await _ in notifications { keyCache.invalidate(listening: true) }
                    }
                } catch {
                    keyCache.invalidate(listening: false)
                    try? await connection.close()
                    throw error
                }
                keyCache.invalidate(listening: false)
                try? await connection.close()
            } catch {
                keyCache.invalidate(listening: false)
                if Task.isCancelled { return }
                logger.warning(
                    "API key notifications lost; reading keys at every request until reconnected",
                    metadata: ["error": "\(StoreError(postgres: error, at: url))"])
            }
            try? await Task.sleep(for: .seconds(1))
        }
        keyCache.invalidate(listening: false)
    }
}
