import Foundation
import PostgresNIO
import RiskContract
import RiskStore

extension PostgresStore {
    @discardableResult
    public func register(_ model: ModelRegistration, status: ModelStatus, actor: String, reason: String?) async throws(StoreError) -> Bool {
        let now = Self.nowMilliseconds()
        return try await transaction { connection in
            try await self.lockRegistry(connection)
            if try await self.status(connection, of: model.id) != nil { return false }
            if status == .champion { try await self.retireChampion(connection, now: now) }
            try await self.insertModel(connection, model, status: status, reason: reason, now: now)
            try await self.audit(
                connection, now: now, actor: actor, action: "model.register", subject: model.id, reason: reason, detail: status.rawValue)
            return true
        }
    }

    public func promote(_ id: String, actor: String, reason: String?) async throws(StoreError) {
        let now = Self.nowMilliseconds()
        try await transaction { connection in
            try await self.lockRegistry(connection)
            guard let status = try await self.status(connection, of: id) else { throw StoreError.noModel(id) }
            guard status != ModelStatus.champion.rawValue else { return }
            try await self.retireChampion(connection, now: now)
            try await self.setStatus(connection, of: id, to: .champion, reason: reason, now: now)
            try await self.audit(connection, now: now, actor: actor, action: "model.promote", subject: id, reason: reason, detail: nil)
        }
    }

    @discardableResult
    public func rollback(actor: String, reason: String?) async throws(StoreError) -> String {
        let now = Self.nowMilliseconds()
        return try await transaction { connection in
            try await self.lockRegistry(connection)
            guard let current = try await self.firstString(connection, "SELECT id FROM models WHERE status = 'champion'") else {
                throw StoreError.noChampionToRollBack
            }
            guard let previous = try await self.rollbackTarget(connection) else { throw StoreError.noPreviousChampion }
            try await self.setStatus(connection, of: current, to: .retired, reason: RegistryReason.rolledBack(reason), now: now)
            try await self.setStatus(connection, of: previous, to: .champion, reason: RegistryReason.restored, now: now)
            try await self.audit(
                connection, now: now, actor: actor, action: "model.rollback", subject: previous, reason: reason, detail: "from \(current)")
            return previous
        }
    }

    public func rollbackTarget() async throws(StoreError) -> String? {
        try await transaction { connection in try await self.rollbackTarget(connection) }
    }

    public func setShadow(_ id: String?, actor: String, reason: String?) async throws(StoreError) {
        let now = Self.nowMilliseconds()
        try await transaction { connection in
            try await self.lockRegistry(connection)
            if let id {
                guard let status = try await self.status(connection, of: id) else { throw StoreError.noModel(id) }
                guard status != ModelStatus.champion.rawValue else { throw StoreError.shadowIsChampion(id) }
            }
            try await connection.query(
                """
                UPDATE models SET status = 'candidate', status_reason = \(RegistryReason.shadowEnded), status_changed_at = \(now)
                WHERE status = 'shadow'
                """, logger: self.logger)
            if let id { try await self.setStatus(connection, of: id, to: .shadow, reason: reason, now: now) }
            try await self.audit(
                connection, now: now, actor: actor, action: id == nil ? "model.shadow_end" : "model.shadow", subject: id, reason: reason,
                detail: nil)
        }
    }

    public func championId() async throws(StoreError) -> String? {
        try await registryState().champion
    }

    public func shadowId() async throws(StoreError) -> String? {
        try await registryState().shadow
    }

    /// The champion, the shadow and the active policy, read in one statement.
    public func registryState() async throws(StoreError) -> RegistryState {
        let rows = try await rows(
            """
            SELECT (SELECT id FROM models WHERE status = 'champion'),
                   (SELECT id FROM models WHERE status = 'shadow' ORDER BY status_changed_at DESC LIMIT 1),
                   (SELECT version FROM policies WHERE status = 'active')
            """)
        let state = try decodeAll(rows, as: (String?, String?, String?).self).first
        return RegistryState(champion: state?.0 ?? nil, shadow: state?.1 ?? nil, policy: state?.2 ?? nil)
    }

    public func registeredArtifact(of id: String) async throws(StoreError) -> (json: Data, registeredSHA256: String) {
        let rows = try await rows("SELECT artifact, artifact_sha256 FROM models WHERE id = \(id)")
        guard let (artifact, sha256) = try decodeAll(rows, as: (String, String).self).first else { throw .noModel(id) }
        return (Data(artifact.utf8), sha256)
    }

    public func models() async throws(StoreError) -> [RegisteredModel] {
        let rows = try await rows(
            """
            SELECT id, algorithm, status, created_at, parent_id, feature_spec_sha256, artifact_sha256, status_reason
            FROM models ORDER BY created_at DESC, id
            """)
        return try decodeAll(rows, as: (String, String, String, Int64, String?, String, String, String?).self).map {
            RegisteredModel(
                id: $0.0, algorithm: $0.1, status: $0.2, createdAt: Timestamp(millisecondsSinceEpoch: $0.3).rfc3339, parentId: $0.4,
                featureSpecSHA256: $0.5, artifactSHA256: $0.6, statusReason: $0.7)
        }
    }

    // MARK: Retraining cycles

