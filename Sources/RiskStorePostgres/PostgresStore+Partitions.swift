import Foundation
import PostgresNIO
import RiskContract
import RiskStore
import Synchronization

/// The months (UTC, as `[start, end)` in milliseconds) this process has seen given their
/// partitions, or sent to the default partitions: a write whose events all fall in them needs no
/// partition check.
final class PartitionMonths: Sendable {
    private let months = Mutex<[Range<Int64>]>([])

    /// The months of `times` not seen yet, each once.
    func unseen(_ times: some Sequence<Int64>) -> [Range<Int64>] {
        let seen = months.withLock { $0 }
        var fresh: [Range<Int64>] = []
        for time in times where !seen.contains(where: { $0.contains(time) }) && !fresh.contains(where: { $0.contains(time) }) {
            fresh.append(PostgresSchema.month(containing: time))
        }
        return fresh
    }

    func remember(_ fresh: [Range<Int64>]) {
        months.withLock { $0 += fresh }
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

    /// The months that get partitions of their own as of `now`.
    static func partitionedMonths(now: Date) -> Range<Int64> {
        let back = utc.date(byAdding: .year, value: -partitionYearsBack, to: now)!
        let ahead = utc.date(byAdding: .year, value: partitionYearsAhead, to: now)!
        return Int64(back.timeIntervalSince1970 * 1000)..<Int64(ahead.timeIntervalSince1970 * 1000)
    }
}

extension PostgresStore {
    /// Creates the partitions of the months of `times` that lack them, in a transaction of its
    /// own before the write that needs them: a write that fails then still leaves the month its
    /// partitions, and the lock on the parent tables is held only as long as the creation.
    func ensurePartitions(_ times: some Sequence<Int64>) async throws(StoreError) {
        let fresh = partitionMonths.unseen(times)
        guard !fresh.isEmpty else { return }
        let window = PostgresSchema.partitionedMonths(now: Date())
        let created = fresh.filter { window.contains($0.lowerBound) }
        if !created.isEmpty {
            try await transaction { connection in
                for month in created {
                    try await connection.query("SELECT riskloop_month_partitions(\(month.lowerBound))", logger: self.logger)
                }
            }
        }
        partitionMonths.remember(fresh)
    }

    /// The months whose partitions exist, oldest first.
    func partitions() async throws(StoreError) -> [(name: String, month: Range<Int64>)] {
        let names = try decodeAll(
            try await rows(
                """
                SELECT c.relname::TEXT FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                WHERE i.inhparent = 'events'::regclass AND c.relname <> 'events_default' ORDER BY c.relname
                """), as: String.self)
        return names.compactMap { name in PostgresSchema.month(ofPartition: name).map { (name, $0) } }
    }

    /// Removes the oldest month that ends at or before `cutoff` and overlaps no kept window by
    /// dropping its partitions (events, decisions), with its label versions and event ids, in one
    /// transaction; `nil` when no month qualifies.
    func dropOldestMonth(before cutoff: Timestamp, keeping: [PruneReport.KeptWindow]) async throws(StoreError) -> PruneReport.Removed? {
        let candidates = try await partitions().filter { partition in
            partition.month.upperBound <= cutoff.millisecondsSinceEpoch
                && !keeping.contains {
                    $0.from.millisecondsSinceEpoch < partition.month.upperBound && partition.month.lowerBound < $0.to.millisecondsSinceEpoch
                }
        }
        guard let oldest = candidates.first else { return nil }
        let suffix = oldest.name.dropFirst("events_".count)
        let events = "events_\(suffix)", decisions = "decisions_\(suffix)"
        let removed = try await transaction { connection in
            func count(_ sql: String) async throws -> Int {
                for try await value in try await connection.query(PostgresQuery(unsafeSQL: sql), logger: self.logger).decode(Int64.self) {
                    return Int(value)
                }
                return 0
            }
            let eventCount = try await count("SELECT COUNT(*) FROM \(events)")
            let decisionCount = try await count("SELECT COUNT(*) FROM \(decisions)")
            let labelCount = try await count(
                "WITH gone AS (DELETE FROM labels WHERE event_id IN (SELECT id FROM \(events)) RETURNING 1) SELECT COUNT(*) FROM gone")
            try await connection.query(PostgresQuery(unsafeSQL: "DROP TABLE \(decisions)"), logger: self.logger)
            try await connection.query(PostgresQuery(unsafeSQL: "DROP TABLE \(events)"), logger: self.logger)
            try await connection.query(
                "DELETE FROM event_ids WHERE occurred_at >= \(oldest.month.lowerBound) AND occurred_at < \(oldest.month.upperBound)",
                logger: self.logger)
            return PruneReport.Removed(events: eventCount, decisions: decisionCount, labelVersions: labelCount, partitions: 1)
        }
        partitionMonths.forget(oldest.month)
        return removed
    }
}
