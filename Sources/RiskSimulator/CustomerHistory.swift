import Foundation
import RiskContract
import RiskFeatures

/// Builds one customer's events over the period, genuine sessions and attacks interleaved in
/// time order, so that "new device" and "new payee" mean new *at that moment*.
struct CustomerHistory {
    /// An event before ids are assigned, with what really happened and the labels it will get.
    struct Draft: Sendable {
        var event: Event
        var customerIndex: Int
        var sequence: Int
        var scenario: Scenario
        var lookAlike: LookAlike?
        var attackNumber: Int?
        var afterDrift: Bool
        var labels: [(outcome: Outcome, reportedAt: Timestamp, source: String)]
    }

    private enum Planned {
        case genuine(Timestamp)
        case attack(Attack)
    }

    struct Attack {
        var scenario: Scenario
        var at: Timestamp
        var afterDrift: Bool
        var number: Int
    }

    /// Events of a genuine session, on average; sets the attack rate that meets the fraud rate.
    static let meanGenuineEventsPerSession = 1.87
    static let eventsPerAttack = 4.0
    static let monitoredPeriodDays = 90
    static let attackerCountries = ["NG", "RU", "MY", "AE", "UA", "BR", "ID", "RO"]

    private var profile: CustomerProfile
    private let configuration: SimulationConfiguration
    private var g: SeededGenerator
    private var seenDevices: Set<String> = []
    private var newPayeeCount = 0
    private var attackerForwarding: [(start: Timestamp, end: Timestamp)] = []
    private(set) var drafts: [Draft] = []

    init(index: Int, configuration: SimulationConfiguration) {
        self.configuration = configuration
        var generator = SeededGenerator(seed: configuration.seed, stream: UInt64(index) + 1)
        profile = CustomerProfile(index: index, configuration: configuration, generator: &generator)
        g = generator
        seenDevices = [profile.primaryDevice.id]
    }

    /// Generates the customer's whole history.
    mutating func generate() -> [Draft] {
        var plan: [(Timestamp, Planned)] = []
        let start = configuration.start
        for day in 0..<configuration.days {
            let midnight = start.adding(days: Double(day))
            for _ in 0..<g.poisson(mean: profile.sessionsPerDay) {
                let hour = genuineHour()
                let at = midnight.adding(milliseconds: Int64(hour * 3600 + g.integer(0...3599)) * 1000)
                plan.append((at, .genuine(at)))
            }
        }
        for (number, attack) in plannedAttacks().enumerated() {
            var attack = attack
            attack.number = number
            plan.append((attack.at, .attack(attack)))
        }
        plan.sort { $0.0 < $1.0 }
        for (_, item) in plan {
            switch item {
            case .genuine(let at): genuineSession(at: at)
            case .attack(let attack): attackSession(attack)
            }
        }
        // A session that began just before the end can run past it; the period is a hard boundary.
        let end = configuration.end
        return drafts.filter { $0.event.occurredAt < end }
    }

    // MARK: Genuine behaviour

    private mutating func genuineHour() -> Int {
        if profile.nightOwl, g.chance(0.4) { return g.integer(0...5) }
        return g.pick(weighted: [
            (6, 0.02), (7, 0.05), (8, 0.07), (9, 0.07), (10, 0.07), (11, 0.07), (12, 0.09), (13, 0.08), (14, 0.06),
            (15, 0.06), (16, 0.06), (17, 0.07), (18, 0.07), (19, 0.08), (20, 0.08), (21, 0.06), (22, 0.04), (23, 0.02),
            (0, 0.005), (1, 0.003), (2, 0.002), (5, 0.004),
        ])
    }

    private mutating func genuineSession(at start: Timestamp) {
        var at = start
        let device = sessionDevice(at: at)
        let channel: Channel =
            g.chance(0.04) ? .phone : g.chance(0.01) ? .branch : (profile.prefersApp == g.chance(0.9) ? .app : .web)
        let step: (inout SeededGenerator) -> Double = { $0.uniform(15, 150) / 3600 }
        let roll = g.unit()
        func context(_ kind: EventKind) -> SessionContext {
            SessionContext(kind: kind, at: at, device: device, channel: channel)
        }
        emitGenuine(context(.login))
        if roll < 0.40 { return }
        at = at.adding(hours: step(&g))
        if roll < 0.75 {
            let amount = cents(g.logNormal(median: profile.typicalAmount, sigma: 0.8))
            if amount > 250 {
                emitGenuine(context(.otpRequest))
                at = at.adding(hours: step(&g))
            }
            emitGenuine(context(.payment), amount: amount, payee: (g.pick(profile.payees), false))
        } else if roll < 0.84 {
            newPayeeCount += 1
            let payee = "pay_" + profile.index.zeroPadded(width: 6) + "_n\(newPayeeCount)"
            emitGenuine(context(.payeeAdded), payee: (payee, true))
            at = at.adding(hours: step(&g))
            emitGenuine(context(.otpRequest))
            at = at.adding(hours: step(&g))
            let amount = cents(g.logNormal(median: profile.typicalAmount * 2.5, sigma: 0.9))
            emitGenuine(context(.payment), amount: amount, payee: (payee, true))
            profile.payees.append(payee)
        } else if roll < 0.88 {
            emitGenuine(context(.otpRequest))
            at = at.adding(hours: step(&g))
            emitGenuine(context(.profileChange))
        } else {
            emitGenuine(
                context(.payment), amount: cents(g.logNormal(median: profile.typicalAmount, sigma: 0.6)),
                payee: (g.pick(profile.payees), false))
        }
    }

