// swift-tools-version: 6.1

import Foundation
import PackageDescription

// A path dependency is named after its directory, which is whatever the clone was called.
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().lastPathComponent

// Benchmarks live in their own package so that package-benchmark (and its malloc interposer)
// never enter the main build. Run them with `make bench`.
let package = Package(
    name: "RiskLoopBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
        // The version `riskloop serve` runs on: HTTPFloor measures the framework alone.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        // The stub operator's client key in EnrichmentBenchmark.
        .package(url: "https://github.com/vapor/jwt-kit", from: "5.8.0"),
    ],
    targets: [
        .executableTarget(
            name: "IngestBenchmark",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "RiskStore", package: root),
                .product(name: "RiskStoreSQLite", package: root),
                .product(name: "RiskSimulator", package: root),
                .product(name: "RiskContract", package: root), .product(name: "RiskFeatures", package: root),
            ],
            path: "Benchmarks/IngestBenchmark",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "SimulatorBenchmark",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "RiskSimulator", package: root),
            ],
            path: "Benchmarks/SimulatorBenchmark",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "FeatureBenchmark",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "RiskContract", package: root), .product(name: "RiskFeatures", package: root),
                .product(name: "RiskEngine", package: root),
                .product(name: "RiskSimulator", package: root),
            ],
            path: "Benchmarks/FeatureBenchmark",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "ScoringBenchmark",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "RiskContract", package: root), .product(name: "RiskFeatures", package: root),
                .product(name: "RiskScoring", package: root),
                .product(name: "RiskSimulator", package: root),
            ],
            path: "Benchmarks/ScoringBenchmark",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "EnrichmentBenchmark",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "RiskContract", package: root), .product(name: "RiskScoring", package: root),
                .product(name: "RiskSignals", package: root), .product(name: "RiskOperatorStub", package: root),
                .product(name: "RiskSimulator", package: root), .product(name: "JWTKit", package: "jwt-kit"),
            ],
            path: "Benchmarks/EnrichmentBenchmark",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .target(name: "BenchmarkSupport", path: "Sources/BenchmarkSupport"),
        .executableTarget(
            name: "CycleBenchmark",
            dependencies: [
                "BenchmarkSupport",
                .product(name: "RiskEngine", package: root), .product(name: "RiskStore", package: root),
                .product(name: "RiskStoreSQLite", package: root), .product(name: "RiskSimulator", package: root),
                .product(name: "RiskModels", package: root), .product(name: "RiskContract", package: root),
                .product(name: "RiskFeatures", package: root),
            ],
            path: "Sources/CycleBenchmark"
        ),
        .executableTarget(
            name: "HTTPFloor",
            dependencies: [.product(name: "Hummingbird", package: "hummingbird")],
            path: "Sources/HTTPFloor"
        ),
        .executableTarget(
            name: "TrainingComparison",
            dependencies: [
                "BenchmarkSupport", .product(name: "RiskModels", package: root), .product(name: "RiskContract", package: root),
                .product(name: "RiskFeatures", package: root),
            ],
            path: "Sources/TrainingComparison"
        ),
    ]
)
