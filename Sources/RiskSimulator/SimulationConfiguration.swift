import RiskContract
import RiskFeatures

/// The scenario parameters of a simulation. Same configuration, same bytes.
public struct SimulationConfiguration: Sendable, Codable, Equatable {
    /// Customers of the simulated bank.
    public var customers: Int
    /// Days simulated from ``start``.
    public var days: Int
    /// Midnight UTC of the first day.
    public var start: Timestamp
    public var seed: UInt64
    /// Target share of events that belong to fraud sessions (0 ≤ rate < 0.5).
    public var fraudRate: Double
    /// From this instant on, fraudsters avoid the signals that got them caught (night-time,
    /// large amounts, the roaming flag, a fresh SIM swap); `nil` for no drift.
    public var driftAt: Timestamp?
    /// Share of genuine events whose owner confirms them (a `confirmed_genuine` label).
    public var genuineConfirmationRate: Double
    /// Share of fraud attacks that are never reported, so never labelled.
    public var unreportedFraudRate: Double

    public static let defaultStart = Timestamp(year: 2026, month: 1, day: 5)!

    public init(
        customers: Int = 1_000, days: Int = 30, start: Timestamp = Self.defaultStart, seed: UInt64 = 42,
        fraudRate: Double = 0.01, driftAt: Timestamp? = nil, genuineConfirmationRate: Double = 0.05,
        unreportedFraudRate: Double = 0.12
    ) {
        self.customers = customers
        self.days = days
        self.start = start
        self.seed = seed
        self.fraudRate = fraudRate
        self.driftAt = driftAt
        self.genuineConfirmationRate = genuineConfirmationRate
        self.unreportedFraudRate = unreportedFraudRate
    }

    /// The end of the simulated period (exclusive).
    public var end: Timestamp { start.adding(days: Double(days)) }

    /// The midpoint of the period: the default drift date of the CLI.
    public var midpoint: Timestamp { start.adding(days: Double(days / 2)) }

    /// Checks the ranges; the message names the option.
    public func validate() throws(SimulationError) {
        guard customers >= 1 else { throw .invalidParameter(name: "customers", reason: "must be at least 1") }
        guard (1...3650).contains(days) else { throw .invalidParameter(name: "days", reason: "must be between 1 and 3650") }
        guard fraudRate >= 0, fraudRate < 0.5 else {
            throw .invalidParameter(name: "fraud-rate", reason: "must be at least 0 and below 0.5")
        }
        guard (0...1).contains(genuineConfirmationRate) else {
            throw .invalidParameter(name: "genuine-confirmation-rate", reason: "must be between 0 and 1")
        }
        guard (0...1).contains(unreportedFraudRate) else {
            throw .invalidParameter(name: "unreported-fraud-rate", reason: "must be between 0 and 1")
        }
    }
}

/// The one error type of `RiskSimulator`.
public enum SimulationError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidParameter(name: String, reason: String)
    case cannotWrite(path: String, reason: String)

    public var description: String {
        switch self {
        case .invalidParameter(let name, let reason): "--\(name): \(reason)"
        case .cannotWrite(let path, let reason): "cannot write \(path): \(reason)"
        }
    }
}
