import Synchronization

/// Event ids that a request is scoring now. A request claims all of its ids at once, waiting
/// while any of them is claimed by another; releasing wakes the waiters to try again.
final class EventClaims: Sendable {
    private struct State {
        var claimed: Set<String> = []
        var waiting: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    func claim(_ ids: [String]) async {
        while true {
            let claimed = state.withLock { state in
                guard ids.allSatisfy({ !state.claimed.contains($0) }) else { return false }
                state.claimed.formUnion(ids)
                return true
            }
            if claimed { return }
            await withCheckedContinuation { continuation in
                let wait = state.withLock { state in
                    // Released between the two locks: try again at once.
                    guard ids.contains(where: { state.claimed.contains($0) }) else { return false }
                    state.waiting.append(continuation)
                    return true
                }
                if !wait { continuation.resume() }
            }
        }
    }

    func release(_ ids: [String]) {
        let waiting = state.withLock { state in
            state.claimed.subtract(ids)
            defer { state.waiting.removeAll() }
            return state.waiting
        }
        for continuation in waiting { continuation.resume() }
    }
}
