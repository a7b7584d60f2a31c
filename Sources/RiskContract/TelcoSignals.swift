/// What the customer's mobile operator says about the phone number at the time of the event,
/// following the CAMARA / GSMA Open Gateway APIs (ARCHITECTURE.md §5.1).
///
/// Each signal is optional: an operator that did not answer leaves it `nil`, which features
/// read as *unknown*.
public struct TelcoSignals: Sendable, Hashable, Encodable {
    /// CAMARA SIM Swap `retrieve-date`.
    public var simSwap: SwapSignal?
    /// CAMARA Device Swap `retrieve-date`.
    public var deviceSwap: SwapSignal?
    /// CAMARA Call Forwarding Signal: the active forwarding services.
    public var callForwarding: [CallForwardingService]?
    /// CAMARA Device Roaming Status.
    public var roaming: RoamingStatus?
    /// CAMARA Device Reachability Status.
    public var reachability: ReachabilityStatus?
    /// CAMARA Location Verification against the bank's expected area.
    public var locationVerification: LocationVerification?
    /// Counters from an SS7 firewall or signalling monitor.
    public var ss7: SS7Signals?
    /// CAMARA Number Recycling: the line's subscriber changed since the customer enrolled
    /// (`customer.enrolled_at`).
    public var numberRecycled: Bool?

    public init(
        simSwap: SwapSignal? = nil, deviceSwap: SwapSignal? = nil, callForwarding: [CallForwardingService]? = nil,
        roaming: RoamingStatus? = nil, reachability: ReachabilityStatus? = nil,
        locationVerification: LocationVerification? = nil, ss7: SS7Signals? = nil, numberRecycled: Bool? = nil
    ) {
        self.numberRecycled = numberRecycled
        self.simSwap = simSwap
        self.deviceSwap = deviceSwap
        self.callForwarding = callForwarding
        self.roaming = roaming
        self.reachability = reachability
        self.locationVerification = locationVerification
        self.ss7 = ss7
    }

    /// The members of `telco`, as the contract names them.
    public static let fieldNames = [
        "sim_swap", "device_swap", "call_forwarding", "roaming", "reachability", "location_verification", "ss7", "number_recycled",
    ]

    /// Reads a `telco` object (`null` is no signal at all) with the contract's rules; errors name
    /// the field under `telco.`.
    public init?(json: JSONValue) throws(ContractError) {
        var source = TreeSource(value: json)
        guard let telco = try Self.read(from: &source) else { return nil }
        self = telco
    }

    static func read<Source: ContractSource>(from source: inout Source) throws(ContractError) -> TelcoSignals? {
        try source.object("telco", TelcoSignals()) { (source, name, telco) throws(ContractError) in
            switch name {
            case "sim_swap": telco.simSwap = try SwapSignal.read(from: &source, path: "telco.sim_swap")
            case "device_swap": telco.deviceSwap = try SwapSignal.read(from: &source, path: "telco.device_swap")
            case "call_forwarding":
                telco.callForwarding = try source.array("telco.call_forwarding") { (source, field) throws(ContractError) in
                    try source.element(field) { (source) throws(ContractError) -> CallForwardingService? in try source.word(field()) }
                }
            case "roaming":
                telco.roaming = try source.object("telco.roaming", RoamingStatus()) { (source, name, roaming) throws(ContractError) in
                    switch name {
                    case "roaming": roaming.roaming = try source.bool("telco.roaming.roaming")
                    case "country_codes":
                        roaming.countryCodes = try source.array("telco.roaming.country_codes") {
                            (source, field) throws(ContractError) in
                            try source.element(field) { (source) throws(ContractError) in try source.countryCode(field()) }
                        }
                    case "last_status_time": roaming.lastStatusTime = try source.timestamp("telco.roaming.last_status_time")
                    default: try source.skip()
                    }
                }
            case "reachability":
                telco.reachability = try source.object("telco.reachability", ReachabilityStatus()) {
                    (source, name, reachability) throws(ContractError) in
                    switch name {
                    case "reachable": reachability.reachable = try source.bool("telco.reachability.reachable")
                    case "connectivity":
                        reachability.connectivity = try source.array("telco.reachability.connectivity") {
                            (source, field) throws(ContractError) in
                            try source.element(field) { (source) throws(ContractError) -> Connectivity? in try source.word(field()) }
                        }
                    default: try source.skip()
                    }
                }
            case "location_verification": telco.locationVerification = try source.word("telco.location_verification")
            case "number_recycled": telco.numberRecycled = try source.bool("telco.number_recycled")
            case "ss7":
                telco.ss7 = try source.object("telco.ss7", SS7Signals()) { (source, name, ss7) throws(ContractError) in
                    switch name {
                    case "foreign_location_updates_24h":
                        ss7.foreignLocationUpdates24h = try source.count("telco.ss7.foreign_location_updates_24h")
                    case "sri_for_sm_requests_24h": ss7.sriForSmRequests24h = try source.count("telco.ss7.sri_for_sm_requests_24h")
                    default: try source.skip()
                    }
                }
            default: try source.skip()
            }
        }
    }

