import RiskContract
import Dispatch

/// A dense, row-major matrix of `Double`s.
///
/// Element `(i, j)` lives at `values[i * columns + j]`. The layout is the one the BLAS wrapper
/// expects, so a matrix goes to `gemv` / `gemm` without copying.
///
/// ```swift
/// let m = Matrix(rows: 2, columns: 3, values: [1, 2, 3, 4, 5, 6])
/// m[1, 2]  // 6
/// ```
public struct Matrix: Sendable, Equatable {
    public let rows: Int
    public let columns: Int
    public var values: [Double]

    /// Wraps `values` (row-major, `rows × columns` of them).
    public init(rows: Int, columns: Int, values: [Double]) {
        precondition(rows >= 0 && columns >= 0, "matrix dimensions must not be negative")
        precondition(values.count == rows * columns, "matrix needs rows × columns values")
        self.rows = rows
        self.columns = columns
        self.values = values
    }

    /// A matrix of zeros.
    public init(rows: Int, columns: Int) {
        self.init(rows: rows, columns: columns, values: Array(repeating: 0, count: rows * columns))
    }

    /// The rows at `indices`, in that order; the matrix itself (no copy) when that is every row
    /// in order. Large gathers are copied on all cores (a million rows of 186 columns is 1.5 GB).
    public func rows(_ indices: some Collection<Int>) -> Matrix {
        if indices.count == rows, indices.elementsEqual(0..<rows) { return self }
        let picked = Array(indices)
        let columns = columns, count = picked.count
        for row in picked { precondition(row >= 0 && row < rows, "row index out of range") }
        guard count > 0, columns > 0 else { return Matrix(rows: count, columns: columns, values: []) }
        let gathered: [Double] = LargeBuffer.array(count: count * columns) { output in
            values.withUnsafeBufferPointer { all in
                // Safe to share: each chunk reads the source and initialises only its own rows.
                nonisolated(unsafe) let (all, output) = (all, output)
                let chunks = max(1, min(16, count / 4096))
                DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                    for position in (count * chunk / chunks)..<(count * (chunk + 1) / chunks) {
                        let source = all.baseAddress! + picked[position] * columns
                        (output.baseAddress! + position * columns).initialize(from: source, count: columns)
                    }
                }
            }
        }
        return Matrix(rows: count, columns: columns, values: gathered)
    }

    public subscript(row: Int, column: Int) -> Double {
        get { values[row * columns + column] }
        set { values[row * columns + column] = newValue }
    }
}
