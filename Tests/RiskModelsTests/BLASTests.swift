import RiskContract
import RiskFeatures
import Testing

@testable import RiskModels

/// The BLAS wrapper against plain Swift loops on small, odd-shaped inputs.
@Suite struct BLASTests {
    /// A deterministic, irregular fill so that transposition mistakes show.
    static func matrix(_ rows: Int, _ columns: Int, seed: Double) -> Matrix {
        Matrix(
            rows: rows, columns: columns,
            values: (0..<(rows * columns)).map { Double(($0 * 7 + 3) % 11) - 5 + seed * Double($0 % 3) })
    }

    static func vector(_ count: Int, seed: Double) -> [Double] {
        (0..<count).map { Double(($0 * 5 + 1) % 7) - 3.5 + seed }
    }

    @Test func dotMatchesLoop() {
        let x = Self.vector(13, seed: 0.25), y = Self.vector(13, seed: -1.5)
        var expected = 0.0
        for i in 0..<13 { expected += x[i] * y[i] }
        #expect(BLAS.dot(x, y) == expected)
        #expect(BLAS.dot([], []) == 0)
    }

    @Test func axpyAndScalMatchLoops() {
        let x = Self.vector(9, seed: 0.5)
        var y = Self.vector(9, seed: 2)
        let expected = zip(x, y).map { -2.5 * $0 + $1 }
        BLAS.axpy(-2.5, x, &y)
        #expect(y == expected)
        BLAS.scal(0.5, &y)
        #expect(y == expected.map { $0 * 0.5 })
    }

    @Test(arguments: [(1, 1), (3, 5), (7, 2), (4, 0)])
    func gemvMatchesLoop(rows: Int, columns: Int) {
        let a = Self.matrix(rows, columns, seed: 0.3)
        let x = Self.vector(columns, seed: 0.1)
        var y = Self.vector(rows, seed: 1)
        var expected = y
        for i in 0..<rows {
            var sum = 0.0
            for j in 0..<columns { sum += a[i, j] * x[j] }
            expected[i] = 2 * sum + 0.5 * expected[i]
        }
        BLAS.gemv(a, x, alpha: 2, beta: 0.5, into: &y)
        for i in 0..<rows { #expect(abs(y[i] - expected[i]) <= 1e-12 * max(1, abs(expected[i]))) }

        let z = Self.vector(rows, seed: -0.7)
        var w = [Double](repeating: 0, count: columns)
        var expectedT = w
        for j in 0..<columns {
            for i in 0..<rows { expectedT[j] += a[i, j] * z[i] }
        }
        BLAS.gemv(a, transposed: true, z, into: &w)
        for j in 0..<columns { #expect(abs(w[j] - expectedT[j]) <= 1e-12 * max(1, abs(expectedT[j]))) }
    }

    @Test(arguments: [false, true], [false, true])
    func gemmMatchesLoop(transposeA: Bool, transposeB: Bool) {
        let (m, k, n) = (4, 3, 5)
        let a = transposeA ? Self.matrix(k, m, seed: 0.2) : Self.matrix(m, k, seed: 0.2)
        let b = transposeB ? Self.matrix(n, k, seed: -0.4) : Self.matrix(k, n, seed: -0.4)
        var c = Self.matrix(m, n, seed: 1.1)
        var expected = c
        for i in 0..<m {
            for j in 0..<n {
                var sum = 0.0
                for p in 0..<k {
                    sum += (transposeA ? a[p, i] : a[i, p]) * (transposeB ? b[j, p] : b[p, j])
                }
                expected[i, j] = 1.5 * sum - 1 * expected[i, j]
            }
        }
        BLAS.gemm(a, transposed: transposeA, b, transposed: transposeB, alpha: 1.5, beta: -1, into: &c)
        for index in 0..<(m * n) {
            #expect(abs(c.values[index] - expected.values[index]) <= 1e-12 * max(1, abs(expected.values[index])))
        }
    }
}

@Suite struct DenseRowsTests {
    /// The SIMD kernel against plain loops, on lengths with and without a tail.
    @Test(arguments: [0, 1, 3, 4, 7, 8, 9, 16, 129])
    func dotAndAxpyMatchLoops(count: Int) {
        let x = UnsafeMutablePointer<Double>.allocate(capacity: max(count, 1))
        let w = UnsafeMutablePointer<Double>.allocate(capacity: max(count, 1))
        defer {
            x.deallocate()
            w.deallocate()
        }
        var expectedDot = 0.0
        var expectedAxpy: [Double] = []
        for index in 0..<count {
            x[index] = Double((index * 7 + 3) % 11) / 3 - 1.7
            w[index] = Double((index * 5 + 1) % 13) / 7 - 0.9
            expectedDot += x[index] * w[index]
            expectedAxpy.append(w[index] + -1.5 * x[index])
        }
        let dot = DenseRows.dot(x, w, count: count)
        #expect((dot - expectedDot).magnitude <= 1e-12 * max(1, expectedDot.magnitude))
        DenseRows.axpy(-1.5, x, w, count: count)
        #expect((0..<count).map { w[$0] } == expectedAxpy)
    }
}
