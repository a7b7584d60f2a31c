import Foundation
import RiskContract
import RiskFeatures
import RiskModels
import Testing

@testable import RiskEngine

/// A temporary directory per test.
final class Scratch {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appending(path: "riskloop-engine-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    func file(_ name: String, _ text: String) throws -> String {
        let path = url.appending(path: name).path
        try Data(text.utf8).write(to: URL(filePath: path))
        return path
    }
}

@Suite struct TrainingPipelineTests {
    /// 400 rows from a fixed logistic model, written by hand as CSV with an id and a time column.
    static func csv(rows: Int = 400) -> String {
        var generator = SystemRandomNumberGeneratorStandIn(seed: 3)
        var text = "id,occurred_at,amount_z,new_device,night,is_fraud\n"
        for row in 0..<rows {
            let amount = generator.normal()
            let device = generator.unit() < 0.3 ? 1 : 0
            let night = generator.unit() < 0.2 ? 1 : 0
            let z = -2.0 + 1.2 * amount + 1.5 * Double(device) + 0.8 * Double(night)
            let fraud = generator.unit() < 1 / (1 + exp(-z)) ? 1 : 0
            let time = Timestamp(year: 2026, month: 1, day: 1)!.adding(hours: Double(row)).rfc3339
            text += "e\(row),\(time),\(amount),\(device),\(night),\(fraud)\n"
        }
        return text
    }

    static let roles = LabelledTable.Roles(label: "is_fraud", time: "occurred_at", ignored: ["id"])
    static let now = Timestamp(year: 2026, month: 11, day: 23)!

