import Foundation
import RiskContract
import RiskOperatorStub
import Testing

@testable import RiskSignals

/// What is scored, stored and answered for an enriched event: the stored JSON reads back as the
/// event that was scored, and the origins' text is what the JSON writer gives, whichever way the
/// event was completed (its JSON as sent with a `telco` member added, or written again whole).
@Suite struct CompletedEventTests {
    static func line(id: String = "e1", phone: String = OperatorFixture.swapped, extra: String = "") -> String {
        #"{"id":"\#(id)","occurred_at":"2026-03-01T10:00:00Z","customer_id":"c1","kind":"payment","amount":12.5,"customer":{"phone_number":"\#(phone)","enrolled_at":"2025-01-15T00:00:00Z"}\#(extra)}"#
    }

    /// Checks one completion both ways: the typed event and the tree against the stored JSON
    /// read back, and the origins' text against the writer's.
    static func check(_ enrichment: Enrichment, line: String, keepingJSON: Bool) throws -> String {
        let parsed = try ParsedEvent(jsonLine: Array(line.utf8), keepingJSON: keepingJSON)
        let completed = enrichment.completed(parsed, payload: line)
        let stored = try JSONValue.parse(Array(completed.payload.utf8))
        #expect(try Event(json: stored) == completed.event.event)
        if keepingJSON { #expect(completed.event.json == stored) } else { #expect(completed.event.json == nil) }
        #expect(completed.signals == String(decoding: JSONLine.encode(enrichment.originsJSON), as: UTF8.self))
        #expect(enrichment.parsed(parsed).event == completed.event.event)
        return completed.payload
    }

    @Test func theStoredEventReadsBackAsScoredAndTheOriginsAsTheWriterWritesThem() async throws {
        let fixture = try await OperatorFixture()
        try await fixture.stub.whileServing { url in
            let enricher = try Enricher(configuration: try fixture.configuration(baseURL: url), http: sharedHTTP, sendsAsOf: true)
            let sent = try ParsedEvent(jsonLine: Array(Self.line().utf8))
            let fetched = await enricher.enrich(sent, at: OperatorFixture.now, strategy: .always, scorer: AcquisitionRoundsTests.scorer)
            #expect(fetched.values.count == 6)
            #expect(fetched.acquisition == .always)
            // Sent with no telco object: the JSON as sent, with the acquired values at its end.
            for keepingJSON in [false, true] {
                let payload = try Self.check(fetched, line: Self.line(), keepingJSON: keepingJSON)
                #expect(payload.hasPrefix(String(Self.line().dropLast()) + #","telco":{"call_forwarding":["#))
            }
            // The same line again: every answer from the cache, the same stored JSON.
            let cached = enricher.free(
                try ParsedEvent(jsonLine: Array(Self.line(id: "e2").utf8)), at: OperatorFixture.now, strategy: .costAware)
            #expect(!cached.paid)
            for api in OperatorAPI.allCases { #expect(cached.enrichment.origins[api] == .cache, "\(api)") }
            let again = try Self.check(cached.enrichment, line: Self.line(id: "e2"), keepingJSON: false)
            let first = try Self.check(fetched, line: Self.line(id: "e2"), keepingJSON: false)
            #expect(again == first)
            // Written again whole: a telco object of its own (even null), an escape, an empty
            // object, trailing white space.
            for extra in [
                #","telco":{"ss7":{"sri_for_sm_requests_24h":2}}"#, #","telco":null"#, #","payee":{"id":"p\u0031"}"#,
                #","note":"a \"telco\" word""#,
            ] {
                let line = Self.line(extra: extra)
                for keepingJSON in [false, true] { _ = try Self.check(cached.enrichment, line: line, keepingJSON: keepingJSON) }
            }
            _ = try Self.check(cached.enrichment, line: Self.line() + " \n", keepingJSON: false)
            // Unknown signals and a named operator in the origins.
            var mixed = fetched
            mixed.origins[.roaming] = .unknown(reason: "404 IDENTIFIER_NOT_FOUND")
            mixed.values[.roaming] = nil
            mixed.explored = true
            mixed.acquisition = .costAware
            _ = try Self.check(mixed, line: Self.line(), keepingJSON: true)
            #expect(mixed.originsText.hasPrefix(#"{"acquisition":"explore","call_forwarding":{"operator":"stub","source":"operator"}"#))
        }
    }

    @Test func splicingRefusesWhatItCannotDoSafely() {
        var recycled = Enrichment()
        recycled.values[.numberRecycling] = .numberRecycled(true)
        #expect(recycled.spliced("{}") == #"{"telco":{"number_recycled":true}}"#)
        #expect(recycled.spliced(#"{"a":1} "#) == #"{"a":1,"telco":{"number_recycled":true}}"#)
        #expect(recycled.spliced(#"{"telco":null}"#) == nil)
        #expect(recycled.spliced(#"{"a":"\u0074"}"#) == nil)
        #expect(recycled.spliced(#"{"a":1"#) == nil)
    }

    @Test func everyConstantPatternOfOriginsIsWrittenAsTheWriterWritesIt() {
        for (index, text) in Enrichment.Written.constantOrigins.enumerated() where index % 97 == 0 || index < 10 {
            var enrichment = Enrichment()
            let patterns = Enrichment.Written.patterns, strategies = AcquisitionStrategy.allCases
            let strategy = index / patterns
            if strategy > 0 {
                enrichment.acquisition = strategy <= strategies.count ? strategies[strategy - 1] : .costAware
                enrichment.explored = strategy > strategies.count
            }
            var pattern = index % patterns
            for api in Enrichment.Written.sortedAPIs {
                enrichment.origins[api] = [SignalOrigin.event, .cache, .notification][pattern % 3]
                pattern /= 3
            }
            #expect(enrichment.constantPattern == index)
            #expect(text == String(decoding: JSONLine.encode(enrichment.originsJSON), as: UTF8.self))
        }
    }
}
