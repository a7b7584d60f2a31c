import Foundation
import Logging
import PostgresNIO
import RiskStore

/// The PostgreSQL schema as named, append-only migrations: the same names, tables and columns as
/// the SQLite backend's (`StoreSchema`), in PostgreSQL's types.
///
/// Times are BIGINT milliseconds since the Unix epoch (UTC), as in SQLite. What differs, and why:
/// - `events.seq`: the order events reached the store (SQLite's `rowid`): time order breaks ties
///   by it, and it is the position in the shared log that replicas read up to;
/// - the audit log's append-only rule is a trigger function that raises, for UPDATE, DELETE and
///   TRUNCATE;
/// - every registry write also notifies the channel ``registryChannel``, so replicas learn of a
///   promotion, rollback or shadow change at once (``PostgresStore/watchRegistry(every:_:)``).
///
/// Applied migrations are listed in `riskloop_migrations`; migrating takes an advisory lock, so
/// replicas starting together migrate once.
public enum PostgresSchema {
    /// The names of the migrations, in order.
    public static var migrationNames: [String] { migrations.map(\.name) }

    /// The channel every change of `models` notifies.
    static let registryChannel = "riskloop_registry"
    /// The channel every change of `api_keys` notifies.
    static let keysChannel = "riskloop_keys"

    /// The advisory lock keys (the first argument of `pg_advisory_xact_lock(int, int)`, in
    /// RiskLoop's own namespace).
    enum Lock: Int32 {
        case migrations = 1
        case registry = 2
        /// Held by every transaction that appends decisions or label versions, from before its
        /// first id is drawn until it commits: ids then become visible in order, so a replica
        /// reading the log after a position never misses one committed late.
        case logAppend = 3
        /// ``RiskStore/StoreLock/retraining``: a session lock, held for a whole cycle.
        case retraining = 4
        /// Held while a month's partitions are created, so two processes never race to create them.
        case partitions = 5
    }

    /// Months from 2000 (inclusive) to 2100 get a partition of their own when first written;
    /// events before or after go to the fixed partitions `events_before_2000` and
    /// `events_from_2100` (retention removes them in batches), so absurd dates cannot create
    /// tables without end.
    static let partitionedFrom: Int64 = 946_684_800_000  // 2000-01-01T00:00:00Z
    static let partitionedUntil: Int64 = 4_102_444_800_000  // 2100-01-01T00:00:00Z

    /// RiskLoop's namespace in PostgreSQL's advisory locks.
    static let lockNamespace: Int32 = 0x5249_534B  // "RISK"

