import RiskModels
import RiskStore

/// The one error type of `RiskEngine`.
public enum EngineError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A cell, line or column of an input file is unusable.
    case badInput(file: String, line: Int?, column: String?, reason: String)
    /// Options that do not fit together or the data they apply to.
    case invalidOptions(option: String, reason: String)
    /// A file that cannot be read.
    case cannotRead(path: String, reason: String)
    /// The trainer or the model refused.
    case model(ModelError)
    /// The store refused or does not hold what was asked for.
    case store(StoreError)
    /// A registered model that cannot score events (trained on a table, or its spec does not compile).
    case unservable(model: String, reason: String)

    public var description: String {
        switch self {
        case .badInput(let file, let line, let column, let reason):
            var location = file
            if let line { location += ":\(line)" }
            if let column { location += ": field '\(column)'" }
            return "\(location): \(reason)"
        case .invalidOptions(let option, let reason): return "\(option): \(reason)"
        case .cannotRead(let path, let reason): return "cannot read \(path): \(reason)"
        case .model(let error): return error.description
        case .store(let error): return error.description
        case .unservable(let model, let reason): return "model \(model) cannot score events: \(reason)"
        }
    }
}

/// Runs a store call in engine code, its error wrapped as ``EngineError/store(_:)``.
package func storeCall<T>(_ body: () async throws(StoreError) -> T) async throws(EngineError) -> T {
    do {
        return try await body()
    } catch {
        throw .store(error)
    }
}
