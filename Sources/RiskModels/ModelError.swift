/// The one error type of `RiskModels`: training data or a model that cannot be used.
public enum ModelError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The data is unusable as given; `field` names the column or parameter when there is one.
    case invalidData(field: String?, reason: String)
    /// A hyperparameter is out of range.
    case invalidHyperparameter(name: String, reason: String)
    /// A model artifact that cannot be read or whose checksum does not match.
    case invalidArtifact(reason: String)

    public var description: String {
        switch self {
        case .invalidData(let field?, let reason): "column '\(field)': \(reason)"
        case .invalidData(nil, let reason): reason
        case .invalidHyperparameter(let name, let reason): "\(name): \(reason)"
        case .invalidArtifact(let reason): "invalid model artifact: \(reason)"
        }
    }
}