    static let migrations: [(name: String, sql: String)] = [
        (
            "v1: events, labels, decisions, models, audit log",
            """
            CREATE TABLE ingest_batches (
                id BIGSERIAL PRIMARY KEY,
                kind TEXT NOT NULL CHECK (kind IN ('events', 'labels')),
                source TEXT NOT NULL,
                first_line BIGINT NOT NULL,
                last_line BIGINT NOT NULL,
                inserted BIGINT NOT NULL,
                duplicates BIGINT NOT NULL,
                committed_at BIGINT NOT NULL
            );

            -- The event exactly as received (payload), plus the fields every query needs.
            CREATE TABLE events (
                id TEXT NOT NULL PRIMARY KEY,
                occurred_at BIGINT NOT NULL,
                customer_id TEXT NOT NULL,
                kind TEXT NOT NULL,
                payload TEXT NOT NULL,
                batch_id BIGINT REFERENCES ingest_batches(id),
                seq BIGSERIAL NOT NULL UNIQUE
            );
            CREATE INDEX events_by_time ON events(occurred_at, seq);
            CREATE INDEX events_by_customer ON events(customer_id, occurred_at);

            -- Every label version is kept; per event, the latest reported_at wins (then the later seq).
            CREATE TABLE labels (
                seq BIGSERIAL PRIMARY KEY,
                event_id TEXT NOT NULL REFERENCES events(id),
                outcome TEXT NOT NULL CHECK (outcome IN ('fraud', 'genuine')),
                reported_at BIGINT NOT NULL,
                source TEXT NOT NULL,
                batch_id BIGINT REFERENCES ingest_batches(id),
                UNIQUE (event_id, reported_at, outcome, source)
            );
            CREATE INDEX labels_by_event ON labels(event_id, reported_at);
            CREATE INDEX labels_by_time ON labels(reported_at);
            CREATE VIEW latest_labels AS
                SELECT DISTINCT ON (event_id) event_id, outcome, reported_at, source
                FROM labels ORDER BY event_id, reported_at DESC, seq DESC;

            -- The model registry: at most one champion, enforced by the index below.
            CREATE TABLE models (
                id TEXT NOT NULL PRIMARY KEY,
                algorithm TEXT NOT NULL CHECK (algorithm IN ('logistic_regression', 'naive_bayes')),
                status TEXT NOT NULL CHECK (status IN ('candidate', 'champion', 'shadow', 'rejected', 'retired')),
                created_at BIGINT NOT NULL,
                parent_id TEXT REFERENCES models(id),
                feature_spec_sha256 TEXT NOT NULL,
                artifact TEXT NOT NULL,
                artifact_sha256 TEXT NOT NULL,
                status_reason TEXT,
                status_changed_at BIGINT NOT NULL
            );
            CREATE UNIQUE INDEX one_champion ON models(status) WHERE status = 'champion';

            -- Every decision, with the exact model and policy versions that made it.
            CREATE TABLE decisions (
                id BIGSERIAL PRIMARY KEY,
                event_id TEXT NOT NULL REFERENCES events(id),
                decided_at BIGINT NOT NULL,
                model_id TEXT NOT NULL REFERENCES models(id),
                policy_version TEXT NOT NULL,
                score DOUBLE PRECISION NOT NULL,
                decision TEXT NOT NULL CHECK (decision IN ('allow', 'step_up', 'review', 'block')),
                reasons TEXT NOT NULL,
                shadow_model_id TEXT REFERENCES models(id),
                shadow_score DOUBLE PRECISION
            );
            CREATE INDEX decisions_by_event ON decisions(event_id);
            CREATE INDEX decisions_by_time ON decisions(decided_at);

            -- Append-only: the trigger refuses any change to a written entry.
            CREATE TABLE audit_log (
                seq BIGSERIAL PRIMARY KEY,
                at BIGINT NOT NULL,
                actor TEXT NOT NULL,
                action TEXT NOT NULL,
                subject TEXT,
                reason TEXT,
                detail TEXT
            );
            CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$;
            CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
                FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
            CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
                FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

            -- Replicas LISTEN on this channel: every registry change reaches them at its commit.
            CREATE FUNCTION models_notify() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN PERFORM pg_notify('\(registryChannel)', ''); RETURN NULL; END $$;
            CREATE TRIGGER models_changed AFTER INSERT OR UPDATE OR DELETE ON models
                FOR EACH STATEMENT EXECUTE FUNCTION models_notify();
            """
        ),
        (
            "v2: API keys",
            """
            -- Only the SHA-256 of a key is stored; the key itself is shown once, when created.
            CREATE TABLE api_keys (
                id BIGSERIAL PRIMARY KEY,
                name TEXT NOT NULL,
                role TEXT NOT NULL CHECK (role IN ('score', 'label', 'admin')),
                key_sha256 TEXT NOT NULL UNIQUE,
                created_at BIGINT NOT NULL,
                revoked_at BIGINT
            );
            """
        ),
        (
            "v3: retraining cycles",
            """
            -- One row per retraining cycle that ran to the end, written in the same transaction
            -- as its challenger's registration (and promotion). label_high_water is the highest
            -- labels.seq the cycle could see.
            CREATE TABLE retrain_cycles (
                id BIGSERIAL PRIMARY KEY,
                started_at BIGINT NOT NULL,
                finished_at BIGINT NOT NULL,
                as_of BIGINT NOT NULL,
                actor TEXT NOT NULL,
                trigger TEXT NOT NULL,
                label_high_water BIGINT NOT NULL,
                champion_id TEXT REFERENCES models(id),
                challenger_id TEXT NOT NULL REFERENCES models(id),
                outcome TEXT NOT NULL CHECK (outcome IN ('promoted', 'rejected', 'unchanged')),
                reason TEXT NOT NULL,
                detail TEXT NOT NULL
            );
            CREATE INDEX retrain_cycles_by_time ON retrain_cycles(as_of);
            """
        ),
        (
            "v4: decision policies",
            """
            -- Every decision policy a logged decision names, as JSON. A version names one policy for good.
            CREATE TABLE policies (
                version TEXT NOT NULL PRIMARY KEY,
                policy TEXT NOT NULL,
                recorded_at BIGINT NOT NULL
            );
            """
        ),
        (
            "v5: decision answers",
            """
            -- The score as the service answered it (JSON), so that a retried request gets the same answer.
            ALTER TABLE decisions ADD COLUMN answer TEXT;
            """
        ),
        (
            "v6: decision replicas",
            """
            -- Which replica decided, and how far in the shared decision log (decisions.id) its
            -- entity history had read then. NULL for decisions logged before this migration.
            ALTER TABLE decisions ADD COLUMN replica TEXT;
            ALTER TABLE decisions ADD COLUMN history_position BIGINT;
            """
        ),
        (
            "v7: key notifications",
            """
            -- Servers keep the API keys they have checked in memory while they LISTEN here: every
            -- write to api_keys (a creation, a revocation) notifies them at its commit.
            CREATE FUNCTION riskloop_notify() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN PERFORM pg_notify(TG_ARGV[0], ''); RETURN NULL; END $$;
            CREATE TRIGGER api_keys_changed AFTER INSERT OR UPDATE OR DELETE ON api_keys
                FOR EACH STATEMENT EXECUTE FUNCTION riskloop_notify('\(keysChannel)');
            """
        ),
        (
            "v8: time partitions",
            """
            -- Events and decisions are partitioned by the event's month (UTC), so retention drops a
            -- whole month at once. Event ids stay unique across partitions through event_ids, which
            -- retention prunes with them. Labels and decisions name their event without a foreign
            -- key: checking one for every id a month's drop deletes cost as much as deleting the
            -- month row by row. The writes enforce it instead (event_ids rows locked FOR KEY SHARE,
            -- as a foreign key would, and deleted first by retention).
            CREATE TABLE event_ids (
                id TEXT NOT NULL PRIMARY KEY,
                occurred_at BIGINT NOT NULL
            );
            CREATE INDEX event_ids_by_time ON event_ids(occurred_at);
            INSERT INTO event_ids (id, occurred_at) SELECT id, occurred_at FROM events;
            ALTER TABLE labels DROP CONSTRAINT labels_event_id_fkey;
            ALTER TABLE decisions DROP CONSTRAINT decisions_event_id_fkey;
            ALTER TABLE events RENAME TO events_v7;
            ALTER TABLE decisions RENAME TO decisions_v7;
            ALTER TABLE events_v7 RENAME CONSTRAINT events_pkey TO events_v7_pkey;
            ALTER TABLE decisions_v7 RENAME CONSTRAINT decisions_pkey TO decisions_v7_pkey;
            ALTER SEQUENCE events_seq_seq OWNED BY NONE;
            ALTER SEQUENCE decisions_id_seq OWNED BY NONE;
            DROP INDEX events_by_time;
            DROP INDEX events_by_customer;
            DROP INDEX decisions_by_event;
            DROP INDEX decisions_by_time;

            CREATE TABLE events (
                id TEXT NOT NULL,
                occurred_at BIGINT NOT NULL,
                customer_id TEXT NOT NULL,
                kind TEXT NOT NULL,
                payload TEXT NOT NULL,
                batch_id BIGINT REFERENCES ingest_batches(id),
                seq BIGINT NOT NULL DEFAULT nextval('events_seq_seq'),
                PRIMARY KEY (id, occurred_at)
            ) PARTITION BY RANGE (occurred_at);
            CREATE INDEX events_by_time ON events(occurred_at, seq);
            CREATE INDEX events_by_customer ON events(customer_id, occurred_at);
            CREATE TABLE events_before_2000 PARTITION OF events FOR VALUES FROM (MINVALUE) TO (\(partitionedFrom));
            CREATE TABLE events_from_2100 PARTITION OF events FOR VALUES FROM (\(partitionedUntil)) TO (MAXVALUE);
            ALTER SEQUENCE events_seq_seq OWNED BY events.seq;

            CREATE TABLE decisions (
                id BIGINT NOT NULL DEFAULT nextval('decisions_id_seq'),
                event_id TEXT NOT NULL,
                occurred_at BIGINT NOT NULL,
                decided_at BIGINT NOT NULL,
                model_id TEXT NOT NULL REFERENCES models(id),
                policy_version TEXT NOT NULL,
                score DOUBLE PRECISION NOT NULL,
                decision TEXT NOT NULL CHECK (decision IN ('allow', 'step_up', 'review', 'block')),
                reasons TEXT NOT NULL,
                shadow_model_id TEXT REFERENCES models(id),
                shadow_score DOUBLE PRECISION,
                answer TEXT,
                replica TEXT,
                history_position BIGINT,
                PRIMARY KEY (id, occurred_at)
            ) PARTITION BY RANGE (occurred_at);
            CREATE INDEX decisions_by_id ON decisions(id);
            CREATE INDEX decisions_by_event ON decisions(event_id);
            CREATE INDEX decisions_by_time ON decisions(decided_at);
            CREATE TABLE decisions_before_2000 PARTITION OF decisions FOR VALUES FROM (MINVALUE) TO (\(partitionedFrom));
            CREATE TABLE decisions_from_2100 PARTITION OF decisions FOR VALUES FROM (\(partitionedUntil)) TO (MAXVALUE);
            ALTER SEQUENCE decisions_id_seq OWNED BY decisions.id;

            -- The partition of parent (events or decisions) for the month holding at_time, created
            -- when missing (then TRUE): made as a table of its own, then attached, which locks the
            -- parent only against other schema changes (SHARE UPDATE EXCLUSIVE), never against
            -- reads and writes.
            CREATE FUNCTION riskloop_month_partition(parent TEXT, at_time BIGINT) RETURNS BOOLEAN LANGUAGE plpgsql AS $$
                DECLARE
                    first_day TIMESTAMP := date_trunc('month', to_timestamp(at_time / 1000.0) AT TIME ZONE 'UTC');
                    month_start BIGINT := (EXTRACT(EPOCH FROM first_day) * 1000)::BIGINT;
                    month_end BIGINT := (EXTRACT(EPOCH FROM first_day + INTERVAL '1 month') * 1000)::BIGINT;
                    name TEXT := parent || '_' || to_char(first_day, 'YYYY_MM');
                BEGIN
                    PERFORM pg_advisory_xact_lock(\(lockNamespace), \(Lock.partitions.rawValue));
                    IF to_regclass(name) IS NOT NULL THEN RETURN FALSE; END IF;
                    EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', name, parent);
                    EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I FOR VALUES FROM (%s) TO (%s)',
                        parent, name, month_start, month_end);
                    RETURN TRUE;
                END $$;
            SELECT riskloop_month_partition(parent, MIN(occurred_at)) FROM events_v7, (VALUES ('events'), ('decisions')) AS p(parent)
                WHERE occurred_at >= \(partitionedFrom) AND occurred_at < \(partitionedUntil)
                GROUP BY parent, date_trunc('month', to_timestamp(occurred_at / 1000.0) AT TIME ZONE 'UTC');
            INSERT INTO events (id, occurred_at, customer_id, kind, payload, batch_id, seq)
                SELECT id, occurred_at, customer_id, kind, payload, batch_id, seq FROM events_v7;
            INSERT INTO decisions (id, event_id, occurred_at, decided_at, model_id, policy_version, score, decision, reasons,
                                   shadow_model_id, shadow_score, answer, replica, history_position)
                SELECT d.id, d.event_id, e.occurred_at, d.decided_at, d.model_id, d.policy_version, d.score, d.decision, d.reasons,
                       d.shadow_model_id, d.shadow_score, d.answer, d.replica, d.history_position
                FROM decisions_v7 d JOIN events_v7 e ON e.id = d.event_id;
            DROP TABLE decisions_v7;
            DROP TABLE events_v7;
            """
        ),
        (
            "v9: review cases",
            """
            -- The analysts' review queue: one case per event a person must look at, opened in the
            -- transaction that logs a review decision (or records a failed or abandoned step-up).
            -- Resolving it stores a label version (source 'analyst', label_seq). Decisions logged
            -- before this migration open no case. No foreign keys, as for labels (see v8).
            CREATE TABLE cases (
                id BIGSERIAL PRIMARY KEY,
                event_id TEXT NOT NULL UNIQUE,
                decision_id BIGINT NOT NULL,
                customer_id TEXT NOT NULL,
                occurred_at BIGINT NOT NULL,
                opened_at BIGINT NOT NULL,
                trigger TEXT NOT NULL CHECK (trigger IN ('review', 'step_up_failed', 'step_up_abandoned')),
                status TEXT NOT NULL CHECK (status IN ('open', 'resolved')),
                outcome TEXT CHECK (outcome IN ('fraud', 'genuine')),
                note TEXT,
                resolved_by TEXT,
                resolved_at BIGINT,
                label_seq BIGINT,
                CHECK ((status = 'open') = (outcome IS NULL))
            );
            CREATE INDEX cases_by_status ON cases(status, opened_at);
            CREATE INDEX cases_by_customer ON cases(customer_id, opened_at);
            CREATE INDEX cases_by_time ON cases(occurred_at);
            -- How the step-up of a step_up decision ended, as the service reported it.
            ALTER TABLE decisions ADD COLUMN step_up_outcome TEXT CHECK (step_up_outcome IN ('passed', 'failed', 'abandoned'));
            -- A new role, analyst (cases only).
            ALTER TABLE api_keys DROP CONSTRAINT api_keys_role_check;
            ALTER TABLE api_keys ADD CONSTRAINT api_keys_role_check CHECK (role IN ('score', 'label', 'analyst', 'admin'));
            """
        ),
        (
            "v10: policy governance",
            """
            -- A policy is proposed, then activated by someone else (four eyes); servers follow the
            -- one active version, told of a change on the registry's channel. Versions stored
            -- before this migration stay 'recorded'.
            ALTER TABLE policies ADD COLUMN status TEXT NOT NULL DEFAULT 'recorded'
                CHECK (status IN ('recorded', 'proposed', 'active', 'retired'));
            ALTER TABLE policies ADD COLUMN proposed_by TEXT;
            ALTER TABLE policies ADD COLUMN activated_by TEXT;
            ALTER TABLE policies ADD COLUMN activated_at BIGINT;
            ALTER TABLE policies ADD COLUMN status_reason TEXT;
            CREATE UNIQUE INDEX one_active_policy ON policies(status) WHERE status = 'active';
            CREATE TRIGGER policies_changed AFTER INSERT OR UPDATE OR DELETE ON policies
                FOR EACH STATEMENT EXECUTE FUNCTION riskloop_notify('\(registryChannel)');
            """
        ),
        (
            "v11: signal origins",
            """
            -- Where each telco signal of a decision came from (event, cache, operator,
            -- notification) or why it is unknown: a JSON object, NULL without enrichment.
            ALTER TABLE decisions ADD COLUMN signals TEXT;
            """
        ),
    ]

