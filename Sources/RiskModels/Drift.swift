import Foundation
import RiskContract
import RiskFeatures

/// The distributions a model saw in training, kept in its artifact, against which recent
/// traffic is compared by the population stability index (PSI).
///
/// Each input column and the score get a histogram: a column with at most ``bins`` distinct
/// values gets one bin per value (binary and one-hot columns are exact); any other gets
/// quantile bins of the training rows. PSI = Σ (aᵢ − eᵢ)·ln(aᵢ / eᵢ) over the bins, with
/// expected shares e from training and actual shares a from recent traffic, each share floored at
/// ``floor`` so an empty bin does not make it infinite. The usual reading: below 0.1 stable,
/// 0.1–0.25 a moderate shift, above 0.25 a major one.
public struct DriftReference: Sendable, Codable, Equatable {
    /// One variable's bins: value ≤ `upperBounds[i]` falls in bin i (the first that holds), larger
    /// values in the last bin; `shares` has one more entry than `upperBounds`.
    public struct Histogram: Sendable, Codable, Equatable {
        public var upperBounds: [Double]
        public var shares: [Double]

        enum CodingKeys: String, CodingKey {
            case shares
            case upperBounds = "upper_bounds"
        }

        func bin(_ value: Double) -> Int {
            var low = 0, high = upperBounds.count
            while low < high {
                let middle = (low + high) / 2
                if value <= upperBounds[middle] { high = middle } else { low = middle + 1 }
            }
            return low
        }

        func shares(of values: some Sequence<Double>) -> [Double] {
            var counts = [Double](repeating: 0, count: upperBounds.count + 1)
            var total = 0.0
            for value in values {
                counts[bin(value)] += 1
                total += 1
            }
            return counts.map { total > 0 ? $0 / total : 0 }
        }

        /// PSI of `actual` shares against these.
        func psi(_ actual: [Double]) -> Double {
            zip(shares, actual).reduce(0) { sum, pair in
                let expected = max(pair.0, DriftReference.floor), observed = max(pair.1, DriftReference.floor)
                return sum + (observed - expected) * Foundation.log(observed / expected)
            }
        }

        static func fit(_ values: [Double], bins: Int) -> Histogram {
            let sorted = values.sorted()
            var distinct: [Double] = []
            for value in sorted where distinct.last != value {
                distinct.append(value)
                if distinct.count > bins { break }
            }
            var bounds: [Double]
            if distinct.count <= bins {
                bounds = Array(distinct.dropLast())
            } else {
                bounds = []
                for i in 1..<bins {
                    let edge = sorted[min(sorted.count - 1, sorted.count * i / bins)]
                    if bounds.last != edge { bounds.append(edge) }
                }
                // The largest value must not form a bin of its own only by being an upper bound.
                if bounds.last == sorted.last { bounds.removeLast() }
            }
            var histogram = Histogram(upperBounds: bounds, shares: [])
            histogram.shares = histogram.shares(of: values)
            return histogram
        }
    }

    /// Bins per histogram.
    public static let bins = 10
    /// The smallest share a bin counts with in the PSI.
    public static let floor = 1e-4
    /// At most this many rows (evenly spaced) are binned, in training and in recent traffic.
    public static let sampleRows = 50_000

    public var rows: Int
    public var score: Histogram
    /// One per column, in the model's column order.
    public var columns: [Histogram]

    /// Fits the histograms on training rows and their scores.
    public static func fit(features: Matrix, scores: [Double]) -> DriftReference {
        precondition(scores.count == features.rows, "one score per row")
        let sample = sampleIndices(features.rows)
        let byColumn = columnMajor(features, rows: sample)
        // Columns are independent (each a sort of its sample): binned on all cores.
        let columns = [Histogram](unsafeUninitializedCapacity: features.columns) { buffer, initialized in
            // Safe to share: column `j` initialises only element `j`; `concurrentPerform`
            // returns when every column is done.
            nonisolated(unsafe) let buffer = buffer
            DispatchQueue.concurrentPerform(iterations: features.columns) { j in
                let values = Array(byColumn[(j * sample.count)..<((j + 1) * sample.count)])
                (buffer.baseAddress! + j).initialize(to: Histogram.fit(values, bins: bins))
            }
            initialized = features.columns
        }
        return DriftReference(rows: sample.count, score: Histogram.fit(sample.map { scores[$0] }, bins: bins), columns: columns)
    }

    /// The `rows` of `features`, column after column. Reading a column straight from a large
    /// row-major matrix misses the cache on every value; this reads each row once, in order.
    static func columnMajor(_ features: Matrix, rows: [Int]) -> [Double] {
        let columns = features.columns
        return [Double](unsafeUninitializedCapacity: rows.count * columns) { output, initialized in
            features.values.withUnsafeBufferPointer { values in
                for (position, row) in rows.enumerated() {
                    for j in 0..<columns { (output.baseAddress! + j * rows.count + position).initialize(to: values[row * columns + j]) }
                }
            }
            initialized = rows.count * columns
        }
    }

    /// The PSI of the score and of each column between training and `features` (recent rows).
    public func report(columnNames: [String], features: Matrix, scores: [Double]) -> DriftReport {
        precondition(columnNames.count == columns.count && features.columns == columns.count, "one histogram per column")
        let sample = Self.sampleIndices(features.rows)
        let columnPSI = columns.indices.map { j in
            DriftReport.Column(name: columnNames[j], psi: columns[j].psi(columns[j].shares(of: sample.lazy.map { features[$0, j] })))
        }
        return DriftReport(
            rows: features.rows, score: score.psi(score.shares(of: sample.lazy.map { scores[$0] })),
            columns: columnPSI.sorted { $0.psi > $1.psi })
    }

    /// The PSI of the score alone, from scores already computed (logged decisions).
    public func scorePSI(_ scores: [Double]) -> Double {
        let sample = Self.sampleIndices(scores.count)
        return score.psi(score.shares(of: sample.lazy.map { scores[$0] }))
    }

    /// At most ``sampleRows`` evenly spaced row indices of `rows`.
    public static func sampleIndices(_ rows: Int) -> [Int] {
        guard rows > sampleRows else { return Array(0..<rows) }
        return (0..<sampleRows).map { $0 * rows / sampleRows }
    }
}

/// PSI between a model's training rows and recent traffic.
public struct DriftReport: Sendable, Codable, Equatable {
    public struct Column: Sendable, Codable, Equatable {
        public var name: String
        public var psi: Double
    }

    /// Recent rows compared.
    public var rows: Int
    /// PSI of the model's score.
    public var score: Double
    /// PSI of every input column, largest first.
    public var columns: [Column]
}
