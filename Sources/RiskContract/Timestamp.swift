/// An instant, in whole milliseconds since 1970-01-01T00:00:00Z, read from and written as RFC 3339.
///
/// Events, labels and telco signals carry RFC 3339 timestamps (`2026-03-01T02:14:07Z`,
/// `2026-03-01T03:14:07.250+01:00`). Parsing is strict: a full date, `T` (or `t`, or a space, as
/// RFC 3339 §5.6 allows), a full time, optional fractional seconds (kept to the millisecond,
/// truncated) and a `Z` or `±hh:mm` offset. Formatting always writes UTC with `Z`, adding
/// `.mmm` only when the milliseconds are not zero, so a parsed UTC timestamp with whole
/// seconds is written back byte for byte.
///
/// ```swift
/// let t = try Timestamp(rfc3339: "2026-03-01T02:14:07Z")
/// t.rfc3339           // "2026-03-01T02:14:07Z"
/// t.adding(hours: 3)  // 05:14:07Z
/// ```
public struct Timestamp: Sendable, Hashable, Comparable {
    public var millisecondsSinceEpoch: Int64

    public static let millisecondsPerSecond: Int64 = 1000
    public static let millisecondsPerHour: Int64 = 3_600_000
    public static let millisecondsPerDay: Int64 = 86_400_000

    public init(millisecondsSinceEpoch: Int64) {
        self.millisecondsSinceEpoch = millisecondsSinceEpoch
    }

    /// Parses an RFC 3339 date-time; `nil` if `text` is not one.
    public init?(rfc3339 text: String) {
        var text = text
        guard let parsed = text.withUTF8({ Self.parse($0) }) else { return nil }
        self = parsed
    }

    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool {
        lhs.millisecondsSinceEpoch < rhs.millisecondsSinceEpoch
    }

    /// This instant moved by `milliseconds` (negative moves back).
    public func adding(milliseconds: Int64) -> Timestamp {
        Timestamp(millisecondsSinceEpoch: millisecondsSinceEpoch + milliseconds)
    }

    public func adding(hours: Double) -> Timestamp {
        adding(milliseconds: Int64((hours * Double(Self.millisecondsPerHour)).rounded()))
    }

    public func adding(days: Double) -> Timestamp {
        adding(milliseconds: Int64((days * Double(Self.millisecondsPerDay)).rounded()))
    }

    /// This instant without its milliseconds (rounded down).
    public var truncatedToSecond: Timestamp {
        Timestamp(millisecondsSinceEpoch: millisecondsSinceEpoch - millisecondsSinceEpoch.floorModulo(Self.millisecondsPerSecond))
    }

    /// Midnight UTC of this instant's day.
    public var startOfDayUTC: Timestamp {
        let day = millisecondsSinceEpoch.floorDivided(by: Self.millisecondsPerDay)
        return Timestamp(millisecondsSinceEpoch: day * Self.millisecondsPerDay)
    }

    /// The hour of day in UTC, 0–23.
    public var hourUTC: Int {
        Int(millisecondsSinceEpoch.floorModulo(Self.millisecondsPerDay) / Self.millisecondsPerHour)
    }

    /// The ISO day of week in UTC: 1 = Monday … 7 = Sunday.
    public var isoWeekdayUTC: Int {
        // 1970-01-01 was a Thursday (ISO 4).
        let day = millisecondsSinceEpoch.floorDivided(by: Self.millisecondsPerDay)
        return Int((day + 3).floorModulo(7)) + 1
    }

