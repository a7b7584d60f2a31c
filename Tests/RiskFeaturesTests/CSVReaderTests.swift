import Foundation
import RiskFeatures
import Testing

@testable import RiskContract

@Suite struct CSVReaderTests {
    static func records(_ text: String) throws -> [CSVReader.Record] {
        var reader = CSVReader(bytes: Array(text.utf8))
        var records: [CSVReader.Record] = []
        while let record = try reader.next() { records.append(record) }
        return records
    }

    @Test func readsQuotedFieldsAndTracksLines() throws {
        let records = try Self.records("a,b,c\r\n1,\"x, \"\"y\"\"\",3\n\n2,\"multi\nline\",\n4,,\"\"\n")
        #expect(
            records == [
                .init(line: 1, fields: ["a", "b", "c"]),
                .init(line: 2, fields: ["1", "x, \"y\"", "3"]),
                .init(line: 4, fields: ["2", "multi\nline", ""]),
                .init(line: 6, fields: ["4", "", ""]),
            ])
    }

    @Test func skipsAByteOrderMarkAndReadsALastLineWithoutNewline() throws {
        let records = try Self.records("\u{FEFF}event_id,outcome\ne1,fraud")
        #expect(records.map(\.fields) == [["event_id", "outcome"], ["e1", "fraud"]])
    }

    @Test func namesTheLineOfAnUnclosedQuote() {
        #expect(throws: ContractError.malformedCSV(line: 3, reason: "a quoted field is never closed")) {
            try Self.records("a,b\n1,2\n3,\"open\n4,5\n")
        }
        #expect(throws: ContractError.malformedCSV(line: 2, reason: "characters after a closing quote")) {
            try Self.records("a,b\n\"x\"y,2\n")
        }
    }

    @Test func escapesOnlyWhenNeeded() {
        #expect(CSVReader.escape("plain") == "plain")
        #expect(CSVReader.escape("a,b") == "\"a,b\"")
        #expect(CSVReader.escape("say \"hi\"") == "\"say \"\"hi\"\"\"")
    }
}

@Suite struct LabelParsingTests {
    static func label(_ fields: [String: String]) throws(ContractError) -> Label {
        try Label { fields[$0] }
    }

    @Test func buildsALabelFromFields() throws {
        let label = try Self.label(["event_id": "e1", "outcome": "fraud", "reported_at": "2026-03-04T10:00:00Z", "source": "chargeback"])
        #expect(
            label
                == Label(
                    eventId: "e1", outcome: .fraud, reportedAt: Timestamp(year: 2026, month: 3, day: 4, hour: 10)!, source: "chargeback"))
        #expect(label.csvFields == ["e1", "fraud", "2026-03-04T10:00:00Z", "chargeback"])
    }

    @Test func namesTheBadColumn() {
        let good = ["event_id": "e1", "outcome": "fraud", "reported_at": "2026-03-04T10:00:00Z", "source": "analyst"]
        var missing = good
        missing.removeValue(forKey: "source")
        #expect(throws: ContractError.missingField(field: "source")) { try Self.label(missing) }
        var badOutcome = good
        badOutcome["outcome"] = "maybe"
        #expect(throws: ContractError.invalidValue(field: "outcome", value: "\"maybe\"", reason: "must be one of fraud, genuine")) {
            try Self.label(badOutcome)
        }
        var badTime = good
        badTime["reported_at"] = "04/03/2026"
        #expect(throws: ContractError.invalidValue(field: "reported_at", value: "\"04/03/2026\"", reason: "not an RFC 3339 date-time")) {
            try Self.label(badTime)
        }
        var empty = good
        empty["event_id"] = ""
        #expect(throws: ContractError.invalidValue(field: "event_id", value: "\"\"", reason: "must not be empty")) {
            try Self.label(empty)
        }
    }
}

@Suite struct MatrixTests {
    @Test func rowsGathersInTheGivenOrderAndKeepsAWholeMatrix() {
        let matrix = Matrix(rows: 3, columns: 2, values: [1, 2, 3, 4, 5, 6])
        #expect(matrix.rows([2, 0]) == Matrix(rows: 2, columns: 2, values: [5, 6, 1, 2]))
        #expect(matrix.rows(1..<2) == Matrix(rows: 1, columns: 2, values: [3, 4]))
        #expect(matrix.rows([Int]()) == Matrix(rows: 0, columns: 2, values: []))
        #expect(matrix.rows(0..<3) == matrix)
        #expect(Matrix(rows: 3, columns: 0, values: []).rows([1, 2]) == Matrix(rows: 2, columns: 0, values: []))
    }

    @Test func aLargeGatherCopiedInChunksKeepsEveryRowInPlace() {
        // 50,000 rows: the copy is split into chunks; element (i, j) is i·10 + j.
        let rows = 50_000, columns = 7
        let matrix = Matrix(rows: rows, columns: columns, values: (0..<(rows * columns)).map { Double($0 / columns * 10 + $0 % columns) })
        let picked = (0..<rows).filter { $0 % 3 != 1 }.reversed().map { $0 }
        let gathered = matrix.rows(picked)
        #expect(gathered.rows == picked.count && gathered.columns == columns)
        let misplaced = picked.indices.filter { position in
            (0..<columns).contains { gathered[position, $0] != Double(picked[position] * 10 + $0) }
        }
        #expect(misplaced.isEmpty, "rows out of place: \(misplaced.prefix(5))")
    }
}

@Suite struct LargeBufferTests {
    /// A buffer past the threshold is advised to the kernel (smaps marks its mapping `hg`) and
    /// holds exactly what the initializer wrote; a small one is left alone.
    @Test func largeArraysAskForHugePagesAndKeepTheirValues() throws {
        let count = LargeBuffer.adviceThresholdBytes / MemoryLayout<Double>.stride + 1_000
        let values: [Double] = LargeBuffer.array(count: count) { buffer in
            for index in buffer.indices { buffer[index] = Double(index % 977) }
        }
        #expect(values.count == count)
        #expect(values.indices.allSatisfy { values[$0] == Double($0 % 977) })
        #if os(Linux)
            let address = values.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress!) }
            let small: [Double] = LargeBuffer.array(count: 1_000) { $0.initialize(repeating: 1) }
            #expect(small == Array(repeating: 1, count: 1_000))
            // Each mapping of /proc/self/smaps starts with "start-end perms ..." and ends with VmFlags.
            // Read to the end: procfs reports a size of 0, so a read by size would stop early.
            let smaps = String(
                decoding: try FileHandle(forReadingFrom: URL(filePath: "/proc/self/smaps")).readToEnd() ?? Data(), as: UTF8.self)
            var inside = false
            var flags: [String]? = nil
            for line in smaps.split(separator: "\n") {
                if let range = line.split(separator: " ").first, range.contains("-"), !line.hasSuffix(":"),
                    let dash = range.firstIndex(of: "-"), let start = UInt(range[..<dash], radix: 16),
                    let end = UInt(range[range.index(after: dash)...], radix: 16)
                {
                    inside = (start..<end).contains(address + UInt(count / 2 * 8))
                } else if inside, line.hasPrefix("VmFlags:") {
                    flags = line.dropFirst("VmFlags:".count).split(separator: " ").map(String.init)
                    break
                }
            }
            #expect(flags?.contains("hg") == true, "VmFlags of the buffer's mapping: \(flags ?? [])")
        #endif
    }
}
