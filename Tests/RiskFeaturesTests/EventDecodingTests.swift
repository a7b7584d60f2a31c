import RiskFeatures
import Testing

@testable import RiskContract

@Suite struct EventDecodingTests {
    static let minimal = #"{"id":"e1","occurred_at":"2026-03-01T02:14:07Z","customer_id":"c1","kind":"login"}"#

    static let full = """
        {"id":"e2","occurred_at":"2026-03-01T02:14:07Z","customer_id":"c1","kind":"payment","amount":1250.5,\
        "currency":"GBP","channel":"web","payee":{"id":"p9","new":true},\
        "device":{"id":"d1","new_for_customer":true,"os":"android","rooted":false},\
        "ip":{"country":"NG","hosting":true},"otp":{"channel":"sms"},\
        "telco":{"sim_swap":{"latest_change":"2026-02-28T23:14:07Z","monitored_period_days":90},\
        "device_swap":{"latest_change":null},"call_forwarding":["unconditional","conditional_busy"],\
        "roaming":{"roaming":true,"country_codes":["MY"],"last_status_time":"2026-03-01T01:00:00Z"},\
        "reachability":{"reachable":true,"connectivity":["DATA"]},"location_verification":"FALSE",\
        "ss7":{"foreign_location_updates_24h":2,"sri_for_sm_requests_24h":11}},\
        "merchant":{"mcc":"6012"}}
        """

    static func decode(_ text: String) throws(ContractError) -> Event {
        try Event.decode(jsonLine: Array(text.utf8))
    }

    @Test func decodesMinimalEventWithEverythingElseUnknown() throws {
        let event = try Self.decode(Self.minimal)
        #expect(event.id == "e1")
        #expect(event.kind == .login)
        #expect(event.occurredAt == Timestamp(year: 2026, month: 3, day: 1, hour: 2, minute: 14, second: 7))
        #expect(event.amount == nil && event.telco == nil && event.device == nil)
    }

