import RiskFeatures
import Testing

@testable import RiskContract
@testable import RiskSimulator

/// The direct reader (``Event/direct(_:)``) against the JSON tree and `Event(json:)`: whenever it
/// decides a document, it must give what the tree gives; whenever the tree refuses one, it must
/// leave it to the tree.
@Suite struct EventBytesTests {
    static let simulated: [Event] = {
        var configuration = SimulationConfiguration(customers: 150, days: 14, seed: 11, fraudRate: 0.05)
        configuration.driftAt = configuration.midpoint
        return try! Simulation(configuration).events
    }()

    static func direct(_ text: some Collection<UInt8>) -> Event? {
        Array(text).withUnsafeBufferPointer { Event.direct($0) }
    }

    static func tree(_ bytes: some Collection<UInt8>) -> Result<Event, ContractError> {
        Result { () throws(ContractError) in try Event(json: try JSONValue.parse(bytes)) }
    }

    /// The reader's contract on one document: it decides only what the tree accepts, and then
    /// gives the tree's event.
    static func expectAgreement(_ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) {
        let direct = direct(bytes)
        switch tree(bytes) {
        case .success(let event):
            if let direct { #expect(direct == event, "\(String(decoding: bytes, as: UTF8.self))", sourceLocation: sourceLocation) }
        case .failure(let error):
            #expect(
                direct == nil, "decided \(String(decoding: bytes, as: UTF8.self)) which the tree refuses: \(error)",
                sourceLocation: sourceLocation)
        }
    }

    @Test func decidesEverySimulatedEventAsTheSimulatorMadeIt() throws {
        #expect(Self.simulated.count > 1_000)
        #expect(Self.simulated.contains { $0.telco?.simSwap?.latestChange != nil })
        #expect(Self.simulated.contains { $0.telco?.roaming?.countryCodes?.isEmpty == false })
        for event in Self.simulated {
            let line = JSONLine.encode(event)
            let direct = try #require(Self.direct(line), "left to the tree: \(String(decoding: line, as: UTF8.self))")
            #expect(direct == event)
            #expect(try Event.decode(jsonLine: line) == event)
        }
    }

    static let minimal = #"{"id":"e1","occurred_at":"2026-03-01T02:14:07Z","customer_id":"c1","kind":"login""#

    /// Members added to a minimal event, each a case the reader must get right or leave alone.
    @Test(arguments: [
        // Decided: every optional member null or empty, which reads as unknown.
        #","amount":null,"currency":null,"channel":null,"payee":null,"device":null,"ip":null,"otp":null,"telco":null"#,
        #","payee":{},"device":{},"ip":{},"otp":{},"telco":{}"#,
        #","telco":{"call_forwarding":[],"roaming":{"country_codes":[]},"reachability":{"connectivity":null}}"#,
        #","telco":{"sim_swap":{"latest_change":null},"device_swap":{"latest_change":"2026-02-01T10:00:00.250+01:00"}}"#,
        #","amount":-0,"currency":"EUR","otp":{"channel":"none"},"ss7":{"foreign_location_updates_24h":3}"#,
        #","telco":{"ss7":{"foreign_location_updates_24h":3.0,"sri_for_sm_requests_24h":1e2}}"#,
        #" , "amount" : 12.5e1 , "payee" : { "id" : "p\u00e9\n" , "new" : true } "#,
        #","merchant":{"mcc":"6012","tags":[1,{"a":[null,true,"\ud83d\ude00"]}]},"extra":"caf\u00e9 ☕"}"#,
        // Left to the tree, which decides them (last member wins; escapes in names).
        #","kind":"payment""#,
        #","payee":{"new":true,"new":false}"#,
        #","\u0061mount":5"#,
        #","ünknown":5"#,
        #","telco":{"sim_swap":{"latest_change":null,"latest_change":"2026-02-01T10:00:00Z"}}"#,
        // Refused by the tree: wrong types, values out of the vocabulary or range, bad JSON.
        #","amount":"12""#, #","amount":-1"#, #","currency":"gbp""#, #","channel":"fax""#,
        #","payee":[]"#, #","payee":{"new":"yes"}"#, #","ip":{"country":"GBR"}"#,
        #","telco":{"sim_swap":{}}"#, #","telco":{"sim_swap":{"latest_change":"yesterday"}}"#,
        #","telco":{"call_forwarding":["sometimes"]}"#, #","telco":{"call_forwarding":"unconditional"}"#,
        #","telco":{"roaming":{"country_codes":[null]}}"#, #","telco":{"ss7":{"sri_for_sm_requests_24h":1.5}}"#,
        #","telco":{"ss7":{"sri_for_sm_requests_24h":-2}}"#, #","telco":{"ss7":{"sri_for_sm_requests_24h":1e15}}"#,
        #","extra":[1,2,]"#, #","extra":"\x""#, #","extra":01"#, #","extra":nul"#, #","id":"""#,
        #"} trailing"#,
    ])
    func agreesWithTheTree(members: String) {
        let text = Self.minimal + members + "}"
        Self.expectAgreement(Array(text.utf8))
    }

