import CBLAS
import RiskContract
import RiskFeatures

#if canImport(Glibc)
    import Glibc
#endif

/// The BLAS routines the trainers use, over row-major `[Double]` and ``Matrix``.
///
/// This file is the one place where RiskLoop crosses into C for linear algebra: the `Int32`
/// conversions and the unsafe buffer pointers live here and nowhere else. Dimension mismatches
/// are programming errors in RiskLoop and stop the process with a `precondition`.
///
/// Whichever BLAS Debian's alternatives select behind `libblas.so.3` runs: reference netlib by
/// default, OpenBLAS once `libopenblas0-pthread` is installed.
public enum BLAS {
    /// `xᵀy`.
    public static func dot(_ x: [Double], _ y: [Double]) -> Double {
        precondition(x.count == y.count, "dot: vectors of different lengths")
        return x.withUnsafeBufferPointer { xp in y.withUnsafeBufferPointer { yp in dot(xp, yp) } }
    }

    /// `xᵀy` over buffers: the scorer's row lives on the stack.
    public static func dot(_ x: UnsafeBufferPointer<Double>, _ y: UnsafeBufferPointer<Double>) -> Double {
        precondition(x.count == y.count, "dot: vectors of different lengths")
        return cblas_ddot(blasInt(x.count), x.baseAddress, 1, y.baseAddress, 1)
    }

    /// `y ← αx + y`.
    public static func axpy(_ alpha: Double, _ x: [Double], _ y: inout [Double]) {
        precondition(x.count == y.count, "axpy: vectors of different lengths")
        let count = blasInt(x.count)
        x.withUnsafeBufferPointer { xp in
            y.withUnsafeMutableBufferPointer { yp in
                cblas_daxpy(count, alpha, xp.baseAddress, 1, yp.baseAddress, 1)
            }
        }
    }

    /// `x ← αx`.
    public static func scal(_ alpha: Double, _ x: inout [Double]) {
        let count = blasInt(x.count)
        x.withUnsafeMutableBufferPointer { xp in
            cblas_dscal(count, alpha, xp.baseAddress, 1)
        }
    }

    /// `y ← α·op(A)·x + β·y`, where `op(A)` is `A` or `Aᵀ`.
    ///
    /// - Parameters:
    ///   - transposed: use `Aᵀ`; then `x` has `a.rows` entries and `y` has `a.columns`.
    public static func gemv(
        _ a: Matrix, transposed: Bool = false, _ x: [Double],
        alpha: Double = 1, beta: Double = 0, into y: inout [Double]
    ) {
        let (inputCount, outputCount) = transposed ? (a.rows, a.columns) : (a.columns, a.rows)
        precondition(x.count == inputCount, "gemv: x has \(x.count) entries, op(A) needs \(inputCount)")
        precondition(y.count == outputCount, "gemv: y has \(y.count) entries, op(A) gives \(outputCount)")
        guard a.rows > 0, a.columns > 0 else {
            scal(beta, &y)
            return
        }
        a.values.withUnsafeBufferPointer { ap in
            x.withUnsafeBufferPointer { xp in
                y.withUnsafeMutableBufferPointer { yp in
                    cblas_dgemv(
                        CblasRowMajor, transposed ? CblasTrans : CblasNoTrans,
                        blasInt(a.rows), blasInt(a.columns), alpha,
                        ap.baseAddress, blasInt(a.columns),
                        xp.baseAddress, 1, beta, yp.baseAddress, 1)
                }
            }
        }
    }

    /// `C ← α·op(A)·op(B) + β·C`, where `op(X)` is `X` or `Xᵀ`.
    public static func gemm(
        _ a: Matrix, transposed transposeA: Bool = false,
        _ b: Matrix, transposed transposeB: Bool = false,
        alpha: Double = 1, beta: Double = 0, into c: inout Matrix
    ) {
        let (m, k) = transposeA ? (a.columns, a.rows) : (a.rows, a.columns)
        let (kB, n) = transposeB ? (b.columns, b.rows) : (b.rows, b.columns)
        precondition(k == kB, "gemm: inner dimensions \(k) and \(kB) differ")
        precondition(c.rows == m && c.columns == n, "gemm: C is \(c.rows)×\(c.columns), product is \(m)×\(n)")
        guard m > 0, n > 0 else { return }
        guard k > 0 else {
            scal(beta, &c.values)
            return
        }
        a.values.withUnsafeBufferPointer { ap in
            b.values.withUnsafeBufferPointer { bp in
                c.values.withUnsafeMutableBufferPointer { cp in
                    cblas_dgemm(
                        CblasRowMajor,
                        transposeA ? CblasTrans : CblasNoTrans,
                        transposeB ? CblasTrans : CblasNoTrans,
                        blasInt(m), blasInt(n), blasInt(k), alpha,
                        ap.baseAddress, blasInt(max(a.columns, 1)),
                        bp.baseAddress, blasInt(max(b.columns, 1)),
                        beta, cp.baseAddress, blasInt(max(n, 1)))
                }
            }
        }
    }

    /// One BLAS thread per RiskLoop thread. RiskLoop splits its passes across the cores itself
    /// (the trainers' row chunks, the scorer's batches); a threaded BLAS inside each of those
    /// calls put two threads on every core. Measured on 1M × 128 (docs/DESIGN.md, "BLAS"):
    /// OpenBLAS's own threads made a fit 2.4× slower than scikit-learn's, one thread each made it
    /// faster than netlib's. Set once, through the library's own API when the library loaded
    /// behind `libblas.so.3` has one (OpenBLAS: `openblas_set_num_threads`; BLIS:
    /// `bli_thread_set_num_threads`); the reference BLAS has no threads to set.
    static let oneThreadPerCaller: Void = {
        guard let process = dlopen(nil, RTLD_NOW) else { return }
        if let symbol = dlsym(process, "openblas_set_num_threads") {
            unsafeBitCast(symbol, to: (@convention(c) (Int32) -> Void).self)(1)
        }
        if let symbol = dlsym(process, "bli_thread_set_num_threads") {
            unsafeBitCast(symbol, to: (@convention(c) (Int) -> Void).self)(1)
        }
    }()

    /// BLAS counts are 32-bit; a larger dimension would silently wrap, so it stops here instead.
    /// Every call converts its sizes here first, so every call finds the BLAS's threads set.
    private static func blasInt(_ value: Int) -> Int32 {
        _ = oneThreadPerCaller
        guard let converted = Int32(exactly: value) else {
            preconditionFailure("BLAS dimension \(value) exceeds Int32")
        }
        return converted
    }
}
