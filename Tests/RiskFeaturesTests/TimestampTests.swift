import Testing

@testable import RiskContract
import RiskFeatures

@Suite struct TimestampTests {
    // Hand-derived: 2026-03-01 is 20,513 days after 1970-01-01 (56 years incl. 14 leap days,
    // 2026-01-01 = 20,454, plus 31 + 28 days).
    @Test func parsesUTCWithWholeSeconds() throws {
        let t = try #require(Timestamp(rfc3339: "2026-03-01T02:14:07Z"))
        #expect(t.millisecondsSinceEpoch == (20_513 * 86_400 + 2 * 3600 + 14 * 60 + 7) * 1000)
        #expect(t.rfc3339 == "2026-03-01T02:14:07Z")
        #expect(t.hourUTC == 2)
        #expect(t.isoWeekdayUTC == 7)  // a Sunday
    }

    @Test func parsesOffsetsAndFractions() throws {
        let t = try #require(Timestamp(rfc3339: "2026-03-01T03:14:07.25+01:00"))
        #expect(t.rfc3339 == "2026-03-01T02:14:07.250Z")
        let u = try #require(Timestamp(rfc3339: "1969-12-31t23:59:59.9999-00:30"))
        #expect(u.millisecondsSinceEpoch == 30 * 60 * 1000 - 1 - 0)
        #expect(Timestamp(rfc3339: "2024-02-29 00:00:00z") != nil)
    }

    @Test(arguments: [
        "", "2026-03-01", "2026-03-01T02:14Z", "2026-13-01T00:00:00Z", "2025-02-29T00:00:00Z",
        "2026-03-01T24:00:00Z", "2026-03-01T02:14:07", "2026-03-01T02:14:07.Z", "2026-03-01T02:14:07+0100",
        "2026-03-01T02:14:07Z ", "２026-03-01T02:14:07Z",
    ])
    func rejectsNonRFC3339(text: String) {
        #expect(Timestamp(rfc3339: text) == nil)
    }

    @Test func formatsNegativeAndLeapDays() {
        #expect(Timestamp(millisecondsSinceEpoch: -1).rfc3339 == "1969-12-31T23:59:59.999Z")
        #expect(Timestamp(year: 2000, month: 2, day: 29)?.rfc3339 == "2000-02-29T00:00:00Z")
        #expect(Timestamp(year: 2100, month: 2, day: 29) == nil)
    }
}
