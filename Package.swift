// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "perfbot",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "perfbot", targets: ["perfbot"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.2"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth", from: "2.5.0"),
    ],
    targets: [
        // Domain types, plugin protocol, command grammar and router, health score, clock.
        .target(
            name: "BotCore",
            dependencies: [.product(name: "Logging", package: "swift-log")]
        ),
        // Playbook model, YAML loading and validation, executors and the runner.
        .target(
            name: "BotPlaybooks",
            dependencies: [
                "BotCore",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            resources: [.copy("Playbooks")]
        ),
        // SQLite storage and migrations.
        .target(
            name: "BotStore",
            dependencies: ["BotCore", .product(name: "GRDB", package: "GRDB.swift"),
                           .product(name: "GRDBSQLite", package: "GRDB.swift"), .product(name: "Logging", package: "swift-log")]
        ),
        // PostgreSQL, past one machine: the schema, the copy from SQLite, the leader lease and claimed rows.
        .target(
            name: "BotPostgres",
            dependencies: ["BotCore", "BotStore", .product(name: "PostgresNIO", package: "postgres-nio"),
                           .product(name: "Logging", package: "swift-log")]
        ),
        // Slack signing, payloads and Block Kit rendering.
        .target(
            name: "BotChannels",
            dependencies: ["BotCore", "CCurl", "CurlTransfer", .product(name: "Crypto", package: "swift-crypto")]
        ),
        // libcurl, with a few typed wrappers for its variadic calls.
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        // One libcurl HTTP transfer (Slack's API, Prometheus), off the cooperative threads.
        .target(name: "CurlTransfer", dependencies: ["CCurl"]),
        // Collectors and report readers: HTTP timing, Lighthouse, Redis, Varnish, PHP-FPM, MySQL.
        .target(name: "BotProbes", dependencies: ["BotCore", "BotPlaybooks", "TrafficAnalytics", "CCurl", "CurlTransfer", .product(name: "Crypto", package: "swift-crypto"),
                                          .product(name: "Logging", package: "swift-log")]),
        // libmaxminddb, for the countries of traffic analytics.
        .systemLibrary(name: "CMaxMindDB", pkgConfig: "libmaxminddb", providers: [.apt(["libmaxminddb-dev"])]),
        // Access logs read into aggregates: the line parser, crawlers, content kinds, countries, the report.
        .target(name: "TrafficAnalytics", dependencies: ["BotCore", "CMaxMindDB", .product(name: "Yams", package: "Yams")],
                resources: [.copy("Data")]),
        // The Hummingbird application: routes, verification, limits, errors, metrics.
        .target(
            name: "BotServer",
            dependencies: [
                "BotCore", "BotChannels", "BotProbes",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ]
        ),
        // The customer's channels: replies and commands by e-mail, the signed status page and its links.
        .target(
            name: "CustomerChannels",
            dependencies: ["BotCore", "BotPlaybooks", "BotChannels", "BotServer", .product(name: "Logging", package: "swift-log")]
        ),
        // Plugins (plain targets, not SwiftPM package plugins).
        .target(name: "ConsolePlugin", dependencies: ["BotCore"], path: "Plugins/Console"),
        .target(name: "OperationsPlugin", dependencies: ["BotCore", "BotPlaybooks"], path: "Plugins/Operations"),
        .target(name: "WooCommercePlugin", dependencies: ["BotCore", "BotPlaybooks"], path: "Plugins/WooCommerce",
                exclude: ["README.md"], resources: [.copy("Playbooks")]),
        .target(name: "MagentoPlugin", dependencies: ["BotCore", "BotPlaybooks"], path: "Plugins/Magento",
                exclude: ["README.md"], resources: [.copy("Playbooks")]),
        .target(name: "SchedulerPlugin", dependencies: ["BotCore", "BotPlaybooks"], path: "Plugins/Scheduler"),
        .target(name: "CustomerPlugin", dependencies: ["BotCore", "BotPlaybooks"], path: "Plugins/Customer"),
        // Configuration, wiring, demo fleet, customer import, benchmark: everything the CLI runs.
        .target(
            name: "PerfbotApp",
            dependencies: [
                "BotCore", "BotStore", "BotChannels", "BotServer", "BotPlaybooks", "BotProbes", "CustomerChannels", "ConsolePlugin", "OperationsPlugin",
                "WooCommercePlugin", "MagentoPlugin", "SchedulerPlugin", "CustomerPlugin", "BotPostgres", "TrafficAnalytics",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "HummingbirdOTP", package: "hummingbird-auth"),
            ]
        ),
        .executableTarget(
            name: "perfbot",
            dependencies: [
                "PerfbotApp", "BotCore", "BotStore", "BotPostgres", "BotServer", "BotPlaybooks", "BotChannels", "CustomerChannels", "SchedulerPlugin", "ConsolePlugin",
                "TrafficAnalytics",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // Feeds every parser of outside bytes edited fixtures (`scripts/fuzz`).
        .executableTarget(name: "perfbot-fuzz", dependencies: ["BotCore", "BotChannels", "BotProbes", "TrafficAnalytics"], path: "Sources/PerfbotFuzz"),
        .target(name: "TestSupport", dependencies: ["BotCore", "BotPlaybooks", "BotChannels", "BotPostgres"], path: "Tests/TestSupport"),
        .testTarget(name: "WooCommercePluginTests", dependencies: ["WooCommercePlugin", "MagentoPlugin", "BotPlaybooks", "TestSupport"],
                    exclude: ["Fixtures"]),
        .testTarget(name: "MagentoPluginTests", dependencies: ["MagentoPlugin", "WooCommercePlugin", "BotPlaybooks", "TestSupport"],
                    exclude: ["Fixtures"]),
        .testTarget(name: "BotCoreTests", dependencies: ["BotCore", "TestSupport"]),
        .testTarget(name: "BotStoreTests", dependencies: ["BotStore", .product(name: "GRDB", package: "GRDB.swift"), "TestSupport"]),
        .testTarget(name: "BotPostgresTests", dependencies: ["BotPostgres", "BotStore", "BotChannels", "BotServer", "TestSupport",
                                                         .product(name: "HummingbirdTesting", package: "hummingbird"),
                                                         .product(name: "GRDB", package: "GRDB.swift"),
                                                         .product(name: "PostgresNIO", package: "postgres-nio")]),
        .testTarget(name: "BotPlaybooksTests", dependencies: ["BotPlaybooks", "TestSupport"], exclude: ["Fixtures"]),
        .testTarget(
            name: "BotProbesTests",
            dependencies: [
                "BotProbes", "BotPlaybooks", "TestSupport",
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        .testTarget(name: "TrafficAnalyticsTests", dependencies: ["TrafficAnalytics", "BotCore", "BotPlaybooks"], exclude: ["Fixtures"]),
        .testTarget(name: "BotChannelsTests", dependencies: ["BotChannels", "TestSupport"], exclude: ["Fixtures"]),
        .testTarget(
            name: "BotServerTests",
            dependencies: [
                "BotServer", "PerfbotApp", "CustomerChannels", "ConsolePlugin", "BotPlaybooks", "BotProbes", "BotPostgres", "TestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(name: "ConsolePluginTests", dependencies: ["ConsolePlugin", "BotStore", "TestSupport"]),
        .testTarget(
            name: "OperationsPluginTests",
            dependencies: ["OperationsPlugin", "WooCommercePlugin", "MagentoPlugin", "BotPlaybooks", "BotStore", "PerfbotApp", "TestSupport"]
        ),
        .testTarget(name: "PerfbotAppTests", dependencies: ["PerfbotApp", "BotPlaybooks", "BotProbes", "TestSupport",
                                                      .product(name: "HummingbirdOTP", package: "hummingbird-auth")]),
        .testTarget(
            name: "SchedulerPluginTests",
            dependencies: ["SchedulerPlugin", "PerfbotApp", "BotStore", "BotPostgres", "BotPlaybooks", "BotChannels", "BotProbes", "TestSupport"]
        ),
    ]
)
