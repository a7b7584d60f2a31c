import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import RiskContract
import RiskOperatorStub
import RiskSignals
import Testing

@Suite struct EnrichmentTests {
    @Test func everySignalComesFromTheOperatorWithOneToken() async throws {
        let fixture = try await OperatorFixture()
        try await fixture.stub.whileServing { url in
            let enricher = try Enricher(configuration: try fixture.configuration(baseURL: url), http: sharedHTTP, sendsAsOf: true)
            let enrichment = await enricher.enrich(OperatorFixture.event(), at: OperatorFixture.now)
            #expect(enrichment.calls == 6)
            #expect(abs(enrichment.cost - 0.30) < 1e-12)
            for api in OperatorAPI.allCases { #expect(enrichment.origins[api] == .fetched(operator: "stub"), "\(api)") }
            #expect(
                enrichment.values[.simSwap]
                    == .swap(SwapSignal(latestChange: Timestamp(rfc3339: "2026-03-01T07:30:00Z"), monitoredPeriodDays: 120)))
            #expect(enrichment.values[.deviceSwap] == .swap(SwapSignal(latestChange: nil, monitoredPeriodDays: 120)))
            #expect(enrichment.values[.callForwarding] == .callForwarding([.unconditional, .conditionalBusy]))
            #expect(
                enrichment.values[.roaming]
                    == .roaming(
                        RoamingStatus(roaming: true, countryCodes: ["FR"], lastStatusTime: Timestamp(rfc3339: "2026-03-01T08:00:00Z"))))
            #expect(enrichment.values[.reachability] == .reachability(ReachabilityStatus(reachable: true, connectivity: [.data])))
            // The subscriber changed on 2026-02-10, after the customer enrolled (2025-01-15).
            #expect(enrichment.values[.numberRecycling] == .numberRecycled(true))
            // A second event of another line: the token is reused.
            let quiet = await enricher.enrich(OperatorFixture.event("e2", phone: OperatorFixture.quiet), at: OperatorFixture.now)
            #expect(quiet.values[.numberRecycling] == .numberRecycled(false))
            #expect(quiet.values[.callForwarding] == .callForwarding([.inactive]))
            #expect(fixture.stub.tokensIssued == 1)
        }
    }

    @Test func theEnrichedEventReadsAsTheContractSaysAndKeepsWhatTheEventCarried() async throws {
        let fixture = try await OperatorFixture()
        try await fixture.stub.whileServing { url in
            let enricher = try Enricher(configuration: try fixture.configuration(baseURL: url), http: sharedHTTP, sendsAsOf: true)
            let event = OperatorFixture.event(telco: #"{"call_forwarding":["inactive"],"ss7":{"sri_for_sm_requests_24h":2}}"#)
            let enrichment = await enricher.enrich(event, at: OperatorFixture.now)
            // The event's own forwarding answer is not asked again, nor replaced.
            #expect(enrichment.origins[.callForwarding] == .event)
            #expect(enrichment.values[.callForwarding] == nil)
            #expect(fixture.stub.calls[.callForwarding] == nil)
            let line =
                #"{"id":"e1","occurred_at":"2026-03-01T10:00:00Z","customer_id":"c1","kind":"payment","telco":{"call_forwarding":["inactive"],"ss7":{"sri_for_sm_requests_24h":2}}}"#
            guard case .object(let object) = try JSONValue.parse(Array(line.utf8)) else { Issue.record("not an object"); return }
            let enriched = try Event(json: .object(enrichment.applied(to: object)))
            #expect(enriched.telco?.callForwarding == [.inactive])
            #expect(enriched.telco?.ss7?.sriForSmRequests24h == 2)
            #expect(enriched.telco?.simSwap?.latestChange == Timestamp(rfc3339: "2026-03-01T07:30:00Z"))
            #expect(enriched.telco?.roaming?.countryCodes == ["FR"])
            #expect(enriched.telco?.numberRecycled == true)
            #expect(
                enrichment.originsJSON
                    == (try JSONValue.parse(
                        Array(
                            #"{"call_forwarding":{"source":"event"},"device_swap":{"source":"operator","operator":"stub"},"number_recycled":{"source":"operator","operator":"stub"},"reachability":{"source":"operator","operator":"stub"},"roaming":{"source":"operator","operator":"stub"},"sim_swap":{"source":"operator","operator":"stub"}}"#
                                .utf8))))
        }
    }

    @Test func answersAreReusedWithinTheirTimeToLiveAndAskedAgainAfter() async throws {
        let fixture = try await OperatorFixture()
        try await fixture.stub.whileServing { url in
            let enricher = try Enricher(
                configuration: try fixture.configuration(baseURL: url, apis: [.simSwap, .deviceSwap]), http: sharedHTTP, sendsAsOf: true)
            _ = await enricher.enrich(OperatorFixture.event("e1"), at: OperatorFixture.now)
            let again = await enricher.enrich(OperatorFixture.event("e2"), at: OperatorFixture.now.adding(milliseconds: 299_000))
            #expect(again.origins[.simSwap] == .cache)
            #expect(again.origins[.deviceSwap] == .cache)
            #expect(again.calls == 0)
            // SIM swap's 300 s are over; device swap's hour is not.
            let later = await enricher.enrich(OperatorFixture.event("e3"), at: OperatorFixture.now.adding(milliseconds: 301_000))
            #expect(later.origins[.simSwap] == .fetched(operator: "stub"))
            #expect(later.origins[.deviceSwap] == .cache)
            #expect(fixture.stub.calls[.simSwap] == 2)
            #expect(fixture.stub.calls[.deviceSwap] == 1)
        }
    }

    @Test func whatCannotBeAskedIsUnknownWithItsReason() async throws {
        let fixture = try await OperatorFixture()
        try await fixture.stub.whileServing { url in
            let enricher = try Enricher(
                configuration: try fixture.configuration(baseURL: url, apis: [.simSwap, .numberRecycling]), http: sharedHTTP,
                sendsAsOf: true)
            let noPhone = await enricher.enrich(OperatorFixture.event(phone: nil), at: OperatorFixture.now)
            #expect(noPhone.calls == 0)
            #expect(noPhone.origins[.simSwap] == .unknown(reason: "missing customer.phone_number"))
            let noEnrolment = await enricher.enrich(OperatorFixture.event(enrolled: nil), at: OperatorFixture.now)
            #expect(noEnrolment.origins[.numberRecycling] == .unknown(reason: "missing customer.enrolled_at"))
            #expect(noEnrolment.origins[.roaming] == .unknown(reason: "not_offered"))
            #expect(noEnrolment.origins[.simSwap] == .fetched(operator: "stub"))
            // A number no configured operator serves.
            let abroad = await enricher.enrich(OperatorFixture.event(phone: "+33612345678"), at: OperatorFixture.now)
            #expect(abroad.origins[.simSwap] == .unknown(reason: "not_offered"))
            #expect(abroad.calls == 0)
        }
    }

    @Test(arguments: [
        (404, "IDENTIFIER_NOT_FOUND"), (422, "SERVICE_NOT_APPLICABLE"), (429, "TOO_MANY_REQUESTS"), (429, "QUOTA_EXCEEDED"),
        (501, "NOT_IMPLEMENTED"), (503, "UNAVAILABLE"), (400, "INVALID_ARGUMENT"), (403, "PERMISSION_DENIED"),
    ])
    func eachOperatorErrorLeavesTheSignalUnknownWithItsCode(status: Int, code: String) async throws {
        var faults = OperatorStub.Faults()
        faults.failing[.callForwarding] = CAMARA.ErrorInfo(status: status, code: code, message: "injected")
        let fixture = try await OperatorFixture(faults: faults)
        try await fixture.stub.whileServing { url in
            let enricher = try Enricher(configuration: try fixture.configuration(baseURL: url), http: sharedHTTP, sendsAsOf: true)
            let enrichment = await enricher.enrich(OperatorFixture.event(), at: OperatorFixture.now)
            #expect(enrichment.origins[.callForwarding] == .unknown(reason: "\(status) \(code)"))
            #expect(enrichment.values[.callForwarding] == nil)
            #expect(enrichment.origins[.simSwap] == .fetched(operator: "stub"))
        }
    }

    @Test func enrichersSharingAnswersSendEachQuestionOnceAndEachPaysForIt() async throws {
        let fixture = try await OperatorFixture()
        try await fixture.stub.whileServing { url in
            let shared = SharedAnswers()
            let configuration = try fixture.configuration(baseURL: url)
            let first = try Enricher(configuration: configuration, http: sharedHTTP, sendsAsOf: true, shared: shared)
            let second = try Enricher(configuration: configuration, http: sharedHTTP, sendsAsOf: true, shared: shared)
            async let one = first.enrich(OperatorFixture.event(), at: OperatorFixture.now)
            async let two = second.enrich(OperatorFixture.event(), at: OperatorFixture.now)
            let (a, b) = await (one, two)
            #expect(a.calls == 6 && b.calls == 6)
            #expect(a.values == b.values && a.values.count == 6)
            #expect(shared.questionsSent == 6)
            for api in OperatorAPI.allCases { #expect(fixture.stub.calls[api] == 1, "\(api)") }
            // Another instant (past every time to live) is another question.
            _ = await first.enrich(OperatorFixture.event("e2"), at: OperatorFixture.now.adding(days: 2))
            #expect(shared.questionsSent == 12)
            shared.forget()
            #expect(shared.count == 0)
        }
    }

    @Test func aNotApplicableAnswerIsNotPaidForAgainWithinItsTimeToLive() async throws {
        var faults = OperatorStub.Faults()
        faults.failing[.callForwarding] = CAMARA.ErrorInfo(status: 503, code: "UNAVAILABLE", message: "injected")
        let fixture = try await OperatorFixture(faults: faults)
        try await fixture.stub.whileServing { url in
            let enricher = try Enricher(
                configuration: try fixture.configuration(baseURL: url, apis: [.roaming, .callForwarding]), http: sharedHTTP,
                sendsAsOf: true)
            let first = await enricher.enrich(OperatorFixture.event("e1", phone: OperatorFixture.bare), at: OperatorFixture.now)
            #expect(first.origins[.roaming] == .unknown(reason: "422 SERVICE_NOT_APPLICABLE"))
            #expect(first.origins[.callForwarding] == .unknown(reason: "503 UNAVAILABLE"))
            #expect(first.calls == 2)
            // Within roaming's 600 s: the 422 is the cache's answer and costs nothing; the 503 says
            // nothing about the line and is asked again.
            let again = await enricher.enrich(
                OperatorFixture.event("e2", phone: OperatorFixture.bare), at: OperatorFixture.now.adding(milliseconds: 599_000))
            #expect(again.origins[.roaming] == .cachedUnknown(reason: "422 SERVICE_NOT_APPLICABLE"))
            #expect(again.origins[.callForwarding] == .unknown(reason: "503 UNAVAILABLE"))
            #expect(again.calls == 1)
            #expect(again.values[.roaming] == nil)
            #expect(fixture.stub.calls[.roaming] == 1)
            #expect(fixture.stub.calls[.callForwarding] == 2)
            #expect(
                again.originsText.contains(#""roaming":{"cached":true,"reason":"422 SERVICE_NOT_APPLICABLE","source":"unknown"}"#))
            // Cost-aware does not ask for it either.
            let free = enricher.free(
                ParsedEvent(event: OperatorFixture.event("e3", phone: OperatorFixture.bare)),
                at: OperatorFixture.now.adding(milliseconds: 599_000), strategy: .costAware)
            let fetchable = enricher.fetchable(OperatorFixture.event("e3", phone: OperatorFixture.bare), free.enrichment)
            #expect(!fetchable.contains(.roaming) && fetchable.contains(.callForwarding))
            // After the 600 s, asked again.
            let later = await enricher.enrich(
                OperatorFixture.event("e4", phone: OperatorFixture.bare), at: OperatorFixture.now.adding(milliseconds: 601_000))
            #expect(later.origins[.roaming] == .unknown(reason: "422 SERVICE_NOT_APPLICABLE"))
            #expect(fixture.stub.calls[.roaming] == 2)
        }
    }

    @Test func theOperatorsOwnAnswersForUnknownAndUnservedLines() async throws {
        let fixture = try await OperatorFixture()
        try await fixture.stub.whileServing { url in
            let enricher = try Enricher(configuration: try fixture.configuration(baseURL: url), http: sharedHTTP, sendsAsOf: true)
            let unknown = await enricher.enrich(OperatorFixture.event(phone: OperatorFixture.unknown), at: OperatorFixture.now)
            #expect(unknown.origins[.simSwap] == .unknown(reason: "404 IDENTIFIER_NOT_FOUND"))
            let bare = await enricher.enrich(OperatorFixture.event(phone: OperatorFixture.bare), at: OperatorFixture.now)
            #expect(bare.origins[.roaming] == .unknown(reason: "422 SERVICE_NOT_APPLICABLE"))
            // Number Recycling needs no observed signal: the line has no subscriber change on record.
            #expect(bare.values[.numberRecycling] == .numberRecycled(false))
        }
    }

    @Test func aSlowOperatorIsATimeoutAndTheRequestKeepsItsDeadline() async throws {
        var faults = OperatorStub.Faults()
        faults.latency = .seconds(1)
        let fixture = try await OperatorFixture(faults: faults)
        try await fixture.stub.whileServing { url in
            let enricher = try Enricher(
                configuration: try fixture.configuration(baseURL: url, deadlineMs: 100), http: sharedHTTP, sendsAsOf: true)
            let enrichment = await enricher.enrich(OperatorFixture.event(), at: OperatorFixture.now)
            for api in OperatorAPI.allCases { #expect(enrichment.origins[api] == .unknown(reason: "timeout"), "\(api)") }
            #expect(enrichment.values.isEmpty)
        }
    }

    @Test func aDeadOperatorOpensItsCircuit() async throws {
        let fixture = try await OperatorFixture()
        // A port nothing listens on: every connection is refused.
        let dead = "http://127.0.0.1:9"
        let enricher = try Enricher(
            configuration: try fixture.configuration(
                baseURL: dead, deadlineMs: 300, apis: [.simSwap], extra: #", "circuit_breaker": {"failures": 3, "open_seconds": 60}"#),
            http: sharedHTTP,
            sendsAsOf: true)
        var reasons: [String] = []
        for index in 0..<5 {
            let enrichment = await enricher.enrich(OperatorFixture.event("e\(index)"), at: OperatorFixture.now)
            if case .unknown(let reason)? = enrichment.origins[.simSwap] { reasons.append(reason) }
        }
        #expect(reasons.count == 5)
        // Refused connections: unreachable, or a timeout when the client kept retrying to its deadline.
        #expect(reasons.prefix(3).allSatisfy { $0 == "unreachable" || $0 == "timeout" }, "\(reasons)")
        #expect(reasons.suffix(2) == ["circuit_open", "circuit_open"])
    }

    @Test func aLocalRateLimitStopsCallsBeyondTheAgreedRate() async throws {
        let fixture = try await OperatorFixture()
        try await fixture.stub.whileServing { url in
            let enricher = try Enricher(
                configuration: try fixture.configuration(baseURL: url, apis: [.simSwap], extra: #", "rate_limit_per_second": 0.01"#),
                http: sharedHTTP, sendsAsOf: true)
            var origins: [SignalOrigin] = []
            for index in 0..<3 {
                // Distinct lines' numbers are not cached for one another.
                let phone = [OperatorFixture.swapped, OperatorFixture.quiet, OperatorFixture.bare][index]
                origins.append(
                    await enricher.enrich(OperatorFixture.event("e\(index)", phone: phone), at: OperatorFixture.now).origins[.simSwap]!)
            }
            // One call every 100 s: the first goes out, the next two wait for none.
            #expect(origins[0] == .fetched(operator: "stub"))
            #expect(origins[1...] == [.unknown(reason: "rate_limited"), .unknown(reason: "rate_limited")])
            #expect(fixture.stub.calls[.simSwap] == 1)
        }
    }

    @Test func aRefusedClientIsUnauthenticated() async throws {
        let fixture = try await OperatorFixture()
        try await fixture.stub.whileServing { url in
            // Another key than the one the operator registered for this client id.
            let other = try await OperatorFixture()
            var configuration = try fixture.configuration(baseURL: url)
            configuration.operators[0].privateKeyPEM = other.key.pemRepresentation
            let enricher = try Enricher(configuration: configuration, http: sharedHTTP, sendsAsOf: true)
            let enrichment = await enricher.enrich(OperatorFixture.event(), at: OperatorFixture.now)
            #expect(enrichment.origins[.simSwap] == .unknown(reason: "401 TOKEN_REFUSED"))
            #expect(fixture.stub.tokensIssued == 0)
        }
    }
}