    /// The statements of a migration, one at a time (a prepared statement holds only one): split
    /// after each line that ends in `;` outside a `$$` function body.
    static func statements(of sql: String) -> [String] {
        var statements: [String] = []
        var current: [Substring] = []
        var insideBody = false
        for line in sql.split(separator: "\n", omittingEmptySubsequences: false) {
            current.append(line)
            if line.components(separatedBy: "$$").count % 2 == 0 { insideBody.toggle() }
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if !insideBody, trimmed.hasSuffix(";"), !trimmed.hasPrefix("--") {
                statements.append(current.joined(separator: "\n"))
                current = []
            }
        }
        return statements
    }

    /// Applies the migrations the database lacks, in order, in one transaction under the
    /// migration lock (the first `count` of them: the tests build older schemas with it).
    static func migrate(_ client: PostgresClient, logger: Logger, count: Int = migrations.count) async throws {
        try await client.withTransaction(logger: logger) { connection in
            try await connection.query(
                "SELECT pg_advisory_xact_lock(\(lockNamespace), \(Lock.migrations.rawValue))", logger: logger)
            try await connection.query(
                "CREATE TABLE IF NOT EXISTS riskloop_migrations (name TEXT NOT NULL PRIMARY KEY, applied_at BIGINT NOT NULL)",
                logger: logger)
            var applied: Set<String> = []
            for try await name in try await connection.query("SELECT name FROM riskloop_migrations", logger: logger).decode(String.self) {
                applied.insert(name)
            }
            for migration in migrations.prefix(count) where !applied.contains(migration.name) {
                for statement in statements(of: migration.sql) {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query(
                    "INSERT INTO riskloop_migrations (name, applied_at) VALUES (\(migration.name), \(PostgresStore.nowMilliseconds()))",
                    logger: logger)
                logger.info("migrated", metadata: ["migration": "\(migration.name)"])
            }
        }
    }
}
