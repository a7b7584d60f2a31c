import Foundation
import GRDB
import RiskFeatures

extension Store {
    /// Ingests labels (ARCHITECTURE.md §5.2) from CSV with a header row (`.csv`) or from JSON lines
    /// (any other extension), one transaction per batch.
    ///
    /// Every version is kept; a label identical to a stored one (same event, outcome, time and
    /// source) is a duplicate and skipped, so re-ingesting a file changes nothing. A label for an
    /// event the store does not hold is an error naming its line: the events come first.
    /// Failure semantics are those of ``ingestEvents(fromFile:batchSize:progress:)``.
    public func ingestLabels(
        fromFile path: String, batchSize: Int = defaultBatchSize, progress: ((IngestProgress) -> Void)? = nil
    ) throws(StoreError) -> IngestReport {
        precondition(batchSize > 0, "batch size must be positive")
        var report = IngestReport(file: path)
        var records = try LabelRecords(path: path)
        var bytesDone = 0
        while true {
            var batch: [(line: Int, label: Label)] = []
            while batch.count < batchSize, let record = try records.next(accepted: report) {
                batch.append(record)
            }
            guard !batch.isEmpty else { break }
            bytesDone = records.bytesRead
            try insertLabels(batch, file: path, report: &report)
            progress?(
                IngestProgress(
                    linesDone: report.lastCommittedLine, inserted: report.inserted, duplicates: report.duplicates, bytesDone: bytesDone))
        }
        logger.info(
            "ingested labels", metadata: ["file": "\(path)", "inserted": "\(report.inserted)", "duplicates": "\(report.duplicates)"])
        return report
    }

    func insertLabels(_ batch: [(line: Int, label: Label)], file: String, report: inout IngestReport)
        throws(StoreError)
    {
        var updated = report
        do {
            try writer.write { db in
                let batchId = try Self.openBatch(db, kind: "labels", file: file, firstLine: batch[0].line)
                let eventExists = try db.cachedStatement(sql: "SELECT 1 FROM events WHERE id = ?")
                let insert = try db.cachedStatement(
                    sql: """
                        INSERT INTO labels (event_id, outcome, reported_at, source, batch_id) VALUES (?, ?, ?, ?, ?)
                        ON CONFLICT (event_id, reported_at, outcome, source) DO NOTHING
                        """)
                var inserted = 0, duplicates = 0
                for (line, label) in batch {
                    guard try Bool.fetchOne(eventExists, arguments: [label.eventId]) == true else {
                        throw StoreError.badLine(
                            file: file, line: line, field: "event_id",
                            message: "no event '\(label.eventId)' in the store (ingest events before their labels)",
                            accepted: report)
                    }
                    try insert.execute(arguments: [
                        label.eventId, label.outcome.rawValue, label.reportedAt.millisecondsSinceEpoch, label.source, batchId,
                    ])
                    if db.changesCount == 0 {
                        duplicates += 1
                        updated.noteDuplicate(line: line, id: "\(label.eventId)@\(label.reportedAt.rfc3339)")
                    } else {
                        inserted += 1
                    }
                }
                try Self.closeBatch(db, id: batchId, lastLine: batch[batch.count - 1].line, inserted: inserted, duplicates: duplicates)
                updated.inserted += inserted
            }
        } catch {
            throw StoreError(error)
        }
        updated.batches += 1
        updated.lastCommittedLine = batch[batch.count - 1].line
        report = updated
    }

    /// The label of each event as it was known at `cutoff`: per event, the latest version reported
    /// at or before it. Events without a label by then are absent.
    public func labels(knownAt cutoff: Timestamp) throws(StoreError) -> [String: Label] {
        try read { db in
            let rows = try Row.fetchCursor(
                db,
                sql: """
                    SELECT event_id, outcome, reported_at, source FROM (
                        SELECT *, ROW_NUMBER() OVER (PARTITION BY event_id ORDER BY reported_at DESC, seq DESC) AS version_rank
                        FROM labels WHERE reported_at <= ?)
                    WHERE version_rank = 1
                    """,
                arguments: [cutoff.millisecondsSinceEpoch])
            var labels: [String: Label] = [:]
            while let row = try rows.next() {
                let label = Self.label(row)
                labels[label.eventId] = label
            }
            return labels
        }
    }

