import Foundation
import PostgresNIO
import RiskContract
import RiskStore

extension PostgresStore {
    public func proposePolicy(version: String, json: String, actor: String) async throws(StoreError) {
        try await transaction { connection in
            // Policies change under the registry's lock, as models do.
            try await self.lockRegistry(connection)
            let now = Self.nowMilliseconds()
            var stored: (policy: String, status: String)?
            for try await row in try await connection.query(
                "SELECT policy, status FROM policies WHERE version = \(version)", logger: self.logger
            ).decode((String, String).self) {
                stored = row
            }
            if let stored {
                guard stored.policy == json else { throw StoreError.policyVersionTaken(version) }
                guard stored.status == PolicyStatus.recorded.rawValue else { return }
                try await connection.query(
                    "UPDATE policies SET status = 'proposed', proposed_by = \(actor) WHERE version = \(version)", logger: self.logger)
            } else {
                try await connection.query(
                    """
                    INSERT INTO policies (version, policy, recorded_at, status, proposed_by)
                    VALUES (\(version), \(json), \(now), 'proposed', \(actor))
                    """, logger: self.logger)
            }
            _ = try await self.audit(
                connection, now: now, actor: actor, action: "policy.propose", subject: version, reason: nil, detail: json)
        }
    }

    public func activatePolicy(version: String, actor: String, reason: String, fourEyes: Bool) async throws(StoreError) {
        try await transaction { connection in
            try await self.lockRegistry(connection)
            var stored: (status: String, proposedBy: String?)?
            for try await row in try await connection.query(
                "SELECT status, proposed_by FROM policies WHERE version = \(version)", logger: self.logger
            ).decode((String, String?).self) {
                stored = row
            }
            guard let stored else { throw StoreError.noPolicy(version) }
            if stored.status == PolicyStatus.active.rawValue { return }
            if stored.status == PolicyStatus.recorded.rawValue, fourEyes { throw StoreError.neverProposed(version) }
            if fourEyes, stored.proposedBy == actor { throw StoreError.sameProposer(version, actor) }
            let now = Self.nowMilliseconds()
            let previous = try await self.firstString(connection, "SELECT version FROM policies WHERE status = 'active'")
            try await connection.query(
                "UPDATE policies SET status = 'retired', status_reason = \("replaced by \(version)") WHERE status = 'active'",
                logger: self.logger)
            try await connection.query(
                """
                UPDATE policies SET status = 'active', activated_by = \(actor), activated_at = \(now), status_reason = \(reason)
                WHERE version = \(version)
                """, logger: self.logger)
            _ = try await self.audit(
                connection, now: now, actor: actor, action: "policy.activate", subject: version, reason: reason,
                detail: StoreError.activationDetail(previous: previous))
        }
    }

    public func policies() async throws(StoreError) -> [PolicyRecord] {
        let rows = try await rows(
            """
            SELECT version, status, recorded_at, proposed_by, activated_by, activated_at, status_reason FROM policies
            ORDER BY recorded_at DESC, version
            """)
        return try decodeAll(rows, as: (String, String, Int64, String?, String?, Int64?, String?).self).map {
            (row) throws(StoreError) in
            try PolicyRecord(
                version: row.0, status: row.1, recordedAt: row.2, proposedBy: row.3, activatedBy: row.4, activatedAt: row.5, reason: row.6)
        }
    }
}
