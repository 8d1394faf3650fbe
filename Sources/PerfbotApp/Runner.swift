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
    public static func serve(_ wiring: Wiring, alongside extra: [any BotService] = [],
                             onReady: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        let configuration = wiring.configuration
        let services = (wiring.services() + extra).map { service -> any Service in
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

    /// Serves as one replica of several on the PostgreSQL database the configuration names: migrates it, then serves
    /// HTTP, deliveries, ingestion, the outbox and jobs like every replica, and campaigns for the lead (the check
    /// cycle, predictions, weekly mail and retention). Heartbeats tell the others this replica's running jobs are
    /// its own; every heartbeat also records the jobs of replicas that stopped beating `interrupted` and takes up
    /// queued jobs nobody runs.
    /// - Parameter build: the wiring on this replica's store, leadership and metrics.
    public static func serveReplica(_ configuration: PerfbotConfiguration, logger: Logger,
                                    onReady: @escaping @Sendable (Int) async -> Void = { _ in },
                                    build: @escaping @Sendable (_ store: any PerfbotStore, _ leadership: any Leadership,
                                                                _ metrics: ServerMetrics) throws -> Wiring) async throws {
        let endpoint = try PostgresEndpoint(url: configuration.databasePath)
        try await PostgresPool.with(endpoint, connections: 8, logger: logger) { pool in
            let applied = try await pool.migrate()
            if !applied.isEmpty { logger.notice("database migrated", metadata: ["applied": "\(applied.joined(separator: ", "))"]) }
            let identity = PostgresLeadership.defaultIdentity()
            let store = PostgresStore(database: pool, replica: identity, metrics: Wiring.metricCatalogue)
            // What a killed replica acknowledged and did not file is filed before anything reads.
            try await store.fileInbox()
            let metrics = ServerMetrics()
            let lease = replicaLease(checkInterval: configuration.checkInterval)
            let leadership = PostgresLeadership(database: pool, identity: identity, lease: lease, logger: logger) { metrics.setLeader($0) }
            try await store.heartbeat(for: lease)
            let wiring = try build(store, leadership, metrics)
            logger.notice("replica starting", metadata: ["replica": "\(identity)", "database": "\(endpoint)", "lease": "\(lease)"])
            let heartbeat = ReplicaHeartbeat(store: store, engine: wiring.engine, lease: lease,
                                             drain: .seconds(configuration.drainSeconds), logger: logger)
            try await serve(wiring, alongside: [LeadershipService(leadership), heartbeat], onReady: onReady)
            // The last pushes' answers are written to their delivery records before the pool closes.
            await store.answersWritten()
        }
    }

    /// How long a leader's lease lasts: a third of the check interval (at least 3 s). Renewed every quarter of it, a
    /// dead leader is replaced within five twelfths of the interval, which leaves most of the interval to a busy
    /// machine and still replaces it within one.
    public static func replicaLease(checkInterval: TimeInterval) -> Duration {
        .milliseconds(Int64(max(3, checkInterval / 3) * 1000))
    }

    /// Runs `body` on the store the configuration names, on either engine (commands that work on both, such as
    /// importing customers).
    public static func withStore<Result: Sendable>(_ configuration: PerfbotConfiguration, logger: Logger,
                                                   _ body: @Sendable (any PerfbotStore) async throws -> Result) async throws -> Result {
        guard PostgresEndpoint.isURL(configuration.databasePath) else { return try await body(try openStore(configuration)) }
        return try await PostgresPool.with(try PostgresEndpoint(url: configuration.databasePath), connections: 2, logger: logger) { pool in
            try await pool.migrate()
            return try await body(PostgresStore(database: pool, replica: "cli:\(ProcessInfo.processInfo.processIdentifier)",
                                                metrics: Wiring.metricCatalogue))
        }
    }

    /// Opens the SQLite store named by the configuration, creating and migrating it if needed (the commands that read
    /// the file directly; `perfbot serve` also runs on PostgreSQL).
    public static func openStore(_ configuration: PerfbotConfiguration) throws -> SQLiteStore {
        if PostgresEndpoint.isURL(configuration.databasePath) {
            throw PostgresNotServed()
        }
        return try SQLiteStore(path: configuration.databasePath, metrics: Wiring.metricCatalogue)
    }
}

/// Tells the other replicas this one is alive (its running jobs are its own), and with each beat records the jobs of
/// replicas that stopped beating `interrupted` and takes up queued jobs nobody runs. On a stop it says it is alive
/// until the drain window has passed, so no other replica records the jobs it still finishes.
struct ReplicaHeartbeat: BotService {
    let name = "replica-heartbeat"
    let store: PostgresStore
    let engine: JobEngine
    let lease: Duration
    let drain: Duration
    let logger: Logger

    func run() async throws {
        while !Task.isCancelled {
            do {
                try await store.heartbeat(for: lease)
                _ = try await engine.recover()
            } catch is CancellationError {
                break
            } catch {
                logger.error("replica heartbeat failed", metadata: ["error": "\(error)"])
            }
            do { try await Task.sleep(for: lease / 3) } catch { break }
        }
        // A task of its own: this one is cancelled, and the last beat must still reach the database.
        let (store, until) = (store, lease + drain)
        await Task { try? await store.heartbeat(for: until) }.value
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

/// A command that reads the SQLite file directly was given a PostgreSQL database.
public struct PostgresNotServed: Error, CustomStringConvertible {
    public var description: String {
        "PERFBOT_DATABASE names a PostgreSQL database. `perfbot serve`, `perfbot db migrate` and `perfbot db copy` work "
            + "on it; this command reads an SQLite file: ask the replicas through Slack or e-mail instead, or point "
            + "PERFBOT_DATABASE at the file."
    }
}
