import Foundation
import RiskStore
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

extension SQLiteStore {
    /// A `flock` on `DATABASE.LOCK.lock` beside the file, taken without waiting: every process
    /// (and every store) on the file sees it, and the system drops it when the holder dies. In
    /// memory, where no other process can open the database, a flag of this store.
    public func exclusively<T: Sendable>(_ lock: StoreLock, _ body: () async -> T) async throws(StoreError) -> T? {
        guard lookups != nil else {
            guard Self.memoryLocks.withLock({ $0.insert("\(ObjectIdentifier(self)):\(lock.rawValue)").inserted }) else { return nil }
            defer { _ = Self.memoryLocks.withLock { $0.remove("\(ObjectIdentifier(self)):\(lock.rawValue)") } }
            return await body()
        }
        let lockPath = "\(path).\(lock.rawValue).lock"
        let descriptor = Glibc.open(lockPath, O_CREAT | O_RDWR | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw .database(message: "cannot open the lock file \(lockPath): \(String(cString: strerror(errno)))")
        }
        defer { Glibc.close(descriptor) }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            if errno == EWOULDBLOCK { return nil }
            throw .database(message: "cannot lock \(lockPath): \(String(cString: strerror(errno)))")
        }
        defer { flock(descriptor, LOCK_UN) }
        return await body()
    }

    /// The locks held on in-memory stores, by store and lock.
    private static let memoryLocks = Mutex<Set<String>>([])
}
