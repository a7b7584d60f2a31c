import GRDB
import RiskStore

/// The database schema as named, append-only migrations.
///
/// A migration that has shipped is never edited: changes come as new steps, so every database,
/// however old, reaches the same schema. Times are INTEGER milliseconds since the Unix epoch (UTC).
public enum StoreSchema {
    /// The names of the migrations, in order.
    public static var migrationNames: [String] { migrator.migrations }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: events, labels, decisions, models, audit log") { db in
            try db.execute(
                sql: """
                    CREATE TABLE ingest_batches (
                        id INTEGER PRIMARY KEY,
                        kind TEXT NOT NULL CHECK (kind IN ('events', 'labels')),
                        source TEXT NOT NULL,
                        first_line INTEGER NOT NULL,
                        last_line INTEGER NOT NULL,
                        inserted INTEGER NOT NULL,
                        duplicates INTEGER NOT NULL,
                        committed_at INTEGER NOT NULL
                    );

                    -- The event exactly as received (payload), plus the fields every query needs.
                    CREATE TABLE events (
                        id TEXT NOT NULL PRIMARY KEY,
                        occurred_at INTEGER NOT NULL,
                        customer_id TEXT NOT NULL,
                        kind TEXT NOT NULL,
                        payload TEXT NOT NULL,
                        batch_id INTEGER REFERENCES ingest_batches(id)
                    );
                    CREATE INDEX events_by_time ON events(occurred_at);
                    CREATE INDEX events_by_customer ON events(customer_id, occurred_at);

                    -- Every label version is kept; per event, the latest reported_at wins (then the later seq).
                    CREATE TABLE labels (
                        seq INTEGER PRIMARY KEY AUTOINCREMENT,
                        event_id TEXT NOT NULL REFERENCES events(id),
                        outcome TEXT NOT NULL CHECK (outcome IN ('fraud', 'genuine')),
                        reported_at INTEGER NOT NULL,
                        source TEXT NOT NULL,
                        batch_id INTEGER REFERENCES ingest_batches(id),
                        UNIQUE (event_id, reported_at, outcome, source)
                    );
                    CREATE INDEX labels_by_event ON labels(event_id, reported_at);
                    CREATE INDEX labels_by_time ON labels(reported_at);
                    CREATE VIEW latest_labels AS
                        SELECT event_id, outcome, reported_at, source FROM (
                            SELECT *, ROW_NUMBER() OVER (
                                PARTITION BY event_id ORDER BY reported_at DESC, seq DESC) AS version_rank
                            FROM labels)
                        WHERE version_rank = 1;

                    -- The model registry: at most one champion, enforced by the index below.
                    CREATE TABLE models (
                        id TEXT NOT NULL PRIMARY KEY,
                        algorithm TEXT NOT NULL CHECK (algorithm IN ('logistic_regression', 'naive_bayes')),
                        status TEXT NOT NULL CHECK (status IN ('candidate', 'champion', 'shadow', 'rejected', 'retired')),
                        created_at INTEGER NOT NULL,
                        parent_id TEXT REFERENCES models(id),
                        feature_spec_sha256 TEXT NOT NULL,
                        artifact TEXT NOT NULL,
                        artifact_sha256 TEXT NOT NULL,
                        status_reason TEXT,
                        status_changed_at INTEGER NOT NULL
                    );
                    CREATE UNIQUE INDEX one_champion ON models(status) WHERE status = 'champion';

                    -- Every decision, with the exact model and policy versions that made it.
                    CREATE TABLE decisions (
                        id INTEGER PRIMARY KEY,
                        event_id TEXT NOT NULL REFERENCES events(id),
                        decided_at INTEGER NOT NULL,
                        model_id TEXT NOT NULL REFERENCES models(id),
                        policy_version TEXT NOT NULL,
                        score REAL NOT NULL,
                        decision TEXT NOT NULL CHECK (decision IN ('allow', 'step_up', 'review', 'block')),
                        reasons TEXT NOT NULL,
                        shadow_model_id TEXT REFERENCES models(id),
                        shadow_score REAL
                    );
                    CREATE INDEX decisions_by_event ON decisions(event_id);
                    CREATE INDEX decisions_by_time ON decisions(decided_at);

                    -- Append-only: the triggers refuse any change to a written entry.
                    CREATE TABLE audit_log (
                        seq INTEGER PRIMARY KEY AUTOINCREMENT,
                        at INTEGER NOT NULL,
                        actor TEXT NOT NULL,
                        action TEXT NOT NULL,
                        subject TEXT,
                        reason TEXT,
                        detail TEXT
                    );
                    CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
                        BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
                    CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
                        BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
                    """)
        }
        migrator.registerMigration("v2: API keys") { db in
            try db.execute(
                sql: """
                    -- Only the SHA-256 of a key is stored; the key itself is shown once, when created.
                    CREATE TABLE api_keys (
                        id INTEGER PRIMARY KEY,
                        name TEXT NOT NULL,
                        role TEXT NOT NULL CHECK (role IN ('score', 'label', 'admin')),
                        key_sha256 TEXT NOT NULL UNIQUE,
                        created_at INTEGER NOT NULL,
                        revoked_at INTEGER
                    );
                    """)
        }
        migrator.registerMigration("v3: retraining cycles") { db in
            try db.execute(
                sql: """
                    -- One row per retraining cycle that ran to the end, written in the same transaction
                    -- as its challenger's registration (and promotion): a cycle cut short leaves no row
                    -- and no model. label_high_water is the highest labels.seq the cycle could see:
                    -- labels above it count towards the next cycle's trigger.
                    CREATE TABLE retrain_cycles (
                        id INTEGER PRIMARY KEY,
                        started_at INTEGER NOT NULL,
                        finished_at INTEGER NOT NULL,
                        as_of INTEGER NOT NULL,
                        actor TEXT NOT NULL,
                        trigger TEXT NOT NULL,
                        label_high_water INTEGER NOT NULL,
                        champion_id TEXT REFERENCES models(id),
                        challenger_id TEXT NOT NULL REFERENCES models(id),
                        outcome TEXT NOT NULL CHECK (outcome IN ('promoted', 'rejected', 'unchanged')),
                        reason TEXT NOT NULL,
                        detail TEXT NOT NULL
                    );
                    CREATE INDEX retrain_cycles_by_time ON retrain_cycles(as_of);
                    """)
        }
        migrator.registerMigration("v4: decision policies") { db in
            try db.execute(
                sql: """
                    -- Every decision policy a logged decision names (decisions.policy_version), as JSON, so
                    -- that replay applies the exact policy. A version names one policy for good.
                    CREATE TABLE policies (
                        version TEXT NOT NULL PRIMARY KEY,
                        policy TEXT NOT NULL,
                        recorded_at INTEGER NOT NULL
                    );
                    """)
        }
        migrator.registerMigration("v5: decision answers") { db in
            try db.execute(
                sql: """
                    -- The score as the service answered it (JSON), so that a retried request with the
                    -- same event gets the same answer and nothing new is logged. NULL for decisions
                    -- logged before this migration and by the demo's replay.
                    ALTER TABLE decisions ADD COLUMN answer TEXT;
                    """)
        }
        migrator.registerMigration("v6: decision replicas") { db in
            try db.execute(
                sql: """
                    -- Which replica decided, and how far in the shared decision log (decisions.id) its
                    -- entity history had read then. NULL for decisions logged before this migration.
                    ALTER TABLE decisions ADD COLUMN replica TEXT;
                    ALTER TABLE decisions ADD COLUMN history_position INTEGER;
                    """)
        }
        migrator.registerMigration("v7: key notifications") { _ in
            // PostgreSQL notifies servers of API key changes (a trigger); SQLite servers read the
            // key at every request through their own connection, so there is nothing to add. The
            // step keeps both backends' migrations named alike.
        }
        migrator.registerMigration("v8: time partitions") { db in
            // PostgreSQL partitions events and decisions by the event's month, which needs the
            // event's time on each decision; SQLite keeps one table each and gains the same column.
            try db.execute(
                sql: """
                    ALTER TABLE decisions ADD COLUMN occurred_at INTEGER;
                    UPDATE decisions SET occurred_at = (SELECT occurred_at FROM events WHERE events.id = decisions.event_id);
                    """)
        }
        migrator.registerMigration("v9: review cases") { db in
            try db.execute(
                sql: """
                    -- The analysts' review queue: one case per event a person must look at, opened in the
                    -- transaction that logs a review decision (or records a failed or abandoned step-up).
                    -- Resolving it stores a label version (source 'analyst', label_seq). Decisions logged
                    -- before this migration open no case.
                    CREATE TABLE cases (
                        id INTEGER PRIMARY KEY,
                        event_id TEXT NOT NULL UNIQUE REFERENCES events(id),
                        decision_id INTEGER NOT NULL REFERENCES decisions(id),
                        customer_id TEXT NOT NULL,
                        occurred_at INTEGER NOT NULL,
                        opened_at INTEGER NOT NULL,
                        trigger TEXT NOT NULL CHECK (trigger IN ('review', 'step_up_failed', 'step_up_abandoned')),
                        status TEXT NOT NULL CHECK (status IN ('open', 'resolved')),
                        outcome TEXT CHECK (outcome IN ('fraud', 'genuine')),
                        note TEXT,
                        resolved_by TEXT,
                        resolved_at INTEGER,
                        label_seq INTEGER REFERENCES labels(seq),
                        CHECK ((status = 'open') = (outcome IS NULL))
                    );
                    CREATE INDEX cases_by_status ON cases(status, opened_at);
                    CREATE INDEX cases_by_customer ON cases(customer_id, opened_at);

                    -- How the step-up of a step_up decision ended, as the service reported it.
                    ALTER TABLE decisions ADD COLUMN step_up_outcome TEXT CHECK (step_up_outcome IN ('passed', 'failed', 'abandoned'));

                    -- A new role, analyst (cases only): SQLite cannot change a CHECK, so the table is rebuilt.
                    CREATE TABLE api_keys_v9 (
                        id INTEGER PRIMARY KEY,
                        name TEXT NOT NULL,
                        role TEXT NOT NULL CHECK (role IN ('score', 'label', 'analyst', 'admin')),
                        key_sha256 TEXT NOT NULL UNIQUE,
                        created_at INTEGER NOT NULL,
                        revoked_at INTEGER
                    );
                    INSERT INTO api_keys_v9 (id, name, role, key_sha256, created_at, revoked_at)
                        SELECT id, name, role, key_sha256, created_at, revoked_at FROM api_keys;
                    DROP TABLE api_keys;
                    ALTER TABLE api_keys_v9 RENAME TO api_keys;
                    """)
        }
        migrator.registerMigration("v10: policy governance") { db in
            try db.execute(
                sql: """
                    -- A policy is proposed, then activated by someone else (four eyes); servers follow the
                    -- one active version. Versions stored before this migration stay 'recorded'.
                    ALTER TABLE policies ADD COLUMN status TEXT NOT NULL DEFAULT 'recorded'
                        CHECK (status IN ('recorded', 'proposed', 'active', 'retired'));
                    ALTER TABLE policies ADD COLUMN proposed_by TEXT;
                    ALTER TABLE policies ADD COLUMN activated_by TEXT;
                    ALTER TABLE policies ADD COLUMN activated_at INTEGER;
                    ALTER TABLE policies ADD COLUMN status_reason TEXT;
                    CREATE UNIQUE INDEX one_active_policy ON policies(status) WHERE status = 'active';
                    """)
        }
        migrator.registerMigration("v11: signal origins") { db in
            // Where each telco signal of a decision came from (event, cache, operator,
            // notification) or why it is unknown: a JSON object, NULL without enrichment.
            try db.execute(sql: "ALTER TABLE decisions ADD COLUMN signals TEXT")
        }
        return migrator
    }
}
