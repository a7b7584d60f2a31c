/// Reads RFC 4180 CSV from bytes, one record at a time, keeping track of line numbers.
///
/// Fields may be quoted (`"a, b"`, with `""` for a quote inside), quoted fields may span lines,
/// and records end in LF or CRLF. Each record reports the line it starts on, so errors can name it.
///
/// ```swift
/// var reader = CSVReader(bytes: Array("a,b\n1,\"x, y\"\n".utf8))
/// while let record = try reader.next() { print(record.line, record.fields) }
/// ```
public struct CSVReader: Sendable {
    /// One record and the 1-based line it starts on.
    public struct Record: Sendable, Equatable {
        public var line: Int
        public var fields: [String]
    }

    private let bytes: [UInt8]
    private var position = 0
    private var line = 1

    public init(bytes: [UInt8]) {
        // A UTF-8 byte-order mark, as spreadsheet programs write, is not part of the first field.
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) {
            self.bytes = Array(bytes.dropFirst(3))
        } else {
            self.bytes = bytes
        }
    }

    /// The next record, or `nil` at the end; blank lines are skipped.
    ///
    /// - Throws: ``ContractError/malformedCSV(line:reason:)`` naming the line of a quote that is
    ///   never closed or of stray characters after a closing quote.
    public mutating func next() throws(ContractError) -> Record? {
        let quote = UInt8(ascii: "\""), comma = UInt8(ascii: ","), newline = UInt8(ascii: "\n"),
            carriageReturn = UInt8(ascii: "\r")
        while position < bytes.count, bytes[position] == newline || bytes[position] == carriageReturn {
            if bytes[position] == newline { line += 1 }
            position += 1
        }
        guard position < bytes.count else { return nil }
        let startLine = line
        var fields: [String] = []
        var field: [UInt8] = []
        while true {
            if position < bytes.count, bytes[position] == quote {
                position += 1
                let quoteLine = line
                while true {
                    guard position < bytes.count else {
                        throw .malformedCSV(line: quoteLine, reason: "a quoted field is never closed")
                    }
                    let byte = bytes[position]
                    position += 1
                    if byte == quote {
                        if position < bytes.count, bytes[position] == quote {
                            field.append(quote)
                            position += 1
                        } else {
                            break
                        }
                    } else {
                        if byte == newline { line += 1 }
                        field.append(byte)
                    }
                }
                if position < bytes.count, ![comma, newline, carriageReturn].contains(bytes[position]) {
                    throw .malformedCSV(line: line, reason: "characters after a closing quote")
                }
            } else {
                while position < bytes.count, ![comma, newline, carriageReturn].contains(bytes[position]) {
                    field.append(bytes[position])
                    position += 1
                }
            }
            fields.append(String(decoding: field, as: UTF8.self))
            field.removeAll(keepingCapacity: true)
            guard position < bytes.count, bytes[position] == comma else { break }
            position += 1
        }
        if position < bytes.count, bytes[position] == carriageReturn { position += 1 }
        if position < bytes.count, bytes[position] == newline {
            position += 1
            line += 1
        }
        return Record(line: startLine, fields: fields)
    }

    /// Quotes a field for writing when it holds a comma, a quote or a line break.
    public static func escape(_ field: String) -> String {
        guard field.utf8.contains(where: { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == 10 || $0 == 13 })
        else { return field }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