    private struct SessionContext {
        var kind: EventKind
        var at: Timestamp
        var device: CustomerProfile.DeviceInfo
        var channel: Channel
    }

    private mutating func sessionDevice(at time: Timestamp) -> CustomerProfile.DeviceInfo {
        // Now and then a genuine customer logs in from a browser or a borrowed device.
        if g.chance(0.02) {
            return .init(id: "dev_" + profile.index.zeroPadded(width: 6) + "_b\(g.integer(0...3))", os: "web", rooted: false)
        }
        return profile.device(at: time)
    }

    private mutating func emitGenuine(_ session: SessionContext, amount: Double? = nil, payee: (String, Bool)? = nil) {
        let at = session.at
        let trip = profile.trip(at: at)
        let newDevice = !seenDevices.contains(session.device.id)
        seenDevices.insert(session.device.id)
        var event = Event(id: "", occurredAt: at, customerId: profile.id, kind: session.kind)
        event.channel = session.channel
        if session.channel != .branch {
            event.device = Device(id: session.device.id, newForCustomer: newDevice, os: session.device.os, rooted: session.device.rooted)
            event.ip = IPContext(country: trip?.country ?? profile.homeCountry, hosting: profile.usesVPN || g.chance(0.004))
        }
        if let amount {
            event.amount = amount
            event.currency = profile.currency
        }
        if let (payeeId, isNew) = payee { event.payee = Payee(id: payeeId, new: isNew) }
        if session.kind == .otpRequest || session.kind == .payment { event.otp = OTPContext(channel: profile.otpChannel) }
        event.telco = telco(at: at, trip: trip)

        let lookAlike: LookAlike? =
            if trip != nil {
                .travel
            } else if let replacement = profile.phoneReplacement, replacement.at <= at, at < replacement.at.adding(days: 3) {
                .phoneReplaced
            } else if forwardingUnconditional(at: at) { .forwarding } else if payee?.1 == true { .newPayee } else if at.hourUTC < 6 {
                .nightOwl
            } else { nil }

        var labels: [(Outcome, Timestamp, String)] = []
        if session.kind == .payment, lookAlike != nil, g.chance(0.03) {
            // An analyst suspects a look-alike; the customer later confirms it was genuine.
            let suspected = at.adding(days: g.uniform(0.05, 1))
            labels.append((.fraud, suspected, "analyst"))
            labels.append((.genuine, suspected.adding(days: g.uniform(1, 5)), "confirmed_genuine"))
        } else if g.chance(configuration.genuineConfirmationRate) {
            labels.append((.genuine, at.adding(days: g.uniform(0.1, 3)), "confirmed_genuine"))
        }
        append(event, scenario: .benign, lookAlike: lookAlike, attack: nil, labels: labels)
    }

    // MARK: Attacks

    private mutating func plannedAttacks() -> [Attack] {
        let rate = configuration.fraudRate
        guard rate > 0 else { return [] }
        let meanSessions =
            CustomerProfile.sessionsPerDayMedian
            * exp(CustomerProfile.sessionsPerDaySigma * CustomerProfile.sessionsPerDaySigma / 2)
        let genuineEvents = Double(configuration.days) * meanSessions * Self.meanGenuineEventsPerSession
        let attacksPerCustomer = rate / (1 - rate) * genuineEvents / Self.eventsPerAttack
        return (0..<g.poisson(mean: attacksPerCustomer)).map { _ in
            let day = configuration.start.adding(days: Double(g.integer(0...(configuration.days - 1))))
            let provisional = day.adding(hours: 12)
            let afterDrift = configuration.driftAt.map { provisional >= $0 } ?? false
            let scenario: Scenario = g.pick(weighted: [(.ss7Interception, 0.4), (.simSwap, 0.35), (.callForwarding, 0.25)])
            // Before the drift, fraudsters strike at night; after it, in office hours.
            let hour = afterDrift ? g.integer(9...17) : (g.chance(0.8) ? g.integer(0...4) : g.integer(19...23))
            let at = day.adding(milliseconds: Int64(hour * 3600 + g.integer(0...3599)) * 1000)
            return Attack(scenario: scenario, at: at, afterDrift: afterDrift, number: 0)
        }
    }

