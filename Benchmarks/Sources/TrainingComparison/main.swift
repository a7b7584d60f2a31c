import BenchmarkSupport
import Foundation
import RiskContract
import RiskFeatures
import RiskModels

// Trains RiskLoop's logistic regression and naive Bayes on a matrix written by
// Benchmarks/compare_training.py and prints timings, AUC and peak memory as JSON, for the
// side-by-side comparison with scikit-learn. Not a package-benchmark suite: the Python script
// runs both sides on the same bytes in the same run.

struct Arguments {
    var matrix = "", labels = ""
    var rows = 0, columns = 0
    var tolerance = 1e-5
}

func parseArguments() -> Arguments {
    var arguments = Arguments()
    var iterator = CommandLine.arguments.dropFirst().makeIterator()
    while let name = iterator.next(), let value = iterator.next() {
        switch name {
        case "--matrix": arguments.matrix = value
        case "--labels": arguments.labels = value
        case "--rows": arguments.rows = Int(value)!
        case "--columns": arguments.columns = Int(value)!
        case "--tol": arguments.tolerance = Double(value)!
        default: fatalError("unknown option \(name)")
        }
    }
    return arguments
}

/// Reads little-endian float64 values straight into the array's storage: no second copy.
func readDoubles(_ path: String, count: Int) -> [Double] {
    guard let handle = FileHandle(forReadingAtPath: path) else { fatalError("cannot open \(path)") }
    defer { try? handle.close() }
    return [Double](unsafeUninitializedCapacity: count) { buffer, initialized in
        let raw = UnsafeMutableRawBufferPointer(buffer)
        var offset = 0
        while offset < raw.count {
            let chunk = handle.readData(ofLength: min(64 << 20, raw.count - offset))
            precondition(!chunk.isEmpty, "\(path) is shorter than \(count) doubles")
            chunk.copyBytes(to: UnsafeMutableRawBufferPointer(rebasing: raw[offset..<(offset + chunk.count)]))
            offset += chunk.count
        }
        initialized = count
    }
}

/// Kilobytes of the process's peak and current resident memory (VmHWM, VmRSS).
func memoryKilobytes() -> (peak: Int, current: Int) {
    let status = FileHandle(forReadingAtPath: "/proc/self/status").map { String(decoding: $0.readDataToEndOfFile(), as: UTF8.self) } ?? ""
    func value(_ key: String) -> Int {
        status.split(separator: "\n").first { $0.hasPrefix(key) }.flatMap { Int($0.split(separator: " ").dropFirst().first ?? "") } ?? 0
    }
    return (value("VmHWM:"), value("VmRSS:"))
}

func seconds(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

let arguments = parseArguments()
let values = readDoubles(arguments.matrix, count: arguments.rows * arguments.columns)
let labels = readDoubles(arguments.labels, count: arguments.rows)
let data = try TrainingData(features: Matrix(rows: arguments.rows, columns: arguments.columns, values: values), labels: labels)
let matrixBytes = Double(arguments.rows * arguments.columns * 8)
let before = memoryKilobytes()

var logistic: (model: LogisticModel, report: LogisticRegression.FitReport)!
let logisticSeconds = try seconds {
    logistic = try LogisticRegression(hyperparameters: .init(c: 1, tolerance: arguments.tolerance, maxIterations: 1000)).fit(data)
}
let afterLogistic = memoryKilobytes()
var naiveBayes: NaiveBayesModel!
let naiveBayesSeconds = try seconds {
    naiveBayes = try NaiveBayes(kinds: Array(repeating: .gaussian, count: arguments.columns)).fit(data)
}
let afterNaiveBayes = memoryKilobytes()
var probabilities: [Double] = []
let scoringSeconds = seconds { probabilities = logistic.model.probabilities(data.features) }
let naiveBayesProbabilities = naiveBayes.probabilities(data.features)

let result: [String: Any] = [
    "blas": loadedBLAS(),
    "lr_seconds": logisticSeconds, "lr_iterations": logistic.report.iterations, "lr_converged": logistic.report.converged,
    "lr_gradient_max": logistic.report.finalGradientMax,
    "lr_auc": Metrics.rocAUC(labels: labels, scores: probabilities) ?? .nan,
    "nb_seconds": naiveBayesSeconds, "nb_auc": Metrics.rocAUC(labels: labels, scores: naiveBayesProbabilities) ?? .nan,
    "score_seconds": scoringSeconds,
    "matrix_bytes": matrixBytes,
    "rss_before_fit_bytes": Double(before.current) * 1024,
    "peak_rss_lr_bytes": Double(afterLogistic.peak) * 1024,
    "peak_rss_nb_bytes": Double(afterNaiveBayes.peak) * 1024,
]
let json = try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys])
print(String(decoding: json, as: UTF8.self))
