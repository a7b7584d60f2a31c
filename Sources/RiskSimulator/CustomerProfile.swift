import RiskContract
import RiskFeatures

/// One simulated bank customer: habits, phone and travel, drawn once from the customer's own
/// generator.
struct CustomerProfile: Sendable {
    struct Trip: Sendable {
        var start: Timestamp
        var end: Timestamp
        var country: String
    }

    struct DeviceInfo: Sendable, Hashable {
        var id: String
        var os: String
        var rooted: Bool
    }

    var index: Int
    var id: String
    var homeCountry: String
    var currency: String
    var sessionsPerDay: Double
    var nightOwl: Bool
    var usesVPN: Bool
    var prefersApp: Bool
    var otpChannel: OTPChannel
    /// Conditional forwarding to voicemail, set for the whole period.
    var voicemailForwarding: [CallForwardingService]
    /// A genuine unconditional forwarding (to an office or a second phone) and when it is on.
    var genuineUnconditionalForwarding: (start: Timestamp, end: Timestamp)?
    var primaryDevice: DeviceInfo
    /// Replaces the primary device: a lost phone or an upgrade, with a SIM swap for a lost phone.
    var phoneReplacement: (at: Timestamp, device: DeviceInfo, simSwapped: Bool)?
    var payees: [String]
    var typicalAmount: Double
    /// The customer's operator answers the CAMARA APIs at all.
    var operatorAnswers: Bool
    var trips: [Trip]
    /// SIM swaps before the period (the latest one matters) and those the period adds.
    var simSwaps: [Timestamp]
    var deviceSwaps: [Timestamp]

    static let homeCountries: [(String, Double)] = [("GB", 0.86), ("IE", 0.05), ("FR", 0.03), ("DE", 0.03), ("NL", 0.03)]
    static let travelCountries = ["ES", "FR", "IT", "PT", "US", "GR", "DE", "NL", "TR", "TH", "AE", "IE"]
    static let operatingSystems = ["ios", "android"]
    /// Median of the customers' daily session rates; the mean is this times exp(σ²/2).
    static let sessionsPerDayMedian = 0.6
    static let sessionsPerDaySigma = 0.6

    init(index: Int, configuration: SimulationConfiguration, generator g: inout SeededGenerator) {
        let start = configuration.start
        self.index = index
        id = "cus_" + index.zeroPadded(width: 6)
        homeCountry = g.pick(weighted: Self.homeCountries)
        currency = homeCountry == "GB" ? "GBP" : "EUR"
        sessionsPerDay = min(g.logNormal(median: Self.sessionsPerDayMedian, sigma: Self.sessionsPerDaySigma), 6)
        nightOwl = g.chance(0.06)
        usesVPN = g.chance(0.03)
        prefersApp = g.chance(0.62)
        otpChannel = g.pick(weighted: [(.sms, 0.65), (.app, 0.28), (.voice, 0.07)])
        voicemailForwarding =
            g.chance(0.35)
            ? g.pick([
                [.conditionalNoAnswer], [.conditionalNoAnswer, .conditionalNotReachable],
                [.conditionalBusy, .conditionalNoAnswer, .conditionalNotReachable],
            ])
            : []
        if g.chance(0.03) {
            let on = start.adding(days: g.uniform(-30, Double(configuration.days)))
            genuineUnconditionalForwarding = (on, on.adding(days: g.uniform(1, 60)))
        }
        primaryDevice = DeviceInfo(
            id: "dev_" + index.zeroPadded(width: 6) + "_0", os: g.pick(Self.operatingSystems), rooted: g.chance(0.02))
        payees = (0..<g.integer(2...8)).map { "pay_" + index.zeroPadded(width: 6) + "_\($0)" }
        typicalAmount = g.logNormal(median: 60, sigma: 0.7)
        operatorAnswers = g.chance(0.92)

        trips = []
        if g.chance(0.12) {
            for _ in 0..<g.integer(1...2) {
                let tripStart = start.adding(days: g.uniform(-3, Double(configuration.days)))
                trips.append(Trip(start: tripStart, end: tripStart.adding(days: g.uniform(2, 12)), country: g.pick(Self.travelCountries)))
            }
        }

        // About a third of customers changed SIM at some time in the year before.
        simSwaps = g.chance(0.3) ? [start.adding(days: -g.uniform(1, 400))] : []
        deviceSwaps = g.chance(0.45) ? [start.adding(days: -g.uniform(1, 400))] : []
        if g.chance(0.025) {
            // A lost phone (new SIM and new handset) or an upgrade (new handset, same SIM).
            let at = start.adding(days: g.uniform(0, Double(configuration.days)))
            let lost = g.chance(0.6)
            let device = DeviceInfo(id: "dev_" + index.zeroPadded(width: 6) + "_1", os: g.pick(Self.operatingSystems), rooted: false)
            phoneReplacement = (at, device, lost)
            deviceSwaps.append(at)
            if lost { simSwaps.append(at.adding(hours: -g.uniform(0.5, 20))) }
        }
    }

    func trip(at time: Timestamp) -> Trip? {
        trips.first { $0.start <= time && time < $0.end }
    }

    func device(at time: Timestamp) -> DeviceInfo {
        if let replacement = phoneReplacement, replacement.at <= time { return replacement.device }
        return primaryDevice
    }
}

extension Int {
    /// Decimal digits, left-padded with zeros to `width`.
    func zeroPadded(width: Int) -> String {
        let digits = String(self)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }
}
