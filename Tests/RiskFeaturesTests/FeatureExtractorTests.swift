import Foundation
import RiskFeatures
import Testing

@testable import RiskContract

@Suite struct FeatureExtractorTests {
    static let at = Timestamp(year: 2026, month: 3, day: 1, hour: 2, minute: 30)!  // a Sunday, 02:30 UTC

    static func event(_ json: String) throws -> ParsedEvent {
        try ParsedEvent(jsonLine: Array(json.utf8))
    }

    static func base(_ extra: String = "") -> String {
        #"{"id":"e1","occurred_at":"2026-03-01T02:30:00Z","customer_id":"c1","kind":"payment""# + (extra.isEmpty ? "" : "," + extra) + "}"
    }

    static func extractor(_ features: [Feature]) throws -> FeatureExtractor {
        try FeatureExtractor(spec: FeatureSpec(name: "test", features: features))
    }

    /// The columns that are not zero, with their values: easy to compare with a hand-written list.
    static func nonZero(_ extractor: FeatureExtractor, _ vector: [Double]) -> [String: Double] {
        Dictionary(uniqueKeysWithValues: zip(extractor.columns, vector).filter { $0.1 != 0 })
    }

    @Test func numericEncodingsClipTransformAndFlagUnknown() throws {
        var logAmount = Feature(name: "amount", kind: .numeric, source: "amount")
        logAmount.transform = .log1p
        logAmount.clip = [0, 999]
        var z = Feature(name: "z", kind: .numeric, source: "amount")
        z.transform = .standardize
        z.statistics = .init(mean: 100, standardDeviation: 50)
        let extractor = try Self.extractor([
            logAmount, z, Feature(name: "sri", kind: .numeric, source: "telco.ss7.sri_for_sm_requests_24h"),
        ])
        #expect(extractor.columns == ["amount", "amount=unknown", "z", "z=unknown", "sri", "sri=unknown"])
        let vector = extractor.vector(try Self.event(Self.base(#""amount":1250,"telco":{"ss7":{"sri_for_sm_requests_24h":0}}"#)))
        // Clipped to 999 before log1p; the standardised copy is not clipped: (1250 − 100) / 50.
        #expect(vector == [log1p(999), 0, 23, 0, 0, 0])
        let missing = extractor.vector(try Self.event(Self.base()))
        #expect(missing == [0, 1, 0, 1, 0, 1])
    }

    @Test func triStateUnknownIsNeitherTrueNorFalse() throws {
        let extractor = try Self.extractor([Feature(name: "payee.new", kind: .boolean, source: "payee.new")])
        #expect(extractor.columns == ["payee.new=true", "payee.new=false", "payee.new=unknown"])
        #expect(extractor.vector(try Self.event(Self.base(#""payee":{"new":true}"#))) == [1, 0, 0])
        #expect(extractor.vector(try Self.event(Self.base(#""payee":{"new":false}"#))) == [0, 1, 0])
        #expect(extractor.vector(try Self.event(Self.base(#""payee":{"id":"p"}"#))) == [0, 0, 1])
        #expect(extractor.vector(try Self.event(Self.base(#""payee":{"new":null}"#))) == [0, 0, 1])
    }

    @Test func categoricalHashedAndListMembership() throws {
        var channel = Feature(name: "channel", kind: .categorical, source: "channel")
        channel.vocabulary = ["web", "app"]
        var os = Feature(name: "os", kind: .hashed, source: "device.os")
        os.buckets = 4
        var forwarding = Feature(name: "forwarding_unconditional", kind: .contains, source: "telco.call_forwarding")
        forwarding.value = "unconditional"
        var mcc = Feature(name: "mcc", kind: .categorical, source: "merchant.mcc")
        mcc.vocabulary = ["6012"]
        let extractor = try Self.extractor([channel, os, forwarding, mcc])
        #expect(extractor.columns.prefix(4) == ["channel=web", "channel=app", "channel=<other>", "channel=unknown"])
        let bucket = Int(FNV1a.hash("android") % 4)
        let vector = extractor.vector(
            try Self.event(
                Self.base(
                    #""channel":"phone","device":{"os":"android"},"telco":{"call_forwarding":["conditional_busy","unconditional"]},"merchant":{"mcc":"6012"}"#
                )))
        #expect(
            Self.nonZero(extractor, vector) == [
                "channel=<other>": 1, "os=#\(bucket)": 1, "forwarding_unconditional=true": 1, "mcc=6012": 1,
            ])
        let empty = extractor.vector(try Self.event(Self.base(#""telco":{"call_forwarding":["inactive"]}"#)))
        #expect(
            Self.nonZero(extractor, empty) == [
                "channel=unknown": 1, "os=unknown": 1, "forwarding_unconditional=false": 1, "mcc=unknown": 1,
            ])
    }

    @Test func hashingIsStableAcrossRunsAndMachines() {
        // FNV-1a 64 test vectors (Fowler, Noll, Vo): fixed numbers, not whatever this process hashes to.
        #expect(FNV1a.hash("") == 0xcbf2_9ce4_8422_2325)
        #expect(FNV1a.hash("a") == 0xaf63_dc4c_8601_ec8c)
        #expect(FNV1a.hash("foobar") == 0x8594_4171_f739_67e8)
    }

    @Test func timeSinceBucketsAgeAtTheEventAndKnowsNoneFromUnknown() throws {
        var swap = Feature(name: "sim_swap_age", kind: .timeSince, source: "telco.sim_swap.latest_change")
        swap.bucketsHours = [1, 24, 72, 168, 720]
        let extractor = try Self.extractor([swap])
        #expect(
            extractor.columns == [
                "sim_swap_age=<1h", "sim_swap_age=<24h", "sim_swap_age=<72h", "sim_swap_age=<7d", "sim_swap_age=<30d",
                "sim_swap_age=>=30d", "sim_swap_age=none", "sim_swap_age=unknown",
            ])
        func level(_ telco: String) throws -> String {
            let vector = extractor.vector(try Self.event(Self.base(#""telco":"# + telco)))
            return extractor.columns[vector.firstIndex(of: 1)!]
        }
        #expect(try level(#"{"sim_swap":{"latest_change":"2026-03-01T02:00:00Z"}}"#) == "sim_swap_age=<1h")  // 30 min
        #expect(try level(#"{"sim_swap":{"latest_change":"2026-03-01T01:30:00Z"}}"#) == "sim_swap_age=<24h")  // exactly 1 h
        #expect(try level(#"{"sim_swap":{"latest_change":"2026-02-26T02:30:00Z"}}"#) == "sim_swap_age=<7d")  // exactly 72 h
        #expect(try level(#"{"sim_swap":{"latest_change":"2025-12-01T00:00:00Z"}}"#) == "sim_swap_age=>=30d")
        #expect(try level(#"{"sim_swap":{"latest_change":null}}"#) == "sim_swap_age=none")
        #expect(try level(#"{"roaming":{"roaming":true}}"#) == "sim_swap_age=unknown")
        // A swap dated after the event cannot have been known then.
        #expect(try level(#"{"sim_swap":{"latest_change":"2026-03-01T03:00:00Z"}}"#) == "sim_swap_age=unknown")
    }

    @Test func clockFeaturesAndCrossesOfTwoAndThree() throws {
        var swap = Feature(name: "sim_swap_age", kind: .timeSince, source: "telco.sim_swap.latest_change")
        swap.bucketsHours = [24]
        var night = Feature(name: "night", kind: .night)
        night.fromHour = 0
        night.toHour = 6
        var pair = Feature(name: "swap_x_payee", kind: .cross)
        pair.of = ["sim_swap_age", "payee.new"]
        var triple = Feature(name: "swap_x_payee_x_night", kind: .cross)
        triple.of = ["sim_swap_age", "payee.new", "night"]
        let extractor = try Self.extractor([
            swap, Feature(name: "payee.new", kind: .boolean, source: "payee.new"), night, Feature(name: "hour", kind: .hourOfDay),
            Feature(name: "weekday", kind: .dayOfWeek), pair, triple,
        ])
        // 4 + 3 + 2 + 24 + 7 + 4·3 + 4·3·2 columns.
        #expect(extractor.columns.count == 4 + 3 + 2 + 24 + 7 + 12 + 24)
        #expect(extractor.columns.contains("sim_swap_age=<24h&payee.new=true"))
        let vector = extractor.vector(
            try Self.event(Self.base(#""payee":{"new":true},"telco":{"sim_swap":{"latest_change":"2026-02-28T23:30:00Z"}}"#)))
        #expect(
            Self.nonZero(extractor, vector) == [
                "sim_swap_age=<24h": 1, "payee.new=true": 1, "night=true": 1, "hour=02": 1, "weekday=sun": 1,
                "sim_swap_age=<24h&payee.new=true": 1, "sim_swap_age=<24h&payee.new=true&night=true": 1,
            ])
    }

    @Test(arguments: [
        (#"{"format":"riskloop.features/9","name":"x","version":1,"features":[{"name":"a","kind":"night"}]}"#, "format"),
        (#"{"format":"riskloop.features/1","name":"x","version":1,"features":[]}"#, "features"),
        (#"{"format":"riskloop.features/1","name":"x","version":1,"features":[{"name":"a","kind":"sideways"}]}"#, "features[0].kind"),
        (#"{"format":"riskloop.features/1","name":"x","version":1,"features":[{"name":"a","kind":"numeric"}]}"#, "features[0].source"),
        (
            #"{"format":"riskloop.features/1","name":"x","version":1,"features":[{"name":"a","kind":"boolean","source":"payee..new"}]}"#,
            "features[0].source"
        ),
        (
            #"{"format":"riskloop.features/1","name":"x","version":1,"features":[{"name":"a","kind":"night"},{"name":"a","kind":"night"}]}"#,
            "features[1].name"
        ),
        (
            #"{"format":"riskloop.features/1","name":"x","version":1,"features":[{"name":"a","kind":"categorical","source":"channel","vocabulary":[]}]}"#,
            "features[0].vocabulary"
        ),
        (
            #"{"format":"riskloop.features/1","name":"x","version":1,"features":[{"name":"a","kind":"hashed","source":"device.os","buckets":1}]}"#,
            "features[0].buckets"
        ),
        (
            #"{"format":"riskloop.features/1","name":"x","version":1,"features":[{"name":"a","kind":"time_since","source":"telco.sim_swap.latest_change","buckets_hours":[24,1]}]}"#,
            "features[0].buckets_hours"
        ),
        (
            #"{"format":"riskloop.features/1","name":"x","version":1,"features":[{"name":"a","kind":"numeric","source":"amount","transform":"standardize"}]}"#,
            "features[0].statistics"
        ),
        (
            #"{"format":"riskloop.features/1","name":"x","version":1,"features":[{"name":"a","kind":"numeric","source":"amount","clip":[5,1]}]}"#,
            "features[0].clip"
        ),
        (
            #"{"format":"riskloop.features/1","name":"x","version":1,"features":[{"name":"a","kind":"night"},{"name":"b","kind":"cross","of":["a","zz"]}]}"#,
            "features[1].of"
        ),
        (
            #"{"format":"riskloop.features/1","name":"x","version":1,"features":[{"name":"a","kind":"night"},{"name":"b","kind":"cross","of":["a"]}]}"#,
            "features[1].of"
        ),
        (
            #"{"format":"riskloop.features/1","name":"x","version":1,"features":[{"name":"a","kind":"aggregate","key":"customer_id","function":"sum","window_hours":24}]}"#,
            "features[0].field"
        ),
        (
            #"{"format":"riskloop.features/1","name":"x","version":1,"features":[{"name":"a","kind":"aggregate","key":"customer_id","function":"count","window_hours":0}]}"#,
            "features[0].window_hours"
        ),
        (
            #"{"format":"riskloop.features/1","name":"x","version":1,"features":[{"name":"a","kind":"fraud_rate","key":"device.id","window_hours":24,"prior_rate":2}]}"#,
            "features[0].prior_rate"
        ),
        (
            #"{"format":"riskloop.features/1","name":"x","version":1,"features":[{"name":"a","kind":"aggregate","key":"customer_id","function":"count","window_hours":24,"event_kinds":["wire"]}]}"#,
            "features[0].event_kinds"
        ),
        (
            #"{"format":"riskloop.features/1","name":"x","version":1,"features":[{"name":"a","kind":"boolean","source":"payee.new","transform":"log1p"}]}"#,
            "features[0].transform"
        ),
    ])
    func aBadSpecNamesTheMemberAtFault(json: String, field: String) {
        #expect {
            let spec = try FeatureSpec.decode(from: Data(json.utf8))
            _ = try FeatureExtractor(spec: spec)
        } throws: { error in
            (error as? ContractError)?.field == field
        }
    }

    @Test func theSpecHashIsCanonical() throws {
        let compact = #"{"format":"riskloop.features/1","name":"x","version":1,"features":[{"name":"a","kind":"night"}]}"#
        let spaced =
            "{\n  \"features\" : [ { \"kind\" : \"night\", \"name\" : \"a\" } ],\n  \"version\" : 1, \"name\" : \"x\", \"format\" : \"riskloop.features/1\"\n}"
        let first = try FeatureSpec.decode(from: Data(compact.utf8)), second = try FeatureSpec.decode(from: Data(spaced.utf8))
        #expect(first.sha256 == second.sha256)
        #expect(first.sha256.count == 64)
        var changed = first
        changed.version = 2
        #expect(changed.sha256 != first.sha256)
    }
}

@Suite struct SpecStatisticsAndRecordsTests {
    @Test func standardisationStatisticsAreLearntFromTrainingRows() throws {
        var amount = Feature(name: "amount_z", kind: .numeric, source: "amount")
        amount.transform = .standardize
        amount.clip = [0, 100]
        let spec = FeatureSpec(name: "z", features: [amount])
        #expect(spec.needsFitting)
        #expect { try FeatureExtractor(spec: spec) } throws: { error in
            (error as? ContractError)?.field == "features[0].statistics" && (error as? ContractError)?.reason.contains("'amount_z'") == true
        }
        // Amounts 10, 30, 500 (clipped to 100) and one missing: mean 140/3, population deviation by hand.
        let events = try ["\"amount\":10", "\"amount\":30", "\"amount\":500", ""].map {
            try FeatureExtractorTests.event(FeatureExtractorTests.base($0))
        }
        let fitted = try spec.fitted(events: events, rows: Array(events.indices))
        #expect(!fitted.needsFitting)
        let mean = 140.0 / 3
        let deviation = (((10 - mean) * (10 - mean) + (30 - mean) * (30 - mean) + (100 - mean) * (100 - mean)) / 3).squareRoot()
        let statistics = try #require(fitted.features[0].statistics)
        #expect(abs(statistics.mean - mean) < 1e-12 && abs(statistics.standardDeviation - deviation) < 1e-12)
        let extractor = try FeatureExtractor(spec: fitted)
        #expect(abs(extractor.vector(events[1])[0] - (30 - mean) / deviation) < 1e-12)
        #expect(throws: ContractError.self) { try spec.fitted(events: events, rows: [3]) }
    }

    @Test func recordsThatAreNotEventsAreReadByPath() throws {
        var night = Feature(name: "night", kind: .night)
        night.toHour = 6
        var mcc = Feature(name: "mcc", kind: .categorical, source: "merchant.mcc")
        mcc.vocabulary = ["6012", "5411"]
        let extractor = try FeatureExtractor(
            spec: FeatureSpec(name: "cards", features: [Feature(name: "amount", kind: .numeric, source: "amount"), night, mcc]))
        let timed = ParsedEvent(
            record: try JSONValue.parse(Array(#"{"amount":12.5,"occurred_at":"2026-03-01T03:00:00Z","merchant":{"mcc":5411}}"#.utf8)))
        #expect(FeatureExtractorTests.nonZero(extractor, extractor.vector(timed)) == ["amount": 12.5, "night=true": 1, "mcc=5411": 1])
        // Without a time, clock features set no column at all (not "false").
        let untimed = ParsedEvent(record: try JSONValue.parse(Array(#"{"amount":1}"#.utf8)))
        #expect(FeatureExtractorTests.nonZero(extractor, extractor.vector(untimed)) == ["amount": 1, "mcc=unknown": 1])
    }
}

@Suite struct SpecErrorTests {
    /// Round 1 said `Cannot initialize Kind from invalid String value weekday (got )`.
    @Test func anUnknownKindNamesTheValidKinds() {
        let json = #"{"format":"riskloop.features/1","name":"x","version":1,"features":[{"name":"a","kind":"weekday"}]}"#
        do {
            _ = try FeatureSpec.decode(from: Data(json.utf8))
            Issue.record("an unknown kind was accepted")
        } catch {
            #expect(error.field == "features[0].kind")
            #expect(error.description.contains("must be one of numeric, boolean"))
            #expect(error.description.contains(#"(got "weekday")"#))
            #expect(!error.description.contains("(got )"))
        }
    }
}
