import Foundation
import PostgresNIO
import RiskContract
import RiskStore
import Synchronization

/// The ranges of `occurred_at` (milliseconds) this process knows to have their partitions: the
/// months it has seen, and the two fixed ranges before 2000 and from 2100. A write whose events
/// all fall in them needs no partition check.
final class PartitionMonths: Sendable {
    private let months = Mutex<[Range<Int64>]>([])

    /// The partition ranges of `times` not seen yet, each once.
    func unseen(_ times: some Sequence<Int64>) -> [Range<Int64>] {
        let seen = months.withLock { $0 }
        var fresh: [Range<Int64>] = []
        for time in times where !seen.contains(where: { $0.contains(time) }) && !fresh.contains(where: { $0.contains(time) }) {
            fresh.append(PostgresSchema.partitionRange(containing: time))
        }
        return fresh
    }

    func remember(_ fresh: [Range<Int64>]) {
        months.withLock { $0 += fresh }
    }

    /// Forgets every month (another process may have dropped some).
    func forgetAll() {
        months.withLock { $0.removeAll() }
    }

    /// Forgets `month` (its partitions were dropped).
    func forget(_ month: Range<Int64>) {
        months.withLock { $0.removeAll { $0 == month } }
    }
}

extension PostgresSchema {
    private static let utc: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar
    }()

    /// The calendar month (UTC) holding `time`, in milliseconds since the epoch.
    static func month(containing time: Int64) -> Range<Int64> {
        let interval = utc.dateInterval(of: .month, for: Date(timeIntervalSince1970: Double(time) / 1000))!
        return Int64((interval.start.timeIntervalSince1970 * 1000).rounded())..<Int64((interval.end.timeIntervalSince1970 * 1000).rounded())
    }

    /// The month a partition's name (`events_2026_01`) stands for.
    static func month(ofPartition name: String) -> Range<Int64>? {
        let parts = name.split(separator: "_")
        guard parts.count == 3, let year = Int(parts[1]), let month = Int(parts[2]),
            let start = Timestamp(year: year, month: month, day: 1)
        else { return nil }
        return Self.month(containing: start.millisecondsSinceEpoch)
    }

    /// The range of the partition holding `time`: its month from 2000 to 2100, else the fixed
    /// range before or after (so absurd dates never make the ranges a process remembers grow).
    static func partitionRange(containing time: Int64) -> Range<Int64> {
        if time < partitionedFrom { return Int64.min..<partitionedFrom }
        if time >= partitionedUntil { return partitionedUntil..<Int64.max }
        return month(containing: time)
    }
}

extension PostgresStore {
    /// Creates the partitions of the months of `times` that lack them, before the write that
    /// needs them, each in a transaction of its own: a write that fails still leaves the month its
    /// partitions, and a transaction never holds locks on both parents (attaching one locks its
    /// parent only against other schema changes; see `riskloop_month_partition`).
    ///
    /// - Returns: whether it made any (a partition was missing).
    @discardableResult
    func ensurePartitions(_ times: some Sequence<Int64>) async throws(StoreError) -> Bool {
        let fresh = partitionMonths.unseen(times)
        var made = false
        for month in fresh where month.lowerBound != Int64.min && month.upperBound != Int64.max {
            for parent in ["events", "decisions"] {
                made =
                    try await transaction { connection in
                        let rows = try await connection.query(
                            "SELECT riskloop_month_partition(\(parent), \(month.lowerBound))", logger: self.logger)
                        for try await created in rows.decode(Bool.self) { return created }
                        return false
                    } || made
            }
        }
        partitionMonths.remember(fresh)
        return made
    }

    /// Runs `write` (a transaction writing events of `times`) once their months have partitions.
    /// A write that fails because a month's partition is gone (another process's retention
    /// dropped it since this one saw it) is tried again once, when checking the months afresh
    /// finds one missing; any other failure is thrown as it came.
    func withPartitions<T>(_ times: [Int64], _ write: () async throws(StoreError) -> T) async throws(StoreError) -> T {
        try await ensurePartitions(times)
        do {
            return try await write()
        } catch .database(let message) {
            partitionMonths.forgetAll()
            guard try await ensurePartitions(times) else { throw .database(message: message) }
            return try await write()
        }
    }