    enum CodingKeys: String, CodingKey {
        case roaming, reachability, ss7
        case simSwap = "sim_swap"
        case deviceSwap = "device_swap"
        case callForwarding = "call_forwarding"
        case locationVerification = "location_verification"
        case numberRecycled = "number_recycled"
    }
}

/// The answer of a SIM Swap or Device Swap `retrieve-date` call.
///
/// `latestChange == nil` is a *known* answer: no swap within `monitoredPeriodDays`. That is why
/// `latest_change` must be present (possibly `null`) whenever the signal is: an absent signal is
/// unknown, a present one with no date is "no swap seen".
public struct SwapSignal: Sendable, Hashable, Encodable {
    public var latestChange: Timestamp?
    public var monitoredPeriodDays: Int?

    public init(latestChange: Timestamp?, monitoredPeriodDays: Int? = nil) {
        self.latestChange = latestChange
        self.monitoredPeriodDays = monitoredPeriodDays
    }

    enum CodingKeys: String, CodingKey {
        case latestChange = "latest_change"
        case monitoredPeriodDays = "monitored_period_days"
    }

    /// `latest_change` must be present, `null` being the answer "no swap seen".
    static func read<Source: ContractSource>(from source: inout Source, path: String) throws(ContractError) -> SwapSignal? {
        var seen = false
        let signal = try source.object(path, SwapSignal(latestChange: nil)) { (source, name, swap) throws(ContractError) in
            switch name {
            case "latest_change":
                seen = true
                swap.latestChange = try source.timestamp(path + ".latest_change")
            case "monitored_period_days": swap.monitoredPeriodDays = try source.count(path + ".monitored_period_days")
            default: try source.skip()
            }
        }
        guard signal == nil || seen else { throw .missingField(field: path + ".latest_change") }
        return signal
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        // Written even when nil: `null` is the operator's "no swap in the monitored period".
        try c.encode(latestChange, forKey: .latestChange)
        try c.encodeIfPresent(monitoredPeriodDays, forKey: .monitoredPeriodDays)
    }
}

/// A call-forwarding service state, as the CAMARA Call Forwarding Signal API names them.
public enum CallForwardingService: String, ContractEnum {
    case inactive, unconditional
    case conditionalBusy = "conditional_busy"
    case conditionalNotReachable = "conditional_not_reachable"
    case conditionalNoAnswer = "conditional_no_answer"
}

/// CAMARA Device Roaming Status.
public struct RoamingStatus: Sendable, Hashable, Encodable {
    public var roaming: Bool?
    /// ISO 3166-1 alpha-2 codes of the visited network(s).
    public var countryCodes: [String]?
    public var lastStatusTime: Timestamp?

    public init(roaming: Bool? = nil, countryCodes: [String]? = nil, lastStatusTime: Timestamp? = nil) {
        self.roaming = roaming
        self.countryCodes = countryCodes
        self.lastStatusTime = lastStatusTime
    }

    enum CodingKeys: String, CodingKey {
        case roaming
        case countryCodes = "country_codes"
        case lastStatusTime = "last_status_time"
    }
}

/// CAMARA Device Reachability Status.
public struct ReachabilityStatus: Sendable, Hashable, Encodable {
    public var reachable: Bool?
    /// How the device is reachable: `DATA`, `SMS`, both, or neither.
    public var connectivity: [Connectivity]?

    public init(reachable: Bool? = nil, connectivity: [Connectivity]? = nil) {
        self.reachable = reachable
        self.connectivity = connectivity
    }
}

public enum Connectivity: String, ContractEnum {
    case data = "DATA"
    case sms = "SMS"
}

/// CAMARA Location Verification's answer.
public enum LocationVerification: String, ContractEnum {
    case verified = "TRUE"
    case notVerified = "FALSE"
    case partial = "PARTIAL"
}

/// Counters from an SS7 firewall or signalling monitor over the 24 hours before the event.
public struct SS7Signals: Sendable, Hashable, Encodable {
    /// UpdateLocation messages for this subscriber from foreign networks.
    public var foreignLocationUpdates24h: Int?
    /// SendRoutingInfoForSM lookups of this number (the first step of SMS interception).
    public var sriForSmRequests24h: Int?

    public init(foreignLocationUpdates24h: Int? = nil, sriForSmRequests24h: Int? = nil) {
        self.foreignLocationUpdates24h = foreignLocationUpdates24h
        self.sriForSmRequests24h = sriForSmRequests24h
    }

    enum CodingKeys: String, CodingKey {
        case foreignLocationUpdates24h = "foreign_location_updates_24h"
        case sriForSmRequests24h = "sri_for_sm_requests_24h"
    }

}
