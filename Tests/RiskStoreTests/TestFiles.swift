import Foundation
import RiskStoreTesting
import Testing

/// Event lines written by hand, so the tests do not depend on the encoder under test.
enum Lines {
    static func event(_ id: String, minute: Int = 0, customer: String = "c1", kind: String = "login") -> String {
        let time = "2026-03-01T10:\(minute < 10 ? "0" : "")\(minute):00Z"
        return #"{"id":"\#(id)","occurred_at":"\#(time)","customer_id":"\#(customer)","kind":"\#(kind)","extra":{"kept":true}}"#
    }

    static func events(_ ids: [String]) -> String {
        ids.enumerated().map { event($1, minute: $0 % 60) }.joined(separator: "\n") + "\n"
    }
}

extension Backend: CustomTestStringConvertible {
    public var testDescription: String { rawValue }
}
