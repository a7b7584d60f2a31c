#if canImport(Glibc)
    import Glibc
#endif

/// Large arrays that are filled once, right after they are allocated: a training set's feature
/// matrix (1.5 GB for a million SS7 rows), its row subsets and their sparse copies.
///
/// glibc maps such arrays fresh from the kernel, and the first write to each 4 KiB page faults.
/// For a gigabyte that is a quarter of a million faults, which a profile of the retraining cycle
/// put at a fifth of its CPU. Asking for transparent huge pages (`MADV_HUGEPAGE`, which Debian's
/// default `madvise` mode honours only when asked) makes each fault map 2 MiB instead.
package enum LargeBuffer {
    /// Below this many bytes the advice is not worth a system call.
    package static let adviceThresholdBytes = 64 << 20

    /// An array of `count` values that `initialize` must set in full (as for
    /// `Array(unsafeUninitializedCapacity:initializingWith:)`), with huge pages asked for first
    /// when it is large.
    package static func array<Element>(
        count: Int, _ initialize: (UnsafeMutableBufferPointer<Element>) -> Void
    ) -> [Element] {
        [Element](unsafeUninitializedCapacity: count) { buffer, initialized in
            adviseHugePages(UnsafeMutableRawBufferPointer(buffer))
            initialize(buffer)
            initialized = count
        }
    }

    /// Advice only: where the kernel has no huge pages to give (or another system), nothing changes.
    static func adviseHugePages(_ buffer: UnsafeMutableRawBufferPointer) {
        #if os(Linux)
            guard buffer.count >= adviceThresholdBytes, let base = buffer.baseAddress else { return }
            let page = 4096
            let start = (Int(bitPattern: base) + page - 1) & ~(page - 1)
            let end = (Int(bitPattern: base) + buffer.count) & ~(page - 1)
            guard end > start, let aligned = UnsafeMutableRawPointer(bitPattern: start) else { return }
            _ = madvise(aligned, end - start, MADV_HUGEPAGE)
        #endif
    }
}