    /// A repeated name (in the contract or outside it, at any depth) is left to the tree, which
    /// refuses it naming the member; round 1 kept the last.
    @Test(arguments: [
        #","kind":"payment"}"#, #","merchant":1,"merchant":2}"#, #","device":{"os":"a","os":"b"}}"#,
        #","extra":{"a":1,"a":2}}"#,
    ])
    func refusesRepeatedNamesByName(tail: String) throws {
        let repeated = Array((Self.minimal + tail).utf8)
        #expect(Self.direct(repeated) == nil)
        #expect(throws: ContractError.self) { try Event.decode(jsonLine: repeated) }
        #expect(throws: ContractError.self) { try JSONValue.parse(repeated) }
        do {
            _ = try Event.decode(jsonLine: repeated)
        } catch {
            #expect(error.description.contains("appears twice"))
        }
    }

    @Test func limitsTheLengthOfStrings() throws {
        // Characters, not bytes: 256 two-byte characters pass (by the tree), 257 do not.
        let accented = String(repeating: "é", count: ContractLimits.maximumFieldCharacters)
        let fits = Array(#"{"id":"\#(accented)","occurred_at":"2026-03-01T10:00:00Z","customer_id":"c","kind":"login"}"#.utf8)
        #expect(try Event.decode(jsonLine: fits).id == accented)
        let id = Array(#"{"id":"\#(accented)é","occurred_at":"2026-03-01T10:00:00Z","customer_id":"c","kind":"login"}"#.utf8)
        #expect(Self.direct(id) == nil)
        #expect(
            throws: ContractError.invalidValue(field: "id", value: "257 characters", reason: "must be at most 256 characters long")
        ) {
            try Event.decode(jsonLine: id)
        }
        let exactly = String(repeating: "x", count: ContractLimits.maximumFieldCharacters)
        #expect(try Event.decode(jsonLine: Array((Self.minimal + #","device":{"id":"\#(exactly)"}}"#).utf8)).device?.id == exactly)
        let outside = Array((Self.minimal + #","note":"\#(String(repeating: "y", count: ContractLimits.maximumStringBytes + 1))"}"#).utf8)
        #expect(throws: ContractError.self) { try Event.decode(jsonLine: outside) }
        let label = Array(#"{"event_id":"e","outcome":"fraud","reported_at":"2026-03-01T10:00:00Z","source":"\#(exactly)x"}"#.utf8)
        #expect(throws: ContractError.self) { try Label.decode(jsonLine: label) }
    }

    @Test func leavesEscapedNamesToTheTree() throws {
        let escaped = Array((Self.minimal + #","\u0061mount":5}"#).utf8)
        #expect(Self.direct(escaped) == nil)
        #expect(try Event.decode(jsonLine: escaped).amount == 5)
    }

    @Test func refusesWhatTheTreeRefusesOnInvalidUTF8AndDeepNesting() {
        var invalid = Array((Self.minimal + #","extra":"x"#).utf8)
        invalid += [0xC3, 0x28] + Array("\"}".utf8)
        Self.expectAgreement(invalid)
        #expect(Self.direct(invalid) == nil)
        let deep = Self.minimal + #","extra":"# + String(repeating: "[", count: 200) + String(repeating: "]", count: 200) + "}"
        #expect(Self.direct(Array(deep.utf8)) == nil)
        let shallow = Self.minimal + #","extra":"# + String(repeating: "[", count: 100) + String(repeating: "]", count: 100) + "}"
        #expect(Self.direct(Array(shallow.utf8)) != nil)
    }

    /// Simulated lines with bytes replaced, dropped or repeated at random (seeded): thousands of
    /// nearly valid documents, each checked against the tree.
    @Test func agreesWithTheTreeOnMutatedLines() {
        var random = SeededGenerator(seed: 42)
        let significant = Array(#"{}[]":,\ -.0159eEtfnul"#.utf8) + [0x00, 0x1F, 0x7F, 0xC3, 0xFF]
        var decided = 0
        var refused = 0
        for event in Self.simulated.prefix(400) {
            let line = JSONLine.encode(event)
            for _ in 0..<12 {
                var mutated = line
                for _ in 0...Int(random.next() % 2) {
                    let position = Int(random.next() % UInt64(mutated.count))
                    switch random.next() % 3 {
                    case 0: mutated[position] = significant[Int(random.next() % UInt64(significant.count))]
                    case 1: mutated.remove(at: position)
                    default:
                        let end = min(mutated.count, position + 1 + Int(random.next() % 24))
                        mutated.insert(contentsOf: mutated[position..<end], at: end)
                    }
                }
                Self.expectAgreement(mutated)
                if Self.direct(mutated) != nil { decided += 1 }
                if case .failure = Self.tree(mutated) { refused += 1 }
            }
        }
        // Both outcomes occur often enough for the check to mean something.
        #expect(decided > 500)
        #expect(refused > 500)
    }
}