    private mutating func attackSession(_ attack: Attack) {
        let drifted = attack.afterDrift
        var at = attack.at
        let attackerDevice = CustomerProfile.DeviceInfo(
            id: "dev_x" + profile.index.zeroPadded(width: 6) + "_\(attack.number)", os: g.pick(["android", "android", "ios", "web"]),
            rooted: g.chance(0.3))
        let usesNewDevice = attack.scenario != .callForwarding || g.chance(drifted ? 0.4 : 0.6)
        let device = usesNewDevice ? attackerDevice : profile.device(at: at)
        let attackerCountry = g.pick(Self.attackerCountries)
        let foreignIP = drifted ? g.chance(0.2) : g.chance(attack.scenario == .ss7Interception ? 0.6 : 0.35)
        let ipCountry = foreignIP ? attackerCountry : profile.homeCountry
        let hosting = g.chance(drifted ? 0.2 : 0.5)
        let channel: Channel = g.chance(0.7) ? .web : .app
        let amount = cents(
            drifted
                ? min(g.logNormal(median: max(profile.typicalAmount * 2.5, 120), sigma: 0.4), 480)
                : min(max(g.logNormal(median: profile.typicalAmount * 8, sigma: 0.5), 500), 9_500))
        let otpChannel: OTPChannel = attack.scenario == .callForwarding ? .voice : .sms

        switch attack.scenario {
        case .simSwap:
            let hoursBefore = drifted ? g.uniform(26, 96) : g.uniform(0.5, 12)
            profile.simSwaps.append(at.adding(hours: -hoursBefore))
            if g.chance(drifted ? 0.4 : 0.8) { profile.deviceSwaps.append(at.adding(hours: -hoursBefore)) }
            // The victim notices the dead phone and gets the number back: another swap.
            profile.simSwaps.append(at.adding(hours: g.uniform(6, 48)))
        case .callForwarding:
            attackerForwarding.append((at.adding(hours: -g.uniform(0.2, 3)), at.adding(hours: g.uniform(12, 48))))
        case .ss7Interception, .benign:
            break
        }
        var ss7Override: (TelcoSignals) -> TelcoSignals = { $0 }
        if attack.scenario == .ss7Interception {
            let roamingFlag = !drifted && g.chance(0.85)
            let foreignUpdates = drifted ? g.integer(0...1) : g.integer(1...3)
            let sriLookups = drifted ? g.integer(2...8) : g.integer(4...15)
            let smsReachable = g.chance(drifted ? 0.7 : 0.4)
            let location: LocationVerification =
                drifted
                ? g.pick(weighted: [(.verified, 0.4), (.partial, 0.4), (.notVerified, 0.2)])
                : g.pick(weighted: [(.verified, 0.1), (.partial, 0.2), (.notVerified, 0.7)])
            ss7Override = { telco in
                var telco = telco
                telco.roaming = RoamingStatus(
                    roaming: roamingFlag, countryCodes: roamingFlag ? [attackerCountry] : [],
                    lastStatusTime: at.adding(hours: -1).truncatedToSecond)
                telco.ss7 = SS7Signals(foreignLocationUpdates24h: foreignUpdates, sriForSmRequests24h: sriLookups)
                telco.reachability = ReachabilityStatus(reachable: true, connectivity: smsReachable ? [.data, .sms] : [.data])
                telco.locationVerification = location
                return telco
            }
        }

        let payee = Payee(id: "pay_x" + profile.index.zeroPadded(width: 6) + "_\(attack.number)", new: true)
        let kinds: [EventKind] = [.login, .payeeAdded, .otpRequest, .payment]
        let reported = attackReport(at: at)
        for kind in kinds {
            let newDevice = !seenDevices.contains(device.id)
            seenDevices.insert(device.id)
            var event = Event(id: "", occurredAt: at, customerId: profile.id, kind: kind, channel: channel)
            event.device = Device(id: device.id, newForCustomer: newDevice, os: device.os, rooted: device.rooted)
            event.ip = IPContext(country: ipCountry, hosting: hosting)
            if kind == .payeeAdded || kind == .payment { event.payee = payee }
            if kind == .payment {
                event.amount = amount
                event.currency = profile.currency
            }
            if kind == .otpRequest || kind == .payment { event.otp = OTPContext(channel: otpChannel) }
            event.telco = telco(at: at, trip: profile.trip(at: at)).map(ss7Override)
            append(event, scenario: attack.scenario, lookAlike: nil, attack: attack, labels: reported.map { [$0] } ?? [])
            at = at.adding(hours: g.uniform(20, 240) / 3600)
        }
    }