    @Test func readsTheCustomersLineAndNumberRecyclingAndNamesTheirErrors() throws {
        let event = try Self.decode(
            #"{"id":"e3","occurred_at":"2026-03-01T02:14:07Z","customer_id":"c1","kind":"login","customer":{"phone_number":"+447700900123","enrolled_at":"2024-05-01T00:00:00Z"},"telco":{"number_recycled":false}}"#
        )
        #expect(event.customer == CustomerContext(phoneNumber: "+447700900123", enrolledAt: Timestamp(year: 2024, month: 5, day: 1)))
        #expect(event.telco?.numberRecycled == false)
        // The same reader over the parsed tree.
        let tree = try Event(
            json: try JSONValue.parse(
                Array(
                    #"{"id":"e3","occurred_at":"2026-03-01T02:14:07Z","customer_id":"c1","kind":"login","customer":{"phone_number":"+447700900123"}}"#
                        .utf8)))
        #expect(tree.customer?.phoneNumber == "+447700900123")
        let cases: [(String, String)] = [
            (#""customer":{"phone_number":"07700900123"}"#, "customer.phone_number"),
            (#""customer":{"phone_number":"+0447700900123"}"#, "customer.phone_number"),
            (#""customer":{"phone_number":"+4477009001234567"}"#, "customer.phone_number"),
            (#""customer":{"enrolled_at":"yesterday"}"#, "customer.enrolled_at"),
            (#""telco":{"number_recycled":"no"}"#, "telco.number_recycled"),
        ]
        for (member, field) in cases {
            let line = #"{"id":"e4","occurred_at":"2026-03-01T02:14:07Z","customer_id":"c1","kind":"login",\#(member)}"#
            #expect(throws: ContractError.self) { try Self.decode(line) }
            do {
                _ = try Self.decode(line)
            } catch {
                #expect(error.field == field, "\(member)")
            }
        }
    }

    @Test func decodesEveryContractFieldAndIgnoresExtras() throws {
        let event = try Self.decode(Self.full)
        #expect(event.amount == 1250.5)
        #expect(event.payee == Payee(id: "p9", new: true))
        #expect(event.device?.newForCustomer == true)
        #expect(event.ip == IPContext(country: "NG", hosting: true))
        #expect(event.otp?.channel == .sms)
        let telco = try #require(event.telco)
        #expect(telco.simSwap?.latestChange == Timestamp(year: 2026, month: 2, day: 28, hour: 23, minute: 14, second: 7))
        // Present with null: the operator says "no swap in the monitored period", which is not unknown.
        #expect(telco.deviceSwap != nil && telco.deviceSwap?.latestChange == nil)
        #expect(telco.callForwarding == [.unconditional, .conditionalBusy])
        #expect(telco.roaming?.countryCodes == ["MY"])
        #expect(telco.reachability?.connectivity == [.data])
        #expect(telco.locationVerification == .notVerified)
        #expect(telco.ss7 == SS7Signals(foreignLocationUpdates24h: 2, sriForSmRequests24h: 11))
    }

    @Test func roundTripsThroughItsOwnEncoding() throws {
        let event = try Self.decode(Self.full)
        #expect(try Event.decode(jsonLine: JSONLine.encode(event)) == event)
    }

    @Test(arguments: ["id", "occurred_at", "customer_id", "kind"])
    func namesAMissingRequiredField(field: String) throws {
        var object = try #require(try JSONLineTestHelper.object(Self.minimal))
        object.removeValue(forKey: field)
        #expect(throws: ContractError.missingField(field: field)) {
            try Self.decode(JSONLineTestHelper.text(object))
        }
    }

    @Test(arguments: [
        (#""amount":"12""#, "amount"),
        (#""payee":{"new":"yes"}"#, "payee.new"),
        (#""telco":{"ss7":{"sri_for_sm_requests_24h":1.5}}"#, "telco.ss7.sri_for_sm_requests_24h"),
        (#""telco":{"call_forwarding":"unconditional"}"#, "telco.call_forwarding"),
        (#""device":{"rooted":null,"id":7}"#, "device.id"),
    ])
    func namesAFieldOfTheWrongType(fragment: String, field: String) {
        #expect {
            try Self.decode(try JSONLineTestHelper.merging(Self.minimal, fragment))
        } throws: { error in
            guard case .wrongType(let named, _) = error as? ContractError else { return false }
            return named == field
        }
    }

    @Test(arguments: [
        (#""kind":"transfer""#, "kind"),
        (#""occurred_at":"yesterday""#, "occurred_at"),
        (#""amount":-5"#, "amount"),
        (#""currency":"gbp""#, "currency"),
        (#""ip":{"country":"GBR"}"#, "ip.country"),
        (#""otp":{"channel":"email"}"#, "otp.channel"),
        (#""telco":{"call_forwarding":["inactive","forward_all"]}"#, "telco.call_forwarding[1]"),
        (#""telco":{"roaming":{"country_codes":["MY","xx"]}}"#, "telco.roaming.country_codes[1]"),
        (#""telco":{"sim_swap":{"latest_change":"2026-02-30T00:00:00Z"}}"#, "telco.sim_swap.latest_change"),
        (#""telco":{"ss7":{"foreign_location_updates_24h":-1}}"#, "telco.ss7.foreign_location_updates_24h"),
        // Found by schemathesis: a count beyond the limit was "expected an integer".
        (#""telco":{"ss7":{"sri_for_sm_requests_24h":1000000000000000}}"#, "telco.ss7.sri_for_sm_requests_24h"),
        (#""id":"""#, "id"),
    ])
    func namesAFieldWithAnInvalidValue(fragment: String, field: String) {
        #expect {
            try Self.decode(try JSONLineTestHelper.merging(Self.minimal, fragment))
        } throws: { error in
            guard case .invalidValue(let named, _, _) = error as? ContractError else { return false }
            return named == field
        }
    }

    @Test func acceptsTheLargestCount() throws {
        let text = try JSONLineTestHelper.merging(Self.minimal, #""telco":{"ss7":{"sri_for_sm_requests_24h":999999999999999}}"#)
        #expect(try Self.decode(text).telco?.ss7?.sriForSmRequests24h == ContractLimits.maximumCount)
    }

    @Test func swapSignalWithoutItsDateIsAnError() {
        let text = Self.minimal.dropLast() + #","telco":{"sim_swap":{"monitored_period_days":90}}}"#
        #expect(throws: ContractError.missingField(field: "telco.sim_swap.latest_change")) {
            try Self.decode(String(text))
        }
    }

    @Test(arguments: ["", "{", "not json", "[1,2]", #"{"id":"e1",}"#, "null"])
    func rejectsTextThatIsNotAJSONObject(text: String) {
        #expect {
            try Self.decode(text)
        } throws: { error in
            guard case .malformedJSON = error as? ContractError else { return false }
            return true
        }
    }
}

/// Builds test inputs as JSON objects through Foundation, independently of the code under test.
enum JSONLineTestHelper {
    static func object(_ text: String) throws -> [String: Any]? {
        try JSONSerializationBridge.object(text)
    }

    static func text(_ object: [String: Any]) throws -> String {
        try JSONSerializationBridge.text(object)
    }

    /// `base` with the members of `{fragment}` set on it (replacing any of the same name).
    static func merging(_ base: String, _ fragment: String) throws -> String {
        var object = try object(base) ?? [:]
        for (key, value) in try self.object("{" + fragment + "}") ?? [:] { object[key] = value }
        return try text(object)
    }
}
