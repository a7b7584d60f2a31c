import Foundation
import RiskContract
import RiskFeatures

@testable import RiskModels

/// Reads the scikit-learn fixtures written by Fixtures/make_fixtures.py.
enum Fixtures {
    static func decode<T: Decodable>(_ type: T.Type, _ name: String) -> T {
        guard let url = Bundle.module.url(forResource: "Fixtures/\(name)", withExtension: "json") else {
            fatalError("fixture \(name).json is missing from the test bundle")
        }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        do {
            return try decoder.decode(type, from: Data(contentsOf: url))
        } catch {
            fatalError("fixture \(name).json does not decode: \(error)")
        }
    }

    static func matrix(_ rows: [[Double]]) -> Matrix {
        Matrix(rows: rows.count, columns: rows.first?.count ?? 0, values: rows.flatMap { $0 })
    }
}

/// |a − b| ≤ tolerance · max(1, |b|).
func close(_ a: Double, _ b: Double, _ tolerance: Double) -> Bool {
    abs(a - b) <= tolerance * max(1, abs(b))
}
