import Foundation
import GRDB
import GRDBSQLite
import RiskContract
import RiskStore

extension SQLiteStore {
    /// Reads what a cycle trains on, in one snapshot: events in `[from, to)` (and those in
    /// `[historyFrom, from)` for history), and the label versions reported at or before `cutoff`.
    ///
    /// - Parameter keepingJSON: keep each event's JSON tree (a spec reads fields outside the contract).
    public func trainingSnapshot(
        historyFrom: Timestamp, from: Timestamp, to: Timestamp, labelsKnownAt cutoff: Timestamp, keepingJSON: Bool
    ) async throws(StoreError) -> TrainingSnapshot {
        try await trainingSnapshot(
            historyFrom: historyFrom, from: from, to: to, labelsKnownAt: cutoff, keepingJSON: keepingJSON,
            parseBatch: BackgroundParser.batchSize)
    }

    /// ``trainingSnapshot(historyFrom:from:to:labelsKnownAt:keepingJSON:)``, parsing `parseBatch`
    /// payloads at a time.
    func trainingSnapshot(
        historyFrom: Timestamp, from: Timestamp, to: Timestamp, labelsKnownAt cutoff: Timestamp, keepingJSON: Bool, parseBatch: Int
    ) async throws(StoreError) -> TrainingSnapshot {
        // The payloads are parsed on other threads, a batch at a time, while this one reads on.
        let parser = BackgroundParser(keepingJSON: keepingJSON, batchSize: parseBatch)
        let (events, split, labels, highWater, outcomes) = try await read { db in
            let statement = try db.makeStatement(
                sql: "SELECT occurred_at, payload, id FROM events WHERE occurred_at >= ? AND occurred_at < ? ORDER BY occurred_at, rowid")
            statement.arguments = [historyFrom.millisecondsSinceEpoch, to.millisecondsSinceEpoch]
            let rows = try Row.fetchCursor(statement)
            // The current row's columns, read in place through SQLite's own API.
            let current = statement.sqliteStatement
            var batch = PayloadBatch()
            var ids: [String] = []
            var split = 0, count = 0
            while let row = try rows.next() {
                // The payload's bytes as SQLite holds them, copied once into the batch (the text
                // first, then its length, as SQLite asks).
                let text = sqlite3_column_text(current, 1)
                batch.append(UnsafeBufferPointer(start: text, count: Int(sqlite3_column_bytes(current, 1))))
                ids.append(row[2])
                count += 1
                if sqlite3_column_int64(current, 0) < from.millisecondsSinceEpoch { split = count }
                if batch.count == parser.batchSize {
                    parser.submit(batch)
                    batch = PayloadBatch()
                }
            }
            parser.submit(batch)
            // A cursor: a million versions fetched as rows first took longer than reading them.
            let versions = try Row.fetchCursor(
                db, sql: "SELECT event_id, outcome, reported_at, source FROM labels WHERE reported_at <= ? ORDER BY reported_at, seq",
                arguments: [cutoff.millisecondsSinceEpoch])
            var labels: [Label] = []
            while let row = try versions.next() { labels.append(try Self.label(row)) }
            let highWater = try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(seq), 0) FROM labels") ?? 0
            // Each event's label, found here while the other cores still parse (found after the
            // snapshot, it was a serial second for a million events).
            let outcomes = Label.latestOutcomes(of: ids[split...].map(Optional.some), versions: labels)
            // Waited for here, on GRDB's reader thread, not on the caller's.
            return (try parser.finish(), split, labels, highWater, outcomes)
        }
        return TrainingSnapshot(
            warmup: Array(events[..<split]), events: Array(events[split...]), labelVersions: labels, labelHighWater: highWater,
            outcomes: outcomes)
    }

    /// Stored events in `[from, to)` in time order: each parsed, with its payload as received.
    public func events(from: Timestamp, to: Timestamp, keepingJSON: Bool) async throws(StoreError) -> [(
        event: ParsedEvent, payload: String
    )] {
        try await read { db in
            let payloads = try String.fetchAll(
                db, sql: "SELECT payload FROM events WHERE occurred_at >= ? AND occurred_at < ? ORDER BY occurred_at, rowid",
                arguments: [from.millisecondsSinceEpoch, to.millisecondsSinceEpoch])
            return Array(zip(try BackgroundParser.parse(payloads, keepingJSON: keepingJSON), payloads))
        }
    }

    /// The scores logged for decisions `modelId` made on events that occurred in `[from, to)`.
    public func decisionScores(modelId: String, from: Timestamp, to: Timestamp) async throws(StoreError) -> [Double] {
        try await read { db in
            try Double.fetchAll(
                db,
                sql: """
                    SELECT d.score FROM decisions d JOIN events e ON e.id = d.event_id
                    WHERE d.model_id = ? AND e.occurred_at >= ? AND e.occurred_at < ?
                    """, arguments: [modelId, from.millisecondsSinceEpoch, to.millisecondsSinceEpoch])
        }
    }

    /// When the earliest of these events occurred (`nil` when none is stored).
    public func earliestEventTime(of ids: [String]) async throws(StoreError) -> Timestamp? {
        try await read { db in
            var earliest: Int64? = nil
            for start in stride(from: 0, to: ids.count, by: 500) {
                let chunk = Array(ids[start..<min(start + 500, ids.count)])
                let placeholders = Array(repeating: "?", count: chunk.count).joined(separator: ",")
                if let time = try Int64.fetchOne(
                    db, sql: "SELECT MIN(occurred_at) FROM events WHERE id IN (\(placeholders))", arguments: StatementArguments(chunk))
                {
                    earliest = min(earliest ?? time, time)
                }
            }
            return earliest.map(Timestamp.init(millisecondsSinceEpoch:))
        }
    }

    /// When the most recent stored event occurred, if there is one.
    public func latestEventTime() async throws(StoreError) -> Timestamp? {
        try await read { db in
            try Int64.fetchOne(db, sql: "SELECT MAX(occurred_at) FROM events").map(Timestamp.init(millisecondsSinceEpoch:))
        }
    }

    /// Label versions reported in `(after, through]`, in report order, each with whether its
    /// event already had a version reported at or before `after`.
    public func labelVersions(reportedAfter after: Timestamp, through: Timestamp) async throws(StoreError) -> [(
        label: Label, eventWasLabelled: Bool
    )] {
        try await read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT l.event_id, l.outcome, l.reported_at, l.source,
                           EXISTS (SELECT 1 FROM labels p WHERE p.event_id = l.event_id AND p.reported_at <= ?) AS was_labelled
                    FROM labels l WHERE l.reported_at > ? AND l.reported_at <= ? ORDER BY l.reported_at, l.seq
                    """, arguments: [after.millisecondsSinceEpoch, after.millisecondsSinceEpoch, through.millisecondsSinceEpoch]
            ).map { (try Self.label($0), $0["was_labelled"] as Bool) }
        }
    }

    /// Label versions stored after `seq` (by storage order, whatever their `reported_at`).
    public func labelVersionCount(after seq: Int64) async throws(StoreError) -> Int {
        try await read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM labels WHERE seq > ?", arguments: [seq]) ?? 0 }
    }

    /// Recorded cycles, most recent first.
    public func cycles(limit: Int) async throws(StoreError) -> [RetrainCycleRecord] {
        try await read { db in
            try RetrainCycleRow.order(Column("as_of").desc, Column("id").desc).limit(limit).fetchAll(db).map { try $0.cycle() }
        }
    }

    /// Ends a cycle in one transaction: registers the challenger, promotes it when `promote` is
    /// set and the champion is still `cycle.championId` (otherwise the challenger is rejected:
    /// another cycle or a person changed the champion meanwhile), records the cycle and writes
    /// the audit entries. A crash before the commit leaves no trace of the cycle.
    ///
    /// - Returns: the cycle as recorded, with its final outcome and reason.
    public func finishCycle(
        _ cycle: RetrainCycleRecord, challenger: ModelRegistration, promote: Bool
    ) async throws(StoreError) -> RetrainCycleRecord {
        let now = Self.nowMilliseconds()
        return try await write { db in
            var cycle = cycle
            let currentChampion = try Self.championId(db)
            let existing = try String.fetchOne(db, sql: "SELECT status FROM models WHERE id = ?", arguments: [challenger.id])
            if let status = cycle.settle(existingStatus: existing, currentChampion: currentChampion, promote: promote) {
                if status == .champion { try Self.retireChampion(db, now: now) }
                try Self.insertModel(db, challenger, status: status, reason: cycle.reason, now: now)
                try Self.audit(
                    db, now: now, actor: cycle.actor, action: "model.register", subject: challenger.id, reason: cycle.reason,
                    detail: status.rawValue)
                if status == .champion {
                    try Self.audit(
                        db, now: now, actor: cycle.actor, action: "model.promote", subject: challenger.id, reason: cycle.reason,
                        detail: cycle.championId.map { "over \($0)" })
                }
            }
            cycle.finishedAt = Timestamp(millisecondsSinceEpoch: now)
            cycle.challengerId = challenger.id
            try RetrainCycleRow(cycle).insert(db)
            cycle.id = db.lastInsertedRowID
            try Self.audit(
                db, now: now, actor: cycle.actor, action: "retrain.cycle", subject: challenger.id, reason: cycle.reason,
                detail: cycle.outcome.rawValue)
            return cycle
        }
    }
}
