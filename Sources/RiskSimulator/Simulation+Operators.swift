import Foundation
import RiskContract
import RiskFeatures

/// The simulated bank's customers as a mobile operator knows them: a phone number each, the day
/// they enrolled with the bank, and the operator's view of their lines (what a CAMARA operator
/// would answer at each event), for `riskloop operator-stub --truth` and `riskloop demo --operators`.
extension Simulation {
    public static let operatorViewFileName = "operator-view.jsonl"

    /// The customer's line: `+447700` and the six digits of the customer's number (`cus_000123` →
    /// `+447700000123`), so every customer of a simulation has its own.
    public static func phoneNumber(of customerId: String) -> String {
        "+447700" + String(customerId.suffix(6))
    }

    /// When the customer enrolled with the bank: 30 to 1,530 days before the simulation starts, by
    /// a hash of the id (the same in every run).
    public func enrolledAt(of customerId: String) -> Timestamp {
        configuration.start.adding(days: -30 - Double(FNV1a.hash(customerId) % 1_500))
    }

    /// `event` as the bank sends it to a server that asks the operators: the customer's line and
    /// enrolment, and no `telco` object (every operator signal is to be asked for).
    public func withoutTelco(_ event: Event) -> Event {
        var sent = withCustomer(event)
        sent.telco = nil
        return sent
    }

    /// `event` with the customer's line and enrolment.
    public func withCustomer(_ event: Event) -> Event {
        var sent = event
        sent.customer = CustomerContext(phoneNumber: Self.phoneNumber(of: event.customerId), enrolledAt: enrolledAt(of: event.customerId))
        return sent
    }

    /// One observation of a line at an event: what its operator answers then.
    struct Observation: Encodable {
        var phoneNumber: String
        var at: Timestamp
        var telco: TelcoSignals
        /// The line's subscriber since before the customer enrolled: no recycled numbers here.
        var subscriberSince: Timestamp

        enum CodingKeys: String, CodingKey {
            case at, telco
            case phoneNumber = "phone_number"
            case subscriberSince = "subscriber_since"
        }
    }

    /// The operator's view, one JSON line per event whose customer's operator answers: the
    /// signals the event carries that a CAMARA API serves (SIM swap, device swap, call
    /// forwarding, roaming, reachability), as of the event's time. A signal the event lacks (the
    /// operator failed to answer it) is one the operator answers `422 SERVICE_NOT_APPLICABLE`
    /// then; a customer whose operator takes no part has no line (`404`).
    public var operatorView: [[UInt8]] {
        events.compactMap { event in
            guard let telco = event.telco else { return nil }
            let served = TelcoSignals(
                simSwap: telco.simSwap, deviceSwap: telco.deviceSwap, callForwarding: telco.callForwarding, roaming: telco.roaming,
                reachability: telco.reachability)
            return JSONLine.encode(
                Observation(
                    phoneNumber: Self.phoneNumber(of: event.customerId), at: event.occurredAt, telco: served,
                    subscriberSince: enrolledAt(of: event.customerId).adding(days: -365)))
        }
    }

    /// Writes ``operatorView`` to `directory/operator-view.jsonl`.
    public func writeOperatorView(to directory: URL) throws(SimulationError) {
        var bytes: [UInt8] = []
        for line in operatorView {
            bytes += line
            bytes.append(UInt8(ascii: "\n"))
        }
        let url = directory.appending(path: Self.operatorViewFileName)
        do {
            try Data(bytes).write(to: url)
        } catch {
            throw .cannotWrite(path: url.path, reason: "\(error)")
        }
    }
}