    /// Every stored version of the label of one event, oldest first.
    public func labelVersions(eventId: String) throws(StoreError) -> [Label] {
        try read { db in
            try Row.fetchAll(
                db, sql: "SELECT event_id, outcome, reported_at, source FROM labels WHERE event_id = ? ORDER BY reported_at, seq",
                arguments: [eventId]
            ).map(Self.label)
        }
    }

    /// The label of a row whose first four columns are `event_id, outcome, reported_at, source`.
    /// Columns are read by position: a lookup by name per column and row was a measurable part
    /// of reading a million label versions.
    static func label(_ row: Row) -> Label {
        Label(
            eventId: row[0], outcome: Outcome(rawValue: row[1]) ?? .genuine, reportedAt: Timestamp(millisecondsSinceEpoch: row[2]),
            source: row[3])
    }
}

/// Label records from a CSV or JSON-lines file, validated, with their line numbers.
package struct LabelRecords {
    private var lines: LineReader?
    private var csv: CSVReader?
    private var columns: [String: Int] = [:]
    private var columnCount = 0
    private let path: String
    package private(set) var bytesRead = 0

    package init(path: String) throws(StoreError) {
        self.path = path
        if path.lowercased().hasSuffix(".csv") {
            guard let data = FileManager.default.contents(atPath: path) else {
                let reason = FileManager.default.fileExists(atPath: path) ? "permission denied" : "no such file"
                throw .cannotRead(path: path, reason: reason)
            }
            var reader = CSVReader(bytes: Array(data))
            bytesRead = data.count
            do {
                guard let header = try reader.next() else {
                    throw StoreError.badLine(
                        file: path, line: 1, field: nil, message: "empty file: expected a header row", accepted: IngestReport(file: path))
                }
                columnCount = header.fields.count
                for (position, name) in header.fields.enumerated() {
                    columns[name.trimmingCharacters(in: .whitespaces)] = position
                }
                for required in Label.fieldNames where columns[required] == nil {
                    throw StoreError.badLine(
                        file: path, line: header.line, field: required,
                        message: "the header has no column '\(required)' (it needs \(Label.fieldNames.joined(separator: ", ")))",
                        accepted: IngestReport(file: path))
                }
            } catch let error as StoreError {
                throw error
            } catch {
                throw .badLine(file: path, line: 1, field: nil, message: "\(error)", accepted: IngestReport(file: path))
            }
            csv = reader
        } else {
            lines = try LineReader(path: path)
        }
    }

    package mutating func next(accepted: IngestReport) throws(StoreError) -> (line: Int, label: Label)? {
        if var reader = csv {
            defer { csv = reader }
            let record: CSVReader.Record?
            do {
                record = try reader.next()
            } catch {
                let line = if case .malformedCSV(let line, _) = error { line } else { accepted.lastCommittedLine + 1 }
                throw .badLine(file: path, line: line, field: nil, message: error.description, accepted: accepted)
            }
            guard let record else { return nil }
            guard record.fields.count == columnCount else {
                throw .badLine(
                    file: path, line: record.line, field: nil,
                    message: "\(record.fields.count) fields where the header has \(columnCount)", accepted: accepted)
            }
            let columns = self.columns
            do {
                let label = try Label { name in columns[name].map { record.fields[$0] } }
                return (record.line, label)
            } catch {
                throw .badLine(file: path, line: record.line, field: error.field, message: error.reason, accepted: accepted)
            }
        }
        while let line = try lines?.next() {
            bytesRead += line.bytes.count + 1
            if line.bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
            do {
                return (line.number, try Label.decode(jsonLine: line.bytes))
            } catch {
                throw .badLine(file: path, line: line.number, field: error.field, message: error.reason, accepted: accepted)
            }
        }
        return nil
    }
}
