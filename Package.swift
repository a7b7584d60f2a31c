// swift-tools-version: 6.1

import PackageDescription

let package = Package(
    name: "RiskLoop",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "RiskContract", targets: ["RiskContract"]),
        .library(name: "RiskFeatures", targets: ["RiskFeatures"]),
        .library(name: "RiskModels", targets: ["RiskModels"]),
        .library(name: "RiskStore", targets: ["RiskStore"]),
        .library(name: "RiskStoreSQLite", targets: ["RiskStoreSQLite"]),
        .library(name: "RiskStorePostgres", targets: ["RiskStorePostgres"]),
        .library(name: "RiskStoreLocation", targets: ["RiskStoreLocation"]),
        .library(name: "RiskSimulator", targets: ["RiskSimulator"]),
        .library(name: "RiskScoring", targets: ["RiskScoring"]),
        .library(name: "RiskEngine", targets: ["RiskEngine"]),
        .library(name: "RiskExport", targets: ["RiskExport"]),
        .library(name: "RiskSignals", targets: ["RiskSignals"]),
        .library(name: "RiskOperatorStub", targets: ["RiskOperatorStub"]),
        .executable(name: "riskloop", targets: ["riskloop"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        // Named for the NIO modules the operator clients and the stub import directly (already
        // resolved through Hummingbird, AsyncHTTPClient and postgres-nio).
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.3"),
        // The operators' OAuth client assertions (private_key_jwt, ES256).
        .package(url: "https://github.com/vapor/jwt-kit", from: "5.8.0"),
        // `make docs` only: the DocC catalogs (swift package generate-documentation).
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: [
        // The one unsafe seam to the system BLAS (Debian libblas-dev; OpenBLAS through alternatives).
        .systemLibrary(
            name: "CBLAS",
            providers: [.apt(["libblas-dev"])]
        ),
        // The event and label contract every room shares: events, labels, JSON, timestamps, CSV (no I/O
        // beyond reading the files it is given).
        .target(name: "RiskContract"),
        .target(
            name: "RiskFeatures",
            dependencies: [
                "RiskContract",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "DequeModule", package: "swift-collections"),
            ]
        ),
        .target(
            name: "RiskModels",
            dependencies: ["CBLAS", "RiskContract", "RiskFeatures", .product(name: "Crypto", package: "swift-crypto")]
        ),
        // The store protocol, its records and its one error type: what everything outside a backend sees.
        .target(
            name: "RiskStore",
            dependencies: [
                "RiskContract", .product(name: "Logging", package: "swift-log"), .product(name: "Crypto", package: "swift-crypto"),
            ]),
        // The embedded backend: SQLite through GRDB.
        .target(
            name: "RiskStoreSQLite",
            dependencies: [
                "RiskStore", "RiskContract",
                .product(name: "GRDB", package: "GRDB.swift"),
                // SQLite's C API, for reading payload bytes in place (GRDB's documented raw access).
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The shared backend: PostgreSQL through postgres-nio (several replicas on one database).
        .target(
            name: "RiskStorePostgres",
            dependencies: [
                "RiskStore", "RiskContract",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Opens a store from a path or URL: the one place that names the backends.
        .target(
            name: "RiskStoreLocation",
            dependencies: ["RiskStore", "RiskStoreSQLite", "RiskStorePostgres", .product(name: "Logging", package: "swift-log")]),
        .target(name: "RiskSimulator", dependencies: ["RiskContract", "RiskFeatures"]),
        .target(name: "RiskScoring", dependencies: ["RiskContract", "RiskFeatures", "RiskModels"]),
        .target(name: "RiskEngine", dependencies: ["RiskContract", "RiskFeatures", "RiskModels", "RiskScoring", "RiskStore"]),
        // JSON, CSV, PMML, ONNX and the model card: what auditors and other systems take away.
        .target(
            name: "RiskExport",
            dependencies: [
                "RiskEngine", "RiskContract", "RiskFeatures", "RiskModels", "RiskScoring", "RiskStore",
                // The ONNX export's messages (generated once, committed: scripts/generate-onnx.sh).
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ]
        ),
        // Signals from the mobile operators: CAMARA clients, operator configuration, enrichment under
        // a deadline, the cache and circuit breakers (RiskScoring stays free of networking).
        .target(
            name: "RiskSignals",
            dependencies: [
                "RiskContract", "RiskFeatures", "RiskModels", "RiskScoring",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
            ]
        ),
        // A CAMARA operator for tests, the demo and benchmarks (`riskloop operator-stub`).
        .target(
            name: "RiskOperatorStub",
            dependencies: [
                "RiskSignals", "RiskContract",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
            ]
        ),
        .target(
            name: "RiskServer",
            dependencies: [
                "RiskSignals", "RiskEngine", "RiskExport", "RiskContract", "RiskFeatures", "RiskModels", "RiskScoring", "RiskStore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            resources: [.copy("openapi.yaml")]
        ),
        .executableTarget(
            name: "riskloop",
            dependencies: [
                "RiskContract", "RiskFeatures",
                "RiskStore",
                "RiskStoreLocation",
                "RiskSimulator",
                "RiskModels",
                "RiskEngine",
                "RiskExport",
                "RiskScoring",
                "RiskServer",
                "RiskSignals",
                "RiskOperatorStub",
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                // `riskloop demo --replicas`: the replay sent to servers over HTTP.
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "RiskFeaturesTests", dependencies: ["RiskContract", "RiskFeatures", "RiskSimulator"], resources: [.copy("Fixtures")]),
        .testTarget(name: "RiskModelsTests", dependencies: ["RiskModels", "RiskContract", "RiskFeatures"], resources: [.copy("Fixtures")]),
        .testTarget(
            name: "RiskStoreTests",
            dependencies: [
                "RiskStore", "RiskStoreSQLite", "RiskStorePostgres", "RiskStoreLocation", "RiskStoreTesting", "RiskContract",
                "RiskFeatures",
                .product(name: "GRDB", package: "GRDB.swift"), .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        // What the store and server tests share: the backends they run on (SQLite, and PostgreSQL
        // when RISKLOOP_TEST_POSTGRES_URL is set) and plain SQL against either.
        .target(
            name: "RiskStoreTesting",
            dependencies: [
                "RiskStore", "RiskStoreSQLite", "RiskStorePostgres", "RiskStoreLocation",
                .product(name: "GRDB", package: "GRDB.swift"), .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            path: "Tests/RiskStoreTesting"),
        .testTarget(name: "RiskScoringEmbeddingTests", dependencies: ["RiskScoring"], resources: [.copy("Resources")]),
        .testTarget(
            name: "RiskServerTests",
            dependencies: [
                "RiskServer", "RiskEngine", "RiskScoring", "RiskStore", "RiskStoreSQLite", "RiskStoreLocation", "RiskStoreTesting",
                "RiskContract",
                "RiskFeatures",
                "RiskSimulator",
                "RiskSignals",
                "RiskOperatorStub",
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "RiskScoringTests", dependencies: ["RiskScoring", "RiskModels", "RiskContract", "RiskFeatures", "RiskSimulator"]),
        .testTarget(
            name: "RiskEngineTests",
            dependencies: ["RiskEngine", "RiskModels", "RiskContract", "RiskFeatures", "RiskStore", "RiskStoreLocation", "RiskSimulator"]),
        .testTarget(
            name: "RiskExportTests",
            dependencies: [
                "RiskExport", "RiskEngine", "RiskModels", "RiskContract", "RiskFeatures", "RiskScoring",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ]),
        .testTarget(
            name: "RiskSignalsTests",
            dependencies: [
                "RiskSignals", "RiskOperatorStub", "RiskContract", "RiskFeatures", "RiskModels", "RiskScoring",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "JWTKit", package: "jwt-kit"),
            ]),
        .testTarget(name: "RiskSimulatorTests", dependencies: ["RiskSimulator", "RiskContract", "RiskFeatures"]),
        .testTarget(
            name: "RiskLoopCLITests",
            dependencies: [
                "riskloop", "RiskEngine", "RiskStore", "RiskStoreLocation", "RiskStorePostgres", "RiskStoreTesting",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ]),
    ],
    swiftLanguageModes: [.v6]
)
