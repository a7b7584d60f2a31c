/// The one error type of `RiskScoring`.
public enum ScoringError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A model that cannot serve events: trained without a feature spec, or whose spec does not
    /// expand to the model's columns.
    case unservableModel(reason: String)
    case invalidPolicy(reason: String)

    public var description: String {
        switch self {
        case .unservableModel(let reason): "model cannot score events: \(reason)"
        case .invalidPolicy(let reason): "invalid decision policy: \(reason)"
        }
    }
}
