/// What an ingest stored: the counts a user and an auditor need.
public struct IngestReport: Sendable, Codable, Equatable {
    /// Lines per transaction of a file ingest unless the caller says otherwise.
    public static let defaultBatchSize = 10_000

    public struct Duplicate: Sendable, Codable, Equatable {
        public var line: Int
        /// The event id, or for a label `event_id@reported_at`.
        public var id: String

        public init(line: Int, id: String) {
            self.line = line
            self.id = id
        }
    }

    /// The file read, as given.
    public var file: String
    /// Records stored.
    public var inserted: Int = 0
    /// Records skipped because the store already held them (or an earlier line of the same file did).
    public var duplicates: Int = 0
    /// The first ``maximumListedDuplicates`` duplicates, with their lines.
    public var firstDuplicates: [Duplicate] = []
    /// Transactions committed.
    public var batches: Int = 0
    /// The last line of the last committed batch: everything up to it is in the store.
    public var lastCommittedLine: Int = 0

    public static let maximumListedDuplicates = 20

    public init(file: String) {
        self.file = file
    }

    public mutating func noteDuplicate(line: Int, id: String) {
        duplicates += 1
        if firstDuplicates.count < Self.maximumListedDuplicates { firstDuplicates.append(Duplicate(line: line, id: id)) }
    }
}

/// Progress of a long ingest, reported after each committed batch.
public struct IngestProgress: Sendable {
    public var linesDone: Int
    public var inserted: Int
    public var duplicates: Int
    public var bytesDone: Int

    public init(linesDone: Int, inserted: Int, duplicates: Int, bytesDone: Int) {
        self.linesDone = linesDone
        self.inserted = inserted
        self.duplicates = duplicates
        self.bytesDone = bytesDone
    }
}
