import Foundation
import Testing

@testable import RiskContract

/// The contract is read by one reader per type over three sources (bytes, JSON tree, CSV cells):
/// the same document gives the same record or the same error whichever source reads it.
@Suite struct ContractSourceTests {
    static let label = #"{"event_id":"e1","outcome":"fraud","reported_at":"2026-03-04T10:00:00Z","source":"chargeback"}"#

    static func directLabel(_ text: String) -> Label? {
        Array(text.utf8).withUnsafeBufferPointer { bytes in
            ByteSource.decide(bytes) { (source) throws(ContractError) in try Label.read(from: &source) }
        }
    }

    static func treeLabel(_ text: String) -> Result<Label, ContractError> {
        Result { () throws(ContractError) in try Label(json: try JSONValue.parse(Array(text.utf8))) }
    }

    @Test func aLabelLineIsReadFromItsBytesAsTheTreeReadsIt() throws {
        let expected = Label(
            eventId: "e1", outcome: .fraud, reportedAt: try #require(Timestamp(rfc3339: "2026-03-04T10:00:00Z")), source: "chargeback")
        #expect(Self.directLabel(Self.label) == expected)
        #expect(try Self.treeLabel(Self.label).get() == expected)
        #expect(try Label.decode(jsonLine: Array(Self.label.utf8)) == expected)
        // Escaped text is decoded by both.
        let escaped = Self.label.replacingOccurrences(of: "chargeback", with: #"charge\u0062ack"#)
        #expect(Self.directLabel(escaped) == expected)
    }

    @Test(arguments: [
        (
            #"{"event_id":"e1","outcome":"maybe","reported_at":"2026-03-04T10:00:00Z","source":"x"}"#,
            ContractError.invalidValue(field: "outcome", value: "\"maybe\"", reason: "must be one of fraud, genuine")
        ),
        (
            #"{"event_id":"","outcome":"fraud","reported_at":"2026-03-04T10:00:00Z","source":"x"}"#,
            ContractError.invalidValue(field: "event_id", value: "\"\"", reason: "must not be empty")
        ),
        (
            #"{"event_id":"e1","outcome":"fraud","reported_at":"04/03/2026","source":"x"}"#,
            ContractError.invalidValue(field: "reported_at", value: "\"04/03/2026\"", reason: "not an RFC 3339 date-time")
        ),
        (#"{"event_id":"e1","outcome":"fraud","reported_at":"2026-03-04T10:00:00Z"}"#, ContractError.missingField(field: "source")),
        (
            #"{"event_id":"e1","outcome":"fraud","reported_at":"2026-03-04T10:00:00Z","source":null}"#,
            ContractError.wrongType(field: "source", expected: "a value, not null")
        ),
    ])
    func aBadLabelLineIsLeftToTheTreeWhichNamesTheField(text: String, error: ContractError) {
        #expect(Self.directLabel(text) == nil)
        #expect(throws: error) { try Label.decode(jsonLine: Array(text.utf8)) }
    }

    /// A CSV record's text cells meet the rules of the JSON strings, with the same messages.
    @Test func aLabelFromCSVCellsFailsAsTheSameLabelInJSON() throws {
        let cells = ["event_id": "e1", "outcome": "maybe", "reported_at": "2026-03-04T10:00:00Z", "source": "x"]
        let json = #"{"event_id":"e1","outcome":"maybe","reported_at":"2026-03-04T10:00:00Z","source":"x"}"#
        let fromCSV = Result { () throws(ContractError) in try Label { cells[$0] } }
        #expect(throws: try #require(fromCSV.failure)) { try Label.decode(jsonLine: Array(json.utf8)) }
        var long = cells
        long["outcome"] = "fraud"
        long["source"] = String(repeating: "é", count: ContractLimits.maximumFieldCharacters + 1)
        #expect(
            throws: ContractError.invalidValue(field: "source", value: "257 characters", reason: "must be at most 256 characters long")
        ) {
            try Label { long[$0] }
        }
    }

    /// Members are read in the order they are written: of two bad members, the first is named.
    @Test func theFirstBadMemberInTheDocumentIsTheOneNamed() {
        let text = #"{"kind":"bogus","id":"","occurred_at":"2026-03-01T02:14:07Z","customer_id":"c1"}"#
        #expect(
            throws: ContractError.invalidValue(
                field: "kind", value: "\"bogus\"", reason: "must be one of payment, login, payee_added, otp_request, profile_change")
        ) {
            try Event.decode(jsonLine: Array(text.utf8))
        }
        // A missing required member is named once every written member is read.
        let missing = #"{"occurred_at":"2026-03-01T02:14:07Z","customer_id":"c1","kind":"login","amount":-1}"#
        #expect(throws: ContractError.invalidValue(field: "amount", value: "-1.0", reason: "must not be negative")) {
            try Event.decode(jsonLine: Array(missing.utf8))
        }
    }

    /// An object beyond what the byte source checks for repeats goes to the tree, which reads
    /// the same event.
    @Test func anObjectOfManyMembersIsLeftToTheTreeAndReadTheSame() throws {
        let extras = (0..<ByteSource.maximumMembers).map { #""x\#($0)":\#($0)"# }.joined(separator: ",")
        let text = #"{"id":"e1","occurred_at":"2026-03-01T02:14:07Z","customer_id":"c1","kind":"login","# + extras + "}"
        let bytes = Array(text.utf8)
        #expect(bytes.withUnsafeBufferPointer { Event.direct($0) } == nil)
        let event = try Event.decode(jsonLine: bytes)
        #expect(event.id == "e1" && event.kind == .login)
        let fewer = #"{"id":"e1","occurred_at":"2026-03-01T02:14:07Z","customer_id":"c1","kind":"login","x":1}"#
        #expect(Array(fewer.utf8).withUnsafeBufferPointer { Event.direct($0) } == event)
    }
}

extension Result {
    fileprivate var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
