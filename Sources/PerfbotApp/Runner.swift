import BotCore
import BotPlaybooks
import BotPostgres
import BotServer
import BotStore
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle

/// Runs perfbot's server and services until SIGTERM or SIGINT.
public enum Runner {
    /// Serves until a shutdown signal; `onReady` gets the bound port.
    public static func serve(_ wiring: Wiring, onReady: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        let configuration = wiring.configuration
        let services = wiring.services().map { service -> any Service in
            if let engine = service as? JobEngine { return DrainingService(engine: engine) }
            return LifecycleService(inner: service)
        }
        let app = try wiring.server().makeApplication(
            host: configuration.host, port: configuration.port, services: services, onServerRunning: onReady)
        wiring.logger.info("perfbot starting", metadata: ["config": .string(configuration.summary)])
        let interrupted = try await wiring.store.releaseInterruptedDeliveries(at: wiring.clock.now)
        if interrupted > 0 {
            wiring.logger.notice("deliveries interrupted by the last stop; their retries will be handled afresh",
                                 metadata: ["count": "\(interrupted)"])
        }
        try await app.runService(gracefulShutdownSignals: [.sigterm, .sigint])
    }

    /// Opens the store named by the configuration, creating and migrating it if needed.
    public static func openStore(_ configuration: PerfbotConfiguration) throws -> SQLiteStore {
        if PostgresEndpoint.isURL(configuration.databasePath) {
            throw PostgresNotServed()
        }
        return try SQLiteStore(path: configuration.databasePath, metrics: Wiring.metricCatalogue)
    }
}

/// Runs a `BotService` under swift-service-lifecycle, stopping it on graceful shutdown.
struct LifecycleService: Service {
    let inner: any BotService

    func run() async throws {
        try await cancelWhenGracefulShutdown {
            do {
                try await inner.run()
            } catch is CancellationError {
                return
            }
        }
    }
}

/// The job engine under swift-service-lifecycle: never cancelled by a shutdown signal. On graceful shutdown
/// it stops starting steps, lets the running step finish within the drain window, records what still runs
/// as `interrupted`, and only then kills its process group.
struct DrainingService: Service {
    let engine: JobEngine

    func run() async throws {
        try await engine.recover()
        try? await gracefulShutdown()
        await engine.drain()
    }
}

/// PERFBOT_DATABASE names PostgreSQL, which so far holds a copy and elects a leader but does not serve.
public struct PostgresNotServed: Error, CustomStringConvertible {
    public var description: String {
        "PERFBOT_DATABASE names a PostgreSQL database. perfbot can migrate it (`perfbot db migrate`) and copy an "
            + "installation into it (`perfbot db copy`), but it still serves and runs its commands from its SQLite "
            + "file: set PERFBOT_DATABASE to that file."
    }
}
