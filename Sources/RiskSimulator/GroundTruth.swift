/// The fraud pattern behind a simulated event.
public enum Scenario: String, Sendable, Codable, CaseIterable {
    case benign
    /// Credentials stolen by malware; the number redirected over SS7 to intercept the SMS code.
    case ss7Interception = "ss7_interception"
    /// The number moved to the fraudster's SIM hours (later: days) before the attack.
    case simSwap = "sim_swap"
    /// Unconditional call forwarding switched on to catch a voice one-time code.
    case callForwarding = "call_forwarding"

    public var isFraud: Bool { self != .benign }
}

/// Why a genuine event looks like fraud: the benign patterns that share its signals.
public enum LookAlike: String, Sendable, Codable, CaseIterable {
    /// Abroad: roaming, a foreign IP, location not verified, foreign location updates.
    case travel
    /// Lost or upgraded phone: a fresh SIM swap or device swap and a new device.
    case phoneReplaced = "phone_replaced"
    /// Unconditional forwarding the customer set up (to an office line or a second phone).
    case forwarding
    /// A genuine first payment to a new beneficiary.
    case newPayee = "new_payee"
    /// Banking between midnight and 6 a.m.
    case nightOwl = "night_owl"
}

/// What really happened behind one simulated event: known to the simulator, never to the engine.
///
/// Written to `truth.csv` beside the events so that demos and notebooks can count fraud that
/// was caught, missed or never labelled.
public struct GroundTruth: Sendable, Hashable {
    public var eventId: String
    public var scenario: Scenario
    public var lookAlike: LookAlike?
    /// Events of one attack share its number; `nil` for genuine events.
    public var attackId: Int?
    /// The event happened after the drift date, when fraudsters had changed tactics.
    public var afterDrift: Bool

    public static let csvHeader = ["event_id", "scenario", "look_alike", "attack_id", "after_drift"]

    public var csvFields: [String] {
        [eventId, scenario.rawValue, lookAlike?.rawValue ?? "", attackId.map(String.init) ?? "", afterDrift ? "true" : "false"]
    }
}