    /// When and how the victim reports the attack; `nil` when nobody ever does.
    private mutating func attackReport(at: Timestamp) -> (Outcome, Timestamp, String)? {
        guard !g.chance(configuration.unreportedFraudRate) else { return nil }
        if g.chance(0.7) {
            let delayDays = max(g.logNormal(median: 2, sigma: 0.6), 4.0 / 24)
            return (.fraud, at.adding(days: delayDays), "customer_report")
        }
        return (.fraud, at.adding(days: g.uniform(14, 45)), "chargeback")
    }

    // MARK: Signals

    private func forwardingUnconditional(at time: Timestamp) -> Bool {
        if let window = profile.genuineUnconditionalForwarding, window.start <= time, time < window.end { return true }
        return attackerForwarding.contains { $0.start <= time && time < $0.end }
    }

    /// What the operator answers at `time`; `nil` when the operator does not take part.
    private mutating func telco(at time: Timestamp, trip: CustomerProfile.Trip?) -> TelcoSignals? {
        guard profile.operatorAnswers else { return nil }
        func latest(_ swaps: [Timestamp]) -> SwapSignal {
            let monitoredFrom = time.adding(days: -Double(Self.monitoredPeriodDays))
            let last = swaps.filter { $0 <= time }.max()
            return SwapSignal(
                latestChange: last.flatMap { $0 >= monitoredFrom ? $0.truncatedToSecond : nil },
                monitoredPeriodDays: Self.monitoredPeriodDays)
        }
        var telco = TelcoSignals()
        // Each API call can fail on its own: the signal is then unknown.
        let answered = { (g: inout SeededGenerator) in !g.chance(0.03) }
        if answered(&g) { telco.simSwap = latest(profile.simSwaps) }
        if answered(&g) { telco.deviceSwap = latest(profile.deviceSwaps) }
        if answered(&g) {
            var services = profile.voicemailForwarding
            if forwardingUnconditional(at: time) { services.insert(.unconditional, at: 0) }
            telco.callForwarding = services.isEmpty ? [.inactive] : services
        }
        if answered(&g) {
            telco.roaming = RoamingStatus(
                roaming: trip != nil, countryCodes: trip.map { [$0.country] } ?? [],
                lastStatusTime: time.adding(hours: -g.uniform(0, 6)).truncatedToSecond)
        }
        if answered(&g) {
            // Abroad, some customers switch SMS off or have data-only roaming.
            let smsReachable = trip == nil ? !g.chance(0.01) : !g.chance(0.25)
            telco.reachability = ReachabilityStatus(reachable: true, connectivity: smsReachable ? [.data, .sms] : [.data])
        }
        if answered(&g) {
            telco.locationVerification =
                trip != nil
                ? g.pick(weighted: [(.notVerified, 0.85), (.partial, 0.15)])
                : g.pick(weighted: [(.verified, 0.9), (.partial, 0.08), (.notVerified, 0.02)])
        }
        if answered(&g) {
            // A trip that began within a day shows up as location updates from a foreign network;
            // ordinary SMS delivery makes a few SRI-for-SM lookups.
            let arrivedRecently = trip.map { time < $0.start.adding(days: 1) } ?? false
            telco.ss7 = SS7Signals(
                foreignLocationUpdates24h: arrivedRecently ? g.integer(1...2) : (trip != nil && g.chance(0.2) ? 1 : 0),
                sriForSmRequests24h: min(g.poisson(mean: 1.2), 9))
        }
        return telco
    }

    // MARK: Output

    private mutating func append(
        _ event: Event, scenario: Scenario, lookAlike: LookAlike?, attack: Attack?,
        labels: [(Outcome, Timestamp, String)]
    ) {
        var event = event
        event.occurredAt = event.occurredAt.truncatedToSecond
        let afterDrift = configuration.driftAt.map { event.occurredAt >= $0 } ?? false
        drafts.append(
            Draft(
                event: event, customerIndex: profile.index, sequence: drafts.count, scenario: scenario, lookAlike: lookAlike,
                attackNumber: attack?.number, afterDrift: afterDrift,
                labels: labels.map { (outcome: $0.0, reportedAt: $0.1.truncatedToSecond, source: $0.2) }))
    }

    private func cents(_ amount: Double) -> Double { max((amount * 100).rounded() / 100, 0.01) }
}
