import Dispatch
import RiskContract
import Synchronization

/// Stored payloads, end to end in one buffer: a batch of rows is copied into a few buffers
/// rather than into a string each (a million allocations and UTF-8 checks on the reading
/// thread, a million frees on the parsing ones; the parser checks UTF-8 itself).
package struct PayloadBatch: Sendable {
    package private(set) var bytes: [UInt8] = []
    /// Where each payload ends in `bytes`.
    package private(set) var ends: [Int] = []

    package var count: Int { ends.count }

    package init() {}

    package mutating func append(_ payload: some Collection<UInt8>) {
        bytes.append(contentsOf: payload)
        ends.append(bytes.count)
    }

    /// Calls `body` with each payload's bytes in turn, stopping at the first error.
    package func forEach<E: Error>(_ body: (UnsafeBufferPointer<UInt8>) throws(E) -> Void) throws(E) {
        try bytes.withUnsafeBufferPointer { (all) throws(E) in
            var start = 0
            for end in ends {
                try body(UnsafeBufferPointer(rebasing: all[start..<end]))
                start = end
            }
        }
    }
}

/// Parses batches of stored payloads on the global queue while the submitting thread goes on
/// (reading the next rows); ``finish()`` waits and returns the events in submission order.
package final class BackgroundParser: Sendable {
    package static let batchSize = 8_192

    package let batchSize: Int
    private let keepingJSON: Bool
    private let group = DispatchGroup()
    private let batches = Mutex<[[ParsedEvent]]>([])
    private let failure = Mutex<String?>(nil)

    package init(keepingJSON: Bool, batchSize: Int = BackgroundParser.batchSize) {
        self.keepingJSON = keepingJSON
        self.batchSize = batchSize
    }

    /// Queues `payloads` for parsing, after every batch submitted before.
    package func submit(_ payloads: PayloadBatch) {
        guard payloads.count > 0 else { return }
        let index = batches.withLock { batches in
            batches.append([])
            return batches.count - 1
        }
        DispatchQueue.global().async(group: group) { [self] in
            var events: [ParsedEvent] = []
            events.reserveCapacity(payloads.count)
            do {
                try payloads.forEach { (payload) throws(ContractError) in
                    events.append(try ParsedEvent(jsonLine: payload, keepingJSON: keepingJSON))
                }
            } catch {
                failure.withLock { $0 = $0 ?? "a stored event no longer parses (\(error)); the database was changed outside RiskLoop" }
                return
            }
            batches.withLock { $0[index] = events }
        }
    }

    /// Waits for every batch; the events in the order their payloads were submitted.
    package func finish() throws(StoreError) -> [ParsedEvent] {
        group.wait()
        if let message = failure.withLock({ $0 }) { throw .database(message: message) }
        return batches.withLock { batches in
            var events: [ParsedEvent] = []
            events.reserveCapacity(batches.reduce(0) { $0 + $1.count })
            for batch in batches { events.append(contentsOf: batch) }
            batches.removeAll()
            return events
        }
    }
}

extension BackgroundParser {
    /// Parses stored payloads on all cores. They were validated when ingested, so a failure
    /// means the file was changed behind the store's back.
    package static func parse(_ payloads: [String], keepingJSON: Bool) throws(StoreError) -> [ParsedEvent] {
        let parser = BackgroundParser(keepingJSON: keepingJSON)
        for start in stride(from: 0, to: payloads.count, by: parser.batchSize) {
            var batch = PayloadBatch()
            for payload in payloads[start..<min(start + parser.batchSize, payloads.count)] { batch.append(payload.utf8) }
            parser.submit(batch)
        }
        return try parser.finish()
    }
}
