import Foundation

/// Reads a file line by line in large chunks, numbering lines from 1.
///
/// Lines end in LF; a CR before it is dropped. The last line need not end in LF.
package struct LineReader {
    package struct Line: Sendable {
        package var number: Int
        package var bytes: ArraySlice<UInt8>
    }

    private let handle: FileHandle
    private let path: String
    private var buffer: [UInt8] = []
    private var start = 0
    private var lineNumber = 0
    private var atEnd = false
    private static let chunkSize = 4 << 20

    package init(path: String) throws(StoreError) {
        self.path = path
        guard let handle = FileHandle(forReadingAtPath: path) else {
            let reason = FileManager.default.fileExists(atPath: path) ? "permission denied" : "no such file"
            throw .cannotRead(path: path, reason: reason)
        }
        self.handle = handle
    }

    /// The next line (possibly empty), or `nil` at the end of the file.
    package mutating func next() throws(StoreError) -> Line? {
        while true {
            if let newline = buffer[start...].firstIndex(of: UInt8(ascii: "\n")) {
                var end = newline
                if end > start, buffer[end - 1] == UInt8(ascii: "\r") { end -= 1 }
                let line = Line(number: lineNumber + 1, bytes: buffer[start..<end])
                lineNumber += 1
                start = newline + 1
                return line
            }
            if atEnd {
                guard start < buffer.count else { return nil }
                var end = buffer.count
                if buffer[end - 1] == UInt8(ascii: "\r") { end -= 1 }
                let line = Line(number: lineNumber + 1, bytes: buffer[start..<end])
                lineNumber += 1
                start = buffer.count
                return line
            }
            let chunk: Data?
            do {
                chunk = try handle.read(upToCount: Self.chunkSize)
            } catch {
                throw .cannotRead(path: path, reason: "\(error)")
            }
            // A fresh buffer with the unfinished line carried over: lines handed out earlier keep
            // the old storage alive, so shifting it in place would copy all of it.
            var next = [UInt8]()
            next.reserveCapacity(buffer.count - start + (chunk?.count ?? 0))
            next.append(contentsOf: buffer[start...])
            if let chunk, !chunk.isEmpty {
                next.append(contentsOf: chunk)
            } else {
                atEnd = true
            }
            buffer = next
            start = 0
        }
    }

    package func close() { try? handle.close() }
}
