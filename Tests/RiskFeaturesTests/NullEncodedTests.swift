import Foundation
import RiskContract
import Testing

@Suite struct NullEncodedTests {
    struct Answer: Codable, Equatable {
        var id: Int
        @NullEncoded var note: String?
    }

    @Test func anEmptyOptionalIsWrittenAsNullAndReadBackFromNullOrAbsence() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        #expect(String(decoding: try encoder.encode(Answer(id: 1, note: nil)), as: UTF8.self) == #"{"id":1,"note":null}"#)
        #expect(String(decoding: try encoder.encode(Answer(id: 1, note: "n")), as: UTF8.self) == #"{"id":1,"note":"n"}"#)
        let decoder = JSONDecoder()
        #expect(try decoder.decode(Answer.self, from: Data(#"{"id":2,"note":null}"#.utf8)) == Answer(id: 2, note: nil))
        #expect(try decoder.decode(Answer.self, from: Data(#"{"id":2}"#.utf8)) == Answer(id: 2, note: nil))
        #expect(try decoder.decode(Answer.self, from: Data(#"{"id":2,"note":"x"}"#.utf8)) == Answer(id: 2, note: "x"))
    }
}
