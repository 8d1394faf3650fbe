import BotCore
import BotPostgres
import BotServer
import BotStore
import Foundation

/// Everything `perfbot serve` keeps: what each module's store protocol asks, on one engine. SQLite (one file, one
/// process) is the embedded default; PostgreSQL is shared by several replicas.
public protocol PerfbotStore: SchedulerStore, OperationsStore, CustomerStore, StatusPageStore, ServerStore, SampleReader,
    CollectorStatusStore, IssueReader, FactorStore, FleetAnalyticsReader, TrafficStore {
    /// Prunes every growing table per `policy`. - Returns: rows removed per table.
    @discardableResult func prune(_ policy: RetentionPolicy, now: Date) async throws -> [String: Int]
    /// Deliveries left `received` by a process that stopped are marked failed, so their retries are handled afresh.
    @discardableResult func releaseInterruptedDeliveries(at: Date) async throws -> Int
    /// Inserts or updates every customer in one transaction (`perfbot customers import`).
    func upsert(_ customers: [Customer], at now: Date) async throws
}

extension SQLiteStore: PerfbotStore {}

extension PostgresStore: PerfbotStore {
    public func releaseInterruptedDeliveries(at: Date) async throws -> Int {
        try await releaseInterruptedDeliveries(at: at, olderThan: 300)
    }
}