    public func cycles(limit: Int) async throws(StoreError) -> [RetrainCycleRecord] {
        let rows = try await rows(
            """
            SELECT id, started_at, finished_at, as_of, actor, trigger, label_high_water, champion_id, challenger_id, outcome, reason, detail
            FROM retrain_cycles ORDER BY as_of DESC, id DESC LIMIT \(Int64(min(limit, Int(Int64.max))))
            """)
        return try decodeAll(rows, as: (Int64, Int64, Int64, Int64, String, String, Int64, String?, String, String, String, String).self)
            .map { (row) throws(StoreError) in
                guard let outcome = RetrainCycleRecord.Outcome(rawValue: row.9) else {
                    throw .database(message: "retrain_cycles row \(row.0): unknown outcome '\(row.9)'")
                }
                var cycle = RetrainCycleRecord(
                    startedAt: Timestamp(millisecondsSinceEpoch: row.1), finishedAt: Timestamp(millisecondsSinceEpoch: row.2),
                    asOf: Timestamp(millisecondsSinceEpoch: row.3), actor: row.4, trigger: row.5, labelHighWater: row.6, championId: row.7,
                    challengerId: row.8, outcome: outcome, reason: row.10, detail: row.11)
                cycle.id = row.0
                return cycle
            }
    }

    public func finishCycle(
        _ cycle: RetrainCycleRecord, challenger: ModelRegistration, promote: Bool
    ) async throws(StoreError) -> RetrainCycleRecord {
        let now = Self.nowMilliseconds()
        return try await transaction { connection in
            try await self.lockRegistry(connection)
            var cycle = cycle
            let currentChampion = try await self.firstString(connection, "SELECT id FROM models WHERE status = 'champion'")
            let existing = try await self.status(connection, of: challenger.id)
            if let status = cycle.settle(existingStatus: existing, currentChampion: currentChampion, promote: promote) {
                if status == .champion { try await self.retireChampion(connection, now: now) }
                try await self.insertModel(connection, challenger, status: status, reason: cycle.reason, now: now)
                try await self.audit(
                    connection, now: now, actor: cycle.actor, action: "model.register", subject: challenger.id, reason: cycle.reason,
                    detail: status.rawValue)
                if status == .champion {
                    try await self.audit(
                        connection, now: now, actor: cycle.actor, action: "model.promote", subject: challenger.id, reason: cycle.reason,
                        detail: cycle.championId.map { "over \($0)" })
                }
            }
            cycle.finishedAt = Timestamp(millisecondsSinceEpoch: now)
            cycle.challengerId = challenger.id
            let rows = try await connection.query(
                """
                INSERT INTO retrain_cycles (started_at, finished_at, as_of, actor, trigger, label_high_water, champion_id, challenger_id,
                                            outcome, reason, detail)
                VALUES (\(cycle.startedAt.millisecondsSinceEpoch), \(cycle.finishedAt.millisecondsSinceEpoch),
                        \(cycle.asOf.millisecondsSinceEpoch), \(cycle.actor), \(cycle.trigger), \(cycle.labelHighWater), \(cycle.championId),
                        \(cycle.challengerId), \(cycle.outcome.rawValue), \(cycle.reason), \(cycle.detail))
                RETURNING id
                """, logger: self.logger)
            for try await id in rows.decode(Int64.self) { cycle.id = id }
            try await self.audit(
                connection, now: now, actor: cycle.actor, action: "retrain.cycle", subject: challenger.id, reason: cycle.reason,
                detail: cycle.outcome.rawValue)
            return cycle
        }
    }

    // MARK: Inside a transaction

    func status(_ connection: PostgresConnection, of id: String) async throws -> String? {
        try await firstString(connection, "SELECT status FROM models WHERE id = \(id)")
    }

    func firstString(_ connection: PostgresConnection, _ query: PostgresQuery) async throws -> String? {
        for try await value in try await connection.query(query, logger: logger).decode(String?.self) { return value }
        return nil
    }

    func rollbackTarget(_ connection: PostgresConnection) async throws -> String? {
        // Ties in time go to the later registration, as SQLite's rowid does.
        try await firstString(
            connection,
            """
            SELECT id FROM models WHERE status = 'retired' AND status_reason = \(RegistryReason.replaced)
            ORDER BY status_changed_at DESC, created_at DESC, id DESC LIMIT 1
            """)
    }

    func setStatus(_ connection: PostgresConnection, of id: String, to status: ModelStatus, reason: String?, now: Int64) async throws {
        try await connection.query(
            "UPDATE models SET status = \(status.rawValue), status_reason = \(reason), status_changed_at = \(now) WHERE id = \(id)",
            logger: logger)
    }

    func retireChampion(_ connection: PostgresConnection, now: Int64) async throws {
        try await connection.query(
            """
            UPDATE models SET status = 'retired', status_reason = \(RegistryReason.replaced), status_changed_at = \(now)
            WHERE status = 'champion'
            """, logger: logger)
    }

    func insertModel(_ connection: PostgresConnection, _ model: ModelRegistration, status: ModelStatus, reason: String?, now: Int64)
        async throws
    {
        try await connection.query(
            """
            INSERT INTO models (id, algorithm, status, created_at, parent_id, feature_spec_sha256, artifact, artifact_sha256,
                                status_reason, status_changed_at)
            VALUES (\(model.id), \(model.algorithm), \(status.rawValue), \(model.createdAt.millisecondsSinceEpoch), \(model.parentId),
                    \(model.featureSpecSHA256), \(String(decoding: model.artifact, as: UTF8.self)), \(model.artifactSHA256), \(reason), \(now))
            """, logger: logger)
    }
}
