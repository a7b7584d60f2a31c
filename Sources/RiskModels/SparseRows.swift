import Dispatch
import RiskContract
import RiskFeatures

/// The nonzero entries of a ``Matrix``, row by row (compressed sparse rows), for the passes of
/// logistic regression over one-hot data.
///
/// A feature spec's categories and flags are one-hot: the SS7 spec's rows hold about 26 nonzeros
/// out of 186 columns. Visiting only those makes a training pass several times cheaper than
/// `gemv` over the dense rows. The sums visit the nonzeros in column order, which is the order
/// the reference BLAS adds the same terms in; the zeros it adds as well leave a sum unchanged, so
/// both give the same bits.
struct SparseRows: Sendable {
    /// Row `i`'s entries are `starts[i]..<starts[i + 1]` of ``columnIndices`` and ``values``.
    let starts: [Int]
    let columnIndices: [Int32]
    let values: [Double]

    /// Above this share of nonzeros, `gemv` over the dense rows is the faster pass.
    static let maximumDensity = 0.3

    /// The nonzeros of `matrix`, or `nil` when it holds more than `maximumDensity` of them.
    init?(_ matrix: Matrix, maximumDensity: Double = Self.maximumDensity) {
        let rows = matrix.rows, columns = matrix.columns
        guard rows > 0, columns > 0, columns <= Int(Int32.max) else { return nil }
        let chunks = min(16, rows)
        @Sendable func range(_ chunk: Int) -> Range<Int> { (rows * chunk / chunks)..<(rows * (chunk + 1) / chunks) }
        // First pass: nonzeros per row, counted on every core.
        var counts = [Int](repeating: 0, count: rows + 1)
        matrix.values.withUnsafeBufferPointer { dense in
            counts.withUnsafeMutableBufferPointer { counts in
                // Safe to share: each chunk reads the matrix and writes only its own rows' counts.
                nonisolated(unsafe) let (dense, output) = (dense, counts)
                DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                    for row in range(chunk) {
                        var count = 0
                        for value in dense[(row * columns)..<((row + 1) * columns)] where value != 0 { count += 1 }
                        output[row + 1] = count
                    }
                }
            }
        }
        for row in 0..<rows { counts[row + 1] += counts[row] }
        let total = counts[rows]
        guard Double(total) <= maximumDensity * Double(rows) * Double(columns) else { return nil }
        // Second pass: each core copies its rows' nonzeros to their places, which the first pass
        // counted, so every entry of both arrays is written exactly once.
        let starts = counts
        var nonzeros: [Double] = []
        let indices: [Int32] = matrix.values.withUnsafeBufferPointer { dense in
            LargeBuffer.array(count: total) { indices in
                nonzeros = LargeBuffer.array(count: total) { nonzeros in
                    // Safe to share: each chunk reads the matrix and writes only its own rows' entries.
                    nonisolated(unsafe) let (dense, indexOutput, valueOutput) = (dense, indices, nonzeros)
                    DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                        for row in range(chunk) {
                            var position = starts[row]
                            let base = row * columns
                            for column in 0..<columns where dense[base + column] != 0 {
                                indexOutput[position] = Int32(column)
                                valueOutput[position] = dense[base + column]
                                position += 1
                            }
                        }
                    }
                }
            }
        }
        self.starts = starts
        columnIndices = indices
        values = nonzeros
    }

    /// Visits each row of `range` with its score `Σⱼ xᵢⱼ·wⱼ`, summed from 0 in column order;
    /// `body` returns the row's residual `r`, which is added as `r·xᵢⱼ` to `gradient[j]`.
    func pass(
        _ range: Range<Int>, weights: UnsafeBufferPointer<Double>, gradient: UnsafeMutableBufferPointer<Double>,
        _ body: (_ row: Int, _ score: Double) -> Double
    ) {
        starts.withUnsafeBufferPointer { starts in
            columnIndices.withUnsafeBufferPointer { columns in
                values.withUnsafeBufferPointer { values in
                    for row in range {
                        let entries = starts[row]..<starts[row + 1]
                        var score = 0.0
                        for entry in entries { score += values[entry] * weights[Int(columns[entry])] }
                        let residual = body(row, score)
                        for entry in entries { gradient[Int(columns[entry])] += residual * values[entry] }
                    }
                }
            }
        }
    }
}
