import ArgumentParser
import BotCore
import BotPostgres
import BotServer
import BotStore
import Foundation
import Hummingbird
import Logging
import PerfbotApp

/// `perfbot bench-ingest-server`: one replica's HTTP ingest (verification, the delivery log, metric pushes) on
/// SQLite or PostgreSQL, for `scripts/bench-ingest` to push to. Creates the fleet's customers if the database has none.
struct BenchIngestServer: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-ingest-server",
        abstract: "Serve only the metric push on a database, for scripts/bench-ingest.", shouldDisplay: false)

    @Option(help: "A SQLite file or a postgres:// URL.") var database: String
    @Option(help: "The port.") var port: Int
    @Option(help: "The metrics token.") var token: String
    @Option(help: "How many stores the fleet has.") var stores = 10_000
    @Option(help: "This replica's name.") var replica = "bench"

    func run() async throws {
        var logger = Logger(label: "perfbot-bench")
        logger.logLevel = .warning
        let fleet = (0..<stores).map { index in
            Customer(id: StoreID(String(format: "store-%05d", index))!, platform: Platform("woocommerce", displayName: "WooCommerce"),
                     plan: .premium, contactEmail: "owner@store-\(index).example", container: "store-\(index)")
        }
        if PostgresEndpoint.isURL(database) {
            let pool = PostgresPool(endpoint: try PostgresEndpoint(url: database), connections: 16, logger: logger)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await pool.run() }
                try await pool.migrate()
                let store = PostgresStore(database: pool, replica: replica)
                if try await pool.count("customers") == 0 { try await store.upsert(fleet, at: Date()) }
                try await serve(store, logger: logger)
                group.cancelAll()
            }
        } else {
            let store = try SQLiteStore(path: database, metrics: Wiring.metricCatalogue)
            if try await store.allCustomers().isEmpty { try await store.upsert(fleet, at: Date()) }
            try await serve(store, logger: logger)
        }
    }

    func serve(_ store: any ServerStore, logger: Logger) async throws {
        var settings = ServerSettings()
        settings.sourceTokens = [.metrics: token]
        // The bench measures ingestion, not the limiter.
        settings.rateLimits = [.sourceToken: RateLimit(10_000_000, per: 60)]
        let server = PerfbotServer(store: store, commands: try CommandRouter(plugins: [], access: AccessList()), clock: SystemClock(),
                                   settings: settings, metrics: ServerMetrics(), logger: logger, metricCatalogue: Wiring.metricCatalogue)
        try await server.makeApplication(host: "127.0.0.1", port: port).runService(gracefulShutdownSignals: [.sigterm, .sigint])
    }
}
