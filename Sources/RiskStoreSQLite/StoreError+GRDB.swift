import GRDB
import RiskStore

extension StoreError {
    /// A GRDB or SQLite failure as the protocol's error (a `StoreError` passes through).
    init(_ error: any Error) {
        if let error = error as? StoreError {
            self = error
        } else if let error = error as? DatabaseError {
            self = .database(message: error.message ?? error.description)
        } else {
            self = .database(message: "\(error)")
        }
    }
}