    /// The instant as RFC 3339 in UTC (`Z`), with `.mmm` only when needed.
    public var rfc3339: String {
        let day = millisecondsSinceEpoch.floorDivided(by: Self.millisecondsPerDay)
        let msOfDay = millisecondsSinceEpoch.floorModulo(Self.millisecondsPerDay)
        let (year, month, dayOfMonth) = Self.civilDate(daysSinceEpoch: day)
        let seconds = msOfDay / Self.millisecondsPerSecond
        let milliseconds = msOfDay % Self.millisecondsPerSecond
        var bytes: [UInt8] = []
        bytes.reserveCapacity(24)
        func append(_ value: Int64, digits: Int) {
            var divisor: Int64 = 1
            for _ in 1..<digits { divisor *= 10 }
            var rest = value
            while divisor > 0 {
                bytes.append(UInt8(ascii: "0") + UInt8(rest / divisor))
                rest %= divisor
                divisor /= 10
            }
        }
        append(year, digits: 4)
        bytes.append(UInt8(ascii: "-"))
        append(month, digits: 2)
        bytes.append(UInt8(ascii: "-"))
        append(dayOfMonth, digits: 2)
        bytes.append(UInt8(ascii: "T"))
        append(seconds / 3600, digits: 2)
        bytes.append(UInt8(ascii: ":"))
        append(seconds / 60 % 60, digits: 2)
        bytes.append(UInt8(ascii: ":"))
        append(seconds % 60, digits: 2)
        if milliseconds != 0 {
            bytes.append(UInt8(ascii: "."))
            append(milliseconds, digits: 3)
        }
        bytes.append(UInt8(ascii: "Z"))
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The UTC instant of a civil date and time; `nil` when a part is out of range.
    public init?(year: Int, month: Int, day: Int, hour: Int = 0, minute: Int = 0, second: Int = 0) {
        guard (1...9999).contains(year), (1...12).contains(month),
            (1...Self.daysIn(month: month, year: year)).contains(day),
            (0...23).contains(hour), (0...59).contains(minute), (0...59).contains(second)
        else { return nil }
        let days = Self.daysSinceEpoch(year: Int64(year), month: Int64(month), day: Int64(day))
        let seconds = days * 86_400 + Int64(hour * 3600 + minute * 60 + second)
        self.init(millisecondsSinceEpoch: seconds * Self.millisecondsPerSecond)
    }

    static func parse(_ s: UnsafeBufferPointer<UInt8>) -> Timestamp? {
        var index = 0
        func digits(_ count: Int) -> Int? {
            guard index + count <= s.count else { return nil }
            var value = 0
            for offset in 0..<count {
                let byte = s[index + offset]
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
            }
            index += count
            return value
        }
        func expect(_ allowed: UInt8...) -> Bool {
            guard index < s.count, allowed.contains(s[index]) else { return false }
            index += 1
            return true
        }
        guard let year = digits(4), expect(UInt8(ascii: "-")), let month = digits(2), expect(UInt8(ascii: "-")),
            let day = digits(2), expect(UInt8(ascii: "T"), UInt8(ascii: "t"), UInt8(ascii: " ")),
            let hour = digits(2), expect(UInt8(ascii: ":")), let minute = digits(2), expect(UInt8(ascii: ":")),
            var second = digits(2)
        else { return nil }
        // A leap second is accepted and folded onto the last second of its minute.
        if second == 60 { second = 59 }
        var milliseconds = 0
        if index < s.count, s[index] == UInt8(ascii: ".") {
            index += 1
            var fractionDigits = 0
            while index < s.count, s[index] >= UInt8(ascii: "0"), s[index] <= UInt8(ascii: "9") {
                if fractionDigits < 3 { milliseconds = milliseconds * 10 + Int(s[index] - UInt8(ascii: "0")) }
                fractionDigits += 1
                index += 1
            }
            guard fractionDigits > 0 else { return nil }
            for _ in fractionDigits..<max(fractionDigits, 3) { milliseconds *= 10 }
        }
        var offsetMinutes = 0
        if expect(UInt8(ascii: "Z"), UInt8(ascii: "z")) {
            offsetMinutes = 0
        } else if index < s.count, s[index] == UInt8(ascii: "+") || s[index] == UInt8(ascii: "-") {
            let sign = s[index] == UInt8(ascii: "-") ? -1 : 1
            index += 1
            guard let offsetHours = digits(2), expect(UInt8(ascii: ":")), let offsetMins = digits(2),
                offsetHours <= 23, offsetMins <= 59
            else { return nil }
            offsetMinutes = sign * (offsetHours * 60 + offsetMins)
        } else {
            return nil
        }
        guard index == s.count,
            let local = Timestamp(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
        else { return nil }
        let offset = Int64(offsetMinutes) * 60 * millisecondsPerSecond
        return Timestamp(millisecondsSinceEpoch: local.millisecondsSinceEpoch + Int64(milliseconds) - offset)
    }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    // Days between 1970-01-01 and a proleptic Gregorian date (H. Hinnant's days_from_civil).
    private static func daysSinceEpoch(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = y.floorDivided(by: 400)
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    // The inverse of `daysSinceEpoch` (H. Hinnant's civil_from_days).
    private static func civilDate(daysSinceEpoch: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = daysSinceEpoch + 719_468
        let era = z.floorDivided(by: 146_097)
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}

extension Timestamp: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let parsed = Timestamp(rfc3339: text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not an RFC 3339 date-time: \"\(text)\"")
        }
        self = parsed
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rfc3339)
    }
}

extension Timestamp: CustomStringConvertible {
    public var description: String { rfc3339 }
}

extension Int64 {
    fileprivate func floorDivided(by divisor: Int64) -> Int64 {
        let quotient = self / divisor
        return (self % divisor != 0 && (self < 0) != (divisor < 0)) ? quotient - 1 : quotient
    }

    fileprivate func floorModulo(_ divisor: Int64) -> Int64 {
        self - floorDivided(by: divisor) * divisor
    }
}
