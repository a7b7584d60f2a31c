/// The per-row kernel of the logistic-regression pass over dense rows: `xᵢ·w`, then
/// `g ← g + rᵢ·xᵢ` while row `i` is still in the first-level cache, in 4-wide SIMD.
///
/// Why not `gemv`: with the reference BLAS (netlib) a row-major `Xw` is one scalar dot product
/// per row, a reduction the Fortran compiler does not vectorise; the fit took 0.73–0.74 of
/// scikit-learn's time where the target is 0.5, and 0.38–0.39 with this kernel, which reads each
/// row once and is as fast as OpenBLAS's `gemv` (docs/DESIGN.md, "BLAS threads and which BLAS").
enum DenseRows {
    /// `xᵀw` over `count` entries: two 4-wide accumulators, then the tail.
    @inline(__always)
    static func dot(_ x: UnsafePointer<Double>, _ w: UnsafePointer<Double>, count: Int) -> Double {
        let xs = UnsafeRawPointer(x), ws = UnsafeRawPointer(w)
        var first = SIMD4<Double>(), second = SIMD4<Double>()
        var index = 0
        while index + 8 <= count {
            let offset = index * MemoryLayout<Double>.stride
            first +=
                xs.loadUnaligned(fromByteOffset: offset, as: SIMD4<Double>.self)
                * ws.loadUnaligned(fromByteOffset: offset, as: SIMD4<Double>.self)
            second +=
                xs.loadUnaligned(fromByteOffset: offset + 32, as: SIMD4<Double>.self)
                * ws.loadUnaligned(fromByteOffset: offset + 32, as: SIMD4<Double>.self)
            index += 8
        }
        var sum = (first + second).sum()
        while index < count {
            sum += x[index] * w[index]
            index += 1
        }
        return sum
    }

    /// `y ← y + a·x` over `count` entries.
    @inline(__always)
    static func axpy(_ a: Double, _ x: UnsafePointer<Double>, _ y: UnsafeMutablePointer<Double>, count: Int) {
        let xs = UnsafeRawPointer(x), ys = UnsafeMutableRawPointer(y)
        let scale = SIMD4<Double>(repeating: a)
        var index = 0
        while index + 4 <= count {
            let offset = index * MemoryLayout<Double>.stride
            let sum =
                ys.loadUnaligned(fromByteOffset: offset, as: SIMD4<Double>.self)
                + scale * xs.loadUnaligned(fromByteOffset: offset, as: SIMD4<Double>.self)
            ys.storeBytes(of: sum, toByteOffset: offset, as: SIMD4<Double>.self)
            index += 4
        }
        while index < count {
            y[index] += a * x[index]
            index += 1
        }
    }
}
