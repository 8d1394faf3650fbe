import BotCore
import Foundation
import GRDB

extension SQLiteStore: ConsoleReader {
    public func fleetReadings(asOf: Date) async throws -> FleetReadings {
        try await sampleRead { db in
            FleetReadings(
                customers: try Self.allCustomers(db),
                latest: try Self.latestMetrics(db, stores: nil, metrics: metrics),
                uptime24h: try Self.average(db, .uptimePercent, stores: nil, from: asOf.addingTimeInterval(-86400), to: asOf),
                openIssues: try Self.openIssues(db, store: nil))
        }
    }

    public func storeReadings(_ store: StoreID, asOf: Date) async throws -> StoreReadings? {
        try await sampleRead { db in
            guard let customer = try Self.customer(db, store) else { return nil }
            let dayAgo = asOf.addingTimeInterval(-86400)
            return StoreReadings(
                customer: customer,
                latest: try Self.latestMetrics(db, stores: [store], metrics: metrics)[store] ?? MetricSnapshot(),
                dayAgo: try Self.metrics(db, of: store, asOf: dayAgo, lookback: metrics.longestFreshness, metrics: metrics),
                uptime24h: try Self.average(db, .uptimePercent, stores: [store], from: dayAgo, to: asOf)[store],
                uptime24hDayAgo: try Self.average(db, .uptimePercent, stores: [store],
                                                  from: dayAgo.addingTimeInterval(-86400), to: dayAgo)[store],
                openIssues: try Self.openIssues(db, store: store))
        }
    }

    public func storeNames() async throws -> [String] {
        try await pool.read { db in try String.fetchAll(db.cachedStatement(sql: "SELECT id FROM customers ORDER BY id")) }
    }
}
