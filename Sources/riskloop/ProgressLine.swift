import Foundation
import Synchronization

/// A one-line progress report on standard error, redrawn in place; silent unless standard
/// error is a terminal, so logs and pipes stay clean. `Sendable`: the store reports progress
/// from its own threads.
final class ProgressLine: Sendable {
    private let enabled: Bool
    private let started = Date()
    private let lastDraw = Mutex(Date.distantPast)

    init(enabled: Bool = isatty(STDERR_FILENO) == 1) {
        self.enabled = enabled
    }

    /// Redraws at most ten times a second.
    func update(_ text: String) {
        let due = lastDraw.withLock { last in
            guard enabled, Date().timeIntervalSince(last) >= 0.1 else { return false }
            last = Date()
            return true
        }
        if due { FileHandle.standardError.write(Data("\r\u{1B}[K\(text)".utf8)) }
    }

    /// Clears the line.
    func finish() {
        guard enabled else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }

    var elapsedSeconds: Double { Date().timeIntervalSince(started) }
}

extension Int {
    /// `1234567` → `1,234,567`.
    var grouped: String {
        let digits = String(self.magnitude)
        var out = ""
        for (offset, character) in digits.enumerated() {
            if offset > 0, (digits.count - offset) % 3 == 0 { out.append(",") }
            out.append(character)
        }
        return self < 0 ? "-" + out : out
    }
}
