import RiskContract
import RiskFeatures
import Testing

@testable import RiskModels

@Suite struct TrainingDataHashTests {
    /// The rows' hash is SHA-256 over each row's features, label and weight as little-endian
    /// IEEE 754 doubles. Reference: Python
    /// `hashlib.sha256(struct.pack('<6d', 1.5, 1, 1, -2, 0, 0.5)).hexdigest()`.
    @Test func theDataHashMatchesAnIndependentlyComputedOne() throws {
        let data = try TrainingData(
            features: Matrix(rows: 2, columns: 1, values: [1.5, -2]), labels: [1, 0], sampleWeights: [1, 0.5], columns: ["x"])
        #expect(data.sha256 == "2f5e62bc2a902f4ce3efb337b7481033dd90c1674cd659a6fe0e8c074a6b7212")
    }
}