    /// The months with partitions of both events and decisions, oldest first, by suffix (`2026_01`).
    func partitions() async throws(StoreError) -> [(suffix: String, month: Range<Int64>)] {
        let names = try decodeAll(
            try await rows(
                """
                SELECT c.relname::TEXT FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                WHERE i.inhparent IN ('events'::regclass, 'decisions'::regclass) ORDER BY c.relname
                """), as: String.self)
        let events = Set(names.filter { $0.hasPrefix("events_") }.map { $0.dropFirst("events_".count) })
        return names.filter { $0.hasPrefix("decisions_") }.map { $0.dropFirst("decisions_".count) }.filter(events.contains).compactMap {
            suffix in PostgresSchema.month(ofPartition: "events_\(suffix)").map { (String(suffix), $0) }
        }
    }

    /// How long a month's drop waits for the locks on the parent tables before giving up.
    static let dropLockTimeoutMilliseconds = 500

    /// Removes the oldest month that ends at or before `cutoff` and overlaps no kept window by
    /// dropping its partitions (events, decisions), with its label versions and event ids, in one
    /// transaction; `nil` when no month qualifies.
    func dropOldestMonth(before cutoff: Timestamp, keeping: [PruneReport.KeptWindow]) async throws(StoreError) -> PruneReport.Removed? {
        // A month with an open review case keeps its partitions: the batches remove the rest of it.
        let openCases = try decodeAll(
            try await rows("SELECT occurred_at FROM cases WHERE status = 'open' AND occurred_at < \(cutoff.millisecondsSinceEpoch)"),
            as: Int64.self)
        let candidates = try await partitions().filter { partition in
            !openCases.contains(where: partition.month.contains)
                && partition.month.upperBound <= cutoff.millisecondsSinceEpoch
                && !keeping.contains {
                    $0.from.millisecondsSinceEpoch < partition.month.upperBound && partition.month.lowerBound < $0.to.millisecondsSinceEpoch
                }
        }
        guard let oldest = candidates.first else { return nil }
        let events = "events_\(oldest.suffix)", decisions = "decisions_\(oldest.suffix)"
        let removed = try await transaction { connection in
            // Dropping a partition locks its parent against everything; rather than wait behind a
            // long read (and hold up what queues behind it), give up soon and leave the month to
            // the batches.
            try await connection.query(
                PostgresQuery(unsafeSQL: "SET LOCAL lock_timeout = '\(Self.dropLockTimeoutMilliseconds)ms'"), logger: self.logger)
            func count(_ sql: String) async throws -> Int {
                for try await value in try await connection.query(PostgresQuery(unsafeSQL: sql), logger: self.logger).decode(Int64.self) {
                    return Int(value)
                }
                return 0
            }
            // The ids first: a write that locked one (as a foreign key would) finishes before this
            // goes on, and the statements below see what it wrote.
            try await connection.query(
                "DELETE FROM event_ids WHERE occurred_at >= \(oldest.month.lowerBound) AND occurred_at < \(oldest.month.upperBound)",
                logger: self.logger)
            // Resolved cases go with their events; one opened since the check above makes this
            // month's drop fail, and the batches keep it.
            let openedSince = try await count(
                """
                WITH gone AS (
                    DELETE FROM cases WHERE occurred_at >= \(oldest.month.lowerBound) AND occurred_at < \(oldest.month.upperBound)
                    RETURNING status
                ) SELECT COUNT(*) FROM gone WHERE status = 'open'
                """)
            if openedSince > 0 { throw StoreError.conflict(reason: "a review case was opened in \(events) during its drop") }
            let eventCount = try await count("SELECT COUNT(*) FROM \(events)")
            let decisionCount = try await count("SELECT COUNT(*) FROM \(decisions)")
            let labelCount = try await count(
                "WITH gone AS (DELETE FROM labels WHERE event_id IN (SELECT id FROM \(events)) RETURNING 1) SELECT COUNT(*) FROM gone")
            try await connection.query(PostgresQuery(unsafeSQL: "DROP TABLE \(decisions)"), logger: self.logger)
            try await connection.query(PostgresQuery(unsafeSQL: "DROP TABLE \(events)"), logger: self.logger)
            return PruneReport.Removed(events: eventCount, decisions: decisionCount, labelVersions: labelCount, partitions: 1)
        }
        partitionMonths.forget(oldest.month)
        return removed
    }
}
