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
    /// in order.
    public func rows(_ indices: some Collection<Int>) -> Matrix {
        if indices.count == rows, indices.elementsEqual(0..<rows) { return self }
        var gathered: [Double] = []
        gathered.reserveCapacity(indices.count * columns)
        values.withUnsafeBufferPointer { all in
            for row in indices {
                precondition(row >= 0 && row < rows, "row index out of range")
                gathered.append(contentsOf: UnsafeBufferPointer(rebasing: all[(row * columns)..<((row + 1) * columns)]))
            }
        }
        return Matrix(rows: indices.count, columns: columns, values: gathered)
    }

    public subscript(row: Int, column: Int) -> Double {
        get { values[row * columns + column] }
        set { values[row * columns + column] = newValue }
    }
}