    @Test func theArtifactRoundTripsBitForBitAndRefusesTampering() throws {
        let scratch = try Scratch()
        let table = try LabelledTable.read(try scratch.file("train.csv", Self.csv()), roles: Self.roles)
        var pipeline = TrainingPipeline(algorithm: .logisticRegression)
        pipeline.calibration = .isotonic
        let artifact = try pipeline.train(table, now: Self.now)
        let bytes = artifact.encoded()
        let decoded = try ModelArtifact.decode(from: bytes)
        #expect(decoded == artifact)
        #expect(decoded.encoded() == bytes)
        #expect(decoded.logisticRegression!.weights.map(\.bitPattern) == artifact.logisticRegression!.weights.map(\.bitPattern))

        // One digit of one weight changed: refused, with the reason.
        var text = String(decoding: bytes, as: UTF8.self)
        let weight = "\(artifact.logisticRegression!.weights[0])"
        let changed = weight.hasSuffix("1") ? String(weight.dropLast()) + "2" : String(weight.dropLast()) + "1"
        text = text.replacingOccurrences(of: weight, with: changed)
        #expect {
            try ModelArtifact.decode(from: Data(text.utf8))
        } throws: { error in
            guard case .invalidArtifact(let reason) = error as? ModelError else { return false }
            return reason.contains("does not hash to its sha256 member")
        }
    }

    @Test func theSameTrainingGivesTheSameIdAndLineageNamesTheData() throws {
        let scratch = try Scratch()
        let path = try scratch.file("train.csv", Self.csv())
        let table = try LabelledTable.read(path, roles: Self.roles)
        let pipeline = TrainingPipeline(algorithm: .logisticRegression)
        let first = try pipeline.train(table, now: Self.now)
        let second = try pipeline.train(table, now: Self.now.adding(days: 1))
        #expect(first.id == second.id)
        #expect(first.id.hasPrefix("lr-"))
        #expect(first.training.sourceSHA256 == ModelArtifact.sha256Hex(try Data(contentsOf: URL(filePath: path))))
        #expect(first.training.rows == 320 && first.training.holdoutRows == 80)
        #expect(first.training.windowStart == Timestamp(year: 2026, month: 1, day: 1))
        #expect(first.training.windowEnd == Timestamp(year: 2026, month: 1, day: 1)!.adding(hours: 319))
        #expect(first.training.converged == true)
        #expect(first.columns == ["amount_z", "new_device", "night"])
        #expect(first.featureSpecSHA256.count == 64)
        // A different C is a different model.
        var other = pipeline
        other.logisticRegression.c = 0.1
        #expect(try other.train(table, now: Self.now).id != first.id)
    }

    @Test func theHoldoutIsOutOfTimeAndCalibrationUsesOnlyItsEarlierHalf() throws {
        let scratch = try Scratch()
        let table = try LabelledTable.read(try scratch.file("train.csv", Self.csv()), roles: Self.roles)
        var pipeline = TrainingPipeline(algorithm: .naiveBayes)
        pipeline.holdout = .after(Timestamp(year: 2026, month: 1, day: 15)!)  // hour 336 onwards: 64 rows
        pipeline.calibration = .platt
        let artifact = try pipeline.train(table, now: Self.now)
        #expect(artifact.training.rows == 336)
        #expect(artifact.training.calibrationRows == 32 && artifact.training.holdoutRows == 32)
        #expect(artifact.metrics.holdout?.rows == 32)
        #expect(artifact.metrics.holdoutUncalibrated != nil)
        #expect(artifact.naiveBayes?.kinds == [.gaussian, .bernoulli, .bernoulli])
        // The model's own scores on the evaluation rows reproduce the recorded metrics.
        let evaluation = try TrainingData(features: table.features, labels: table.labels!).subset(368..<400)
        let metrics = Metrics.evaluate(labels: evaluation.labels, probabilities: artifact.probabilities(evaluation.features))
        #expect(metrics == artifact.metrics.holdout)
    }

    @Test(
        arguments: [
            ("id,a,is_fraud\ne1,1.5,1\ne2,abc,0\n", 3, "a", "not a finite number"),
            ("id,a,is_fraud\ne1,1.5,1\ne2,,0\n", 3, "a", "empty cell"),
            ("id,a,is_fraud\ne1,1.5,1\ne2,nan,0\n", 3, "a", "not a finite number"),
            ("id,a,is_fraud\ne1,1.5,1\ne2,2.5,maybe\n", 3, "is_fraud", "is not 1/0"),
            ("id,a,is_fraud\ne1,1.5,1\ne2,2.5\n", 3, nil, "2 fields where the header has 3"),
        ] as [(String, Int, String?, String)])
    func badCellsNameTheirLineAndColumn(text: String, line: Int, column: String?, reason: String) throws {
        let scratch = try Scratch()
        let path = try scratch.file("bad.csv", text)
        #expect {
            try LabelledTable.read(path, roles: .init(label: "is_fraud", ignored: ["id"]))
        } throws: { error in
            guard case .badInput(path, line, column, let message) = error as? EngineError else { return false }
            return message.contains(reason)
        }
    }

    @Test func missingLabelColumnEmptyFileAndOneClassAreClearErrors() throws {
        let scratch = try Scratch()
        let noLabel = try scratch.file("a.csv", "a,b\n1,2\n")
        #expect(throws: EngineError.invalidOptions(option: "--label", reason: "\(noLabel) has no column 'is_fraud' (it has a, b)")) {
            try LabelledTable.read(noLabel, roles: .init(label: "is_fraud"))
        }
        let empty = try scratch.file("empty.csv", "")
        #expect(throws: EngineError.badInput(file: empty, line: nil, column: nil, reason: "the file is empty")) {
            try LabelledTable.read(empty, roles: .init(label: "is_fraud"))
        }
        let oneClass = try LabelledTable.read(
            try scratch.file("one.csv", "a,is_fraud\n1,0\n2,0\n3,0\n4,0\n5,0\n"), roles: .init(label: "is_fraud"))
        #expect {
            try TrainingPipeline(algorithm: .logisticRegression).train(oneClass, now: Self.now)
        } throws: { error in
            guard case .model(.invalidData(field: "label", let reason)) = error as? EngineError else { return false }
            return reason.contains("only one class")
        }
    }

    @Test func flatJSONLinesReadLikeCSV() throws {
        let scratch = try Scratch()
        let path = try scratch.file(
            "rows.jsonl", #"{"a":1.5,"night":true,"is_fraud":1}"# + "\n" + #"{"a":-2,"night":false,"is_fraud":0}"# + "\n")
        let table = try LabelledTable.read(path, roles: .init(label: "is_fraud"))
        #expect(table.columns == ["a", "night"])
        #expect(table.features.values == [1.5, 1, -2, 0])
        #expect(table.labels == [1, 0])
        let nested = try scratch.file("events.jsonl", #"{"a":{"b":1},"is_fraud":1}"# + "\n")
        #expect(throws: EngineError.self) { try LabelledTable.read(nested, roles: .init(label: "is_fraud")) }
    }
}

/// A tiny deterministic generator for test data (SplitMix64), independent of the code under test.
struct SystemRandomNumberGeneratorStandIn {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func unit() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    mutating func normal() -> Double {
        (-2 * log(1 - unit())).squareRoot() * cos(2 * Double.pi * unit())
    }
}
