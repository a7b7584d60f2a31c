/// The one error type of the contract: input that does not meet the event, label or file
/// contracts of ARCHITECTURE.md §5.
///
/// Every case names the offending field as a dotted path (`telco.sim_swap.latest_change`,
/// `telco.call_forwarding[1]`) or CSV column, so that callers can point a user at it. Callers
/// that read files add the file name and line number around it.
public enum ContractError: Error, Sendable, Equatable {
    /// The text is not valid JSON (or not a JSON object where one is required).
    case malformedJSON(reason: String)
    /// A required field is absent.
    case missingField(field: String)
    /// A field holds a value of the wrong JSON type.
    case wrongType(field: String, expected: String)
    /// A field has the right type but a value outside the contract.
    case invalidValue(field: String, value: String, reason: String)
    /// A CSV record could not be read; `line` is where the problem is.
    case malformedCSV(line: Int, reason: String)

    /// The dotted path of the offending field, when there is one.
    public var field: String? {
        switch self {
        case .malformedJSON, .malformedCSV: nil
        case .missingField(let field), .wrongType(let field, _), .invalidValue(let field, _, _): field
        }
    }
}

extension ContractError: CustomStringConvertible {
    public var description: String {
        field.map { "field '\($0)': \(reason)" } ?? reason
    }

    /// What is wrong, without the field name (for callers that print the field themselves).
    public var reason: String {
        switch self {
        case .malformedJSON(let reason): "malformed JSON: \(reason)"
        case .malformedCSV(_, let reason): "malformed CSV: \(reason)"
        case .missingField: "required but missing"
        case .wrongType(_, let expected): "expected \(expected)"
        case .invalidValue(_, let value, let reason): value.isEmpty ? reason : "\(reason) (got \(value))"
        }
    }
}

/// The contract's error type under the name it had when the contract lived in `RiskFeatures`.
@available(*, deprecated, renamed: "ContractError")
public typealias RiskFeaturesError = ContractError
