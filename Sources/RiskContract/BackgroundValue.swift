import Dispatch
import Synchronization

/// A value computed on another core while the caller goes on; ``value`` waits for it.
///
/// For long serial passes that do not depend on what the caller does next, such as hashing a
/// training set while the model is fitted: the pass then fills the gaps the caller leaves on the
/// other core instead of adding its own time to the caller's.
package final class BackgroundValue<Value: Sendable>: Sendable {
    private let group = DispatchGroup()
    private let result = Mutex<Value?>(nil)

    package init(_ work: @escaping @Sendable () -> Value) {
        DispatchQueue.global().async(group: group) { [self] in
            let value = work()
            result.withLock { $0 = value }
        }
    }

    /// The value, once computed.
    package var value: Value {
        group.wait()
        return result.withLock { $0! }
    }
}
