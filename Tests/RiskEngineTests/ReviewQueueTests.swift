import Foundation
import RiskContract
import RiskStore
import Testing

@testable import RiskEngine

@Suite struct ReviewQueueTests {
    static func event(_ id: String, amount: Double?, channel: String?, device: String?, payee: String? = nil) throws -> Event {
        var fields = [#""id":"\#(id)""#, #""occurred_at":"2026-03-01T10:00:00Z""#, #""customer_id":"c1""#, #""kind":"payment""#]
        if let amount { fields.append(#""amount":\#(amount)"#) }
        if let channel { fields.append(#""channel":"\#(channel)""#) }
        if let device { fields.append(#""device":{"id":"\#(device)"}"#) }
        if let payee { fields.append(#""payee":{"id":"\#(payee)"}"#) }
        return try Event.decode(jsonLine: Array(("{" + fields.joined(separator: ",") + "}").utf8))
    }

    /// Amounts 10, 20, 30, 40, 100: median 30; p90 at position 0.9 × 4 = 3.6, so
    /// 40 + 0.6 × (100 − 40) = 76 (numpy.quantile's default, linear); 4 of 5 below 50.
    @Test func usualBehaviourIsTheCustomersHistoryBesideTheEvent() throws {
        let history = [
            try Self.event("h1", amount: 40, channel: "app", device: "d1", payee: "p1"),
            try Self.event("h2", amount: 10, channel: "web", device: "d2", payee: "p1"),
            try Self.event("h3", amount: 100, channel: "app", device: "d1"),
            try Self.event("h4", amount: nil, channel: "web", device: nil),
            try Self.event("h5", amount: 30, channel: "app", device: nil),
            try Self.event("h6", amount: 20, channel: nil, device: nil),
        ]
        let usual = UsualBehaviour(days: 30, history: history, event: try Self.event("now", amount: 50, channel: "phone", device: "d1"))
        #expect(usual.events == 6)
        #expect(usual.amount.count == 5 && usual.amount.median == 30 && usual.amount.max == 100 && usual.amount.this == 50)
        #expect(abs(try #require(usual.amount.p90) - 76) < 1e-12)
        #expect(usual.amount.shareBelow == 0.8)
        #expect(usual.channels == [.init(value: "app", count: 3), .init(value: "web", count: 2)])
        #expect(usual.devices == [.init(value: "d1", count: 2), .init(value: "d2", count: 1)])
        #expect(usual.payees == [.init(value: "p1", count: 2)])
        #expect(usual.seenBefore == .init(channel: false, device: true, payee: nil))
    }

    /// The demo's days to a fraud label count a never-labelled event as infinitely late.
    @Test func aQuantileOnAValueIgnoresAnInfiniteNeighbour() {
        #expect(UsualBehaviour.quantile([1, 2, .infinity], 0.5) == 2)
        #expect(UsualBehaviour.quantile([1, 3, .infinity, .infinity], 0.5) == .infinity)
        #expect(UsualBehaviour.quantile([1, 3, 5, .infinity], 0.5) == 4)
    }

    @Test func withoutHistoryNothingIsUsual() throws {
        let usual = UsualBehaviour(days: 30, history: [], event: try Self.event("now", amount: 50, channel: "app", device: nil))
        #expect(usual.events == 0 && usual.amount.median == nil && usual.amount.p90 == nil && usual.amount.shareBelow == nil)
        #expect(usual.seenBefore == .init(channel: false, device: nil, payee: nil))
    }
}
