import Foundation
import RiskFeatures
import Testing

@testable import RiskContract

/// Learnt and fixed bins, ratios to an entity's usual, spreads and extremes, aggregates that
/// count their own event, and crosses over bins: against numpy (bins.json, from make_bins.py) and
/// hand-computed cases.
@Suite struct FeatureLanguageTests {
    struct BinCase: Decodable, Sendable {
        var name: String
        var values: [Double]
        var quantiles: Int
        var edges: [Double]
        var edge_quantiles: [Double]
    }

    static let binCases: [BinCase] = {
        struct Fixture: Decodable { var cases: [BinCase] }
        let url = Bundle.module.url(forResource: "Fixtures/bins", withExtension: "json")!
        return try! JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url)).cases
    }()

    static let start = Timestamp(year: 2026, month: 3, day: 1, hour: 10, minute: 0)!.millisecondsSinceEpoch

    /// Event `index` of `customer`, `index` hours after 10:00 on 2026-03-01.
    static func payment(_ index: Int, amount: Double?, customer: String = "c1", extra: String = "") throws -> ParsedEvent {
        let time = Timestamp(millisecondsSinceEpoch: start + Int64(index) * 3_600_000)
        var json = #"{"id":"e\#(index)","occurred_at":"\#(time.rfc3339)","customer_id":"\#(customer)","kind":"payment""#
        if let amount { json += ",\"amount\":\(amount)" }
        if !extra.isEmpty { json += "," + extra }
        return try ParsedEvent(jsonLine: Array((json + "}").utf8))
    }

    static func aggregate(_ name: String, _ function: Feature.Function, includeCurrent: Bool? = nil, bins: Feature.Bins? = nil) -> Feature {
        var feature = Feature(name: name, kind: .aggregate)
        feature.key = "customer_id"
        feature.function = function
        feature.field = function == .count ? nil : "amount"
        feature.windowHours = 720
        feature.includeCurrent = includeCurrent
        feature.bins = bins
        return feature
    }

    static func ratio(_ name: String, against: String, spread: String? = nil) -> Feature {
        var feature = Feature(name: name, kind: .ratio, source: "amount")
        feature.against = against
        feature.spread = spread
        feature.compare = spread == nil ? nil : .standardDeviations
        return feature
    }

    static func binned(_ bins: Feature.Bins) -> Feature {
        var feature = Feature(name: "amount", kind: .numeric, source: "amount")
        feature.bins = bins
        return feature
    }

    static func row(_ extractor: FeatureExtractor, _ matrix: Matrix, _ row: Int) -> [String: Double] {
        Dictionary(uniqueKeysWithValues: extractor.columns.indices.map { (extractor.columns[$0], matrix[row, $0]) }.filter { $0.1 != 0 })
    }

    static func error(_ spec: FeatureSpec) -> ContractError? {
        do {
            _ = try FeatureExtractor(spec: spec)
            return nil
        } catch {
            return error
        }
    }

    // MARK: Bins

    @Test(arguments: binCases.indices)
    func quantileEdgesAreNumpysLinearQuantilesWithEqualEdgesMerged(index: Int) {
        let fixture = Self.binCases[index]
        let (edges, positions) = FeatureSpec.quantileEdges(fixture.values, quantiles: fixture.quantiles)
        #expect(edges == fixture.edges, "\(fixture.name)")
        #expect(positions == fixture.edge_quantiles, "\(fixture.name)")
    }

    @Test func learntBinsComeFromTheTrainingRowsOnlyAndAreRefusedUnlearnt() throws {
        let fixture = Self.binCases[0]
        let spec = FeatureSpec(name: "bins", features: [Self.binned(.init(quantiles: fixture.quantiles))])
        #expect(spec.needsFitting)
        let refusal = Self.error(spec)
        #expect(refusal != nil)
        #expect(
            refusal?.field == "features[0].bins" && refusal?.reason.contains("'amount'") == true
                && refusal?.reason.contains("spec fit") == true)
        // The training rows, then later rows far above them that must not move an edge.
        var events = try fixture.values.indices.map { try Self.payment($0, amount: fixture.values[$0]) }
        events += try (0..<300).map { try Self.payment(fixture.values.count + $0, amount: 1_000_000) }
        let fitted = try spec.fitted(events: events, rows: Array(fixture.values.indices))
        #expect(!fitted.needsFitting)
        #expect(fitted.features[0].bins == Feature.Bins(quantiles: 10, edges: fixture.edges, edgeQuantiles: fixture.edge_quantiles))
        // The fitted spec reads back as it was written.
        #expect(try FeatureSpec.decode(from: fitted.canonicalJSON) == fitted)

        let extractor = try FeatureExtractor(spec: fitted)
        let edges = fixture.edges
        #expect(extractor.columns.count == edges.count + 2)
        // Names read with six significant digits: 9.322000000000001 is `9.322`.
        #expect(edges[0] == 9.322000000000001 && extractor.columns.first == "amount=<9.322")
        #expect(extractor.columns.dropLast().last == "amount=>=124.185")
        #expect(extractor.columns.last == "amount=unknown")
        // An edge belongs to the bin it opens; below the first, above the last, and missing.
        for (amount, column) in [(edges[3], 4), (edges[3] - 0.001, 3), (0.5, 0), (5e6, edges.count), (nil, edges.count + 1)] {
            let vector = extractor.vector(try Self.payment(0, amount: amount))
            #expect(vector.indices.filter { vector[$0] != 0 } == [column], "amount \(String(describing: amount))")
        }
    }

    @Test func fixedEdgesNeedNoFittingAndBadBinsNameTheMember() throws {
        let extractor = try FeatureExtractor(spec: FeatureSpec(name: "bins", features: [Self.binned(.init(edges: [50, 200]))]))
        #expect(extractor.columns == ["amount=<50", "amount=[50,200)", "amount=>=200", "amount=unknown"])
        #expect(extractor.vector(try Self.payment(0, amount: 50)) == [0, 1, 0, 0])
        #expect(extractor.vector(try Self.payment(0, amount: 200)) == [0, 0, 1, 0])

        var withTransform = Self.binned(.init(edges: [1]))
        withTransform.transform = .log1p
        var onFraudRate = Feature(name: "rate", kind: .fraudRate)
        onFraudRate.key = "customer_id"
        onFraudRate.windowHours = 24
        onFraudRate.includeCurrent = true
        var onNumber = Feature(name: "amount", kind: .numeric, source: "amount")
        onNumber.includeCurrent = true
        let cases: [([Feature], String)] = [
            ([Self.binned(.init(edges: [5, 5]))], "features[0].bins.edges"),
            ([Self.binned(.init())], "features[0].bins"),
            ([Self.binned(.init(quantiles: 1))], "features[0].bins.quantiles"),
            ([Self.binned(.init(edges: [1, 2], edgeQuantiles: [0.5]))], "features[0].bins.edge_quantiles"),
            ([withTransform], "features[0].transform"),
            ([onFraudRate], "features[0].include_current"),
            ([onNumber], "features[0].include_current"),
            ([Self.aggregate("n", .count), Self.ratio("r", against: "n")], "features[1].against"),
            ([Self.aggregate("m", .mean), Self.ratio("r", against: "m", spread: "m")], "features[1].spread"),
            ([Self.ratio("r", against: "later"), Self.aggregate("later", .mean)], "features[0].against"),
        ]
        for (features, field) in cases {
            #expect(Self.error(FeatureSpec(name: "bad", features: features))?.field == field, "\(field)")
        }
    }

    // MARK: Spreads, extremes, the current event, ratios

    /// Customer c1 pays 100, 200, then 600, an hour apart: the third payment is 9 standard
    /// deviations above the usual 150 (spread 50), its log ratio ln(601/151).
    @Test func spreadsExtremesRatiosAndTheCurrentEventByHand() throws {
        let features = [
            Self.aggregate("mean", .mean), Self.aggregate("std", .std), Self.aggregate("min", .min), Self.aggregate("max", .max),
            Self.aggregate("count_now", .count, includeCurrent: true), Self.aggregate("mean_now", .mean, includeCurrent: true),
            Self.aggregate("max_now", .max, includeCurrent: true),
            Self.ratio("vs_usual", against: "mean"), Self.ratio("vs_usual_sd", against: "mean", spread: "std"),
        ]
        let extractor = try FeatureExtractor(spec: FeatureSpec(name: "usual", features: features))
        let events = try [100.0, 200, 600].enumerated().map { try Self.payment($0.offset, amount: $0.element) }
        let matrix = extractor.matrix(events)
        // The first payment: no history, so the mean, spread and extremes read 0 and both ratios are unknown.
        #expect(
            Self.row(extractor, matrix, 0) == [
                "count_now": 1, "mean_now": 100, "max_now": 100, "vs_usual=unknown": 1, "vs_usual_sd=unknown": 1,
            ])
        // The second: one earlier payment, no spread yet.
        #expect(
            Self.row(extractor, matrix, 1) == [
                "mean": 100, "min": 100, "max": 100, "count_now": 2, "mean_now": 150, "max_now": 200,
                "vs_usual": log(201.0 / 101.0), "vs_usual_sd=unknown": 1,
            ])
        let third = Self.row(extractor, matrix, 2)
        #expect(
            third == [
                "mean": 150, "std": 50, "min": 100, "max": 200, "count_now": 3, "mean_now": 300, "max_now": 600,
                "vs_usual": log(601.0 / 151.0), "vs_usual_sd": 9,
            ])
        // Live scoring gives the same rows, and reading without recording (a what-if) counts the
        // current event exactly as recording it does.
        var profiles = extractor.makeProfiles()
        for (index, event) in events.enumerated() {
            let before = profiles.values(for: event)
            let recorded = profiles.record(event)
            #expect(before.elementsEqual(recorded) { $0 == $1 || ($0.isNaN && $1.isNaN) })
            #expect(extractor.vector(event, history: recorded) == (0..<matrix.columns).map { matrix[index, $0] })
        }
    }

    @Test func aRatioCanBeBinnedAndLearnsItsEdgesPointInTime() throws {
        var ratio = Self.ratio("vs_usual", against: "mean")
        ratio.bins = .init(quantiles: 2)
        let spec = FeatureSpec(name: "usual", features: [Self.aggregate("mean", .mean), ratio])
        let events = try [100.0, 200, 600, 50].enumerated().map { try Self.payment($0.offset, amount: $0.element) }
        let fitted = try spec.fitted(events: events, rows: Array(events.indices))
        // Ratios known point in time: ln(201/101), ln(601/151), ln(51/301) (the first is unknown);
        // the median of three is the middle one.
        #expect(fitted.features[1].bins?.edges == [log(201.0 / 101.0)])
        let extractor = try FeatureExtractor(spec: fitted)
        let matrix = extractor.matrix(events)
        // ln(201/101) = 0.688184…
        #expect(
            (0..<4).map { Self.row(extractor, matrix, $0).keys.filter { $0.hasPrefix("vs_usual") } } == [
                ["vs_usual=unknown"], ["vs_usual=>=0.688184"], ["vs_usual=>=0.688184"], ["vs_usual=<0.688184"],
            ])
    }

    @Test func aNumberAndItsBinsShareOneSlotOfHistory() throws {
        let features = [
            Self.aggregate("mean", .mean), Self.aggregate("mean.band", .mean, bins: .init(edges: [150])), Self.aggregate("n", .count),
        ]
        let extractor = try FeatureExtractor(spec: FeatureSpec(name: "shared", features: features))
        #expect(extractor.aggregateCount == 2)
        let events = try [100.0, 200, 600].enumerated().map { try Self.payment($0.offset, amount: $0.element) }
        let matrix = extractor.matrix(events)
        #expect(Self.row(extractor, matrix, 2) == ["mean": 150, "mean.band=>=150": 1, "n": 2])
        #expect(Self.row(extractor, matrix, 0) == ["mean.band=unknown": 1])
    }

    // MARK: Crosses over bins

    @Test func crossesCombineABinWithALevel() throws {
        var payee = Feature(name: "payee.new", kind: .boolean, source: "payee.new")
        payee.description = "new payee"
        var cross = Feature(name: "amount_x_payee", kind: .cross)
        cross.of = ["amount", "payee.new"]
        var busy = Feature(name: "busy_x_payee", kind: .cross)
        busy.of = ["events", "payee.new"]
        let features = [
            Self.binned(.init(edges: [500])), payee, Self.aggregate("events", .count, bins: .init(edges: [1])), cross, busy,
        ]
        let extractor = try FeatureExtractor(spec: FeatureSpec(name: "crosses", features: features))
        let events = try [
            Self.payment(0, amount: 700, extra: #""payee":{"new":true}"#), Self.payment(1, amount: 20, extra: #""payee":{"new":false}"#),
        ]
        let matrix = extractor.matrix(events)
        #expect(
            Set(Self.row(extractor, matrix, 0).keys) == [
                "amount=>=500", "payee.new=true", "events=<1", "amount=>=500&payee.new=true", "events=<1&payee.new=true",
            ])
        #expect(
            Set(Self.row(extractor, matrix, 1).keys) == [
                "amount=<500", "payee.new=false", "events=>=1", "amount=<500&payee.new=false", "events=>=1&payee.new=false",
            ])
        // A binned number is discrete: an unknown amount's completions are its three levels.
        let unknown = try Self.payment(0, amount: nil, extra: #""payee":{"new":true}"#)
        #expect(extractor.completions(under: ["amount"], of: unknown, aggregates: [], limit: 100)?.count == 3)
        let plain = try FeatureExtractor(
            spec: FeatureSpec(name: "plain", features: [Feature(name: "amount", kind: .numeric, source: "amount")]))
        #expect(plain.completions(under: ["amount"], of: unknown, aggregates: [], limit: 100) == nil)
    }
}
