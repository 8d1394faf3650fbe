import BotCore
import Foundation
import PostgresNIO

extension PostgresStore: FleetAnalyticsReader {
    public func fleetAggregates(_ metric: MetricName, from: Date, to: Date, threshold: Double) async throws -> [StoreID: MetricAggregate] {
        var aggregates: [StoreID: MetricAggregate] = [:]
        for row in try await sampleRows("""
            SELECT customer_id, AVG(value), SUM(value), COUNT(*), MAX(value), COUNT(*) FILTER (WHERE value >= \(threshold))
            FROM metric_samples WHERE metric = \(metric.rawValue) AND at >= \(from.unixSeconds) AND at < \(to.unixSeconds)
            GROUP BY customer_id
            """) {
            let (store, mean, sum, count, max, above) = try row.decode((String, Double, Double, Int64, Double, Int64).self)
            guard let id = StoreID(store) else { continue }
            aggregates[id] = MetricAggregate(mean: mean, sum: sum, count: Int(count), max: max, atOrAbove: Int(above))
        }
        return aggregates
    }

    public func connectionsNearLimit(from: Date, to: Date, share: Double) async throws -> [StoreID: Int] {
        var counts: [StoreID: Int] = [:]
        for row in try await sampleRows("""
            SELECT s.customer_id, COUNT(*) FROM metric_samples s
            JOIN metric_latest m ON m.customer_id = s.customer_id AND m.metric = 'max_connections' AND m.value > 0
            WHERE s.metric = 'active_connections' AND s.at >= \(from.unixSeconds) AND s.at < \(to.unixSeconds) AND s.value >= \(share) * m.value
            GROUP BY s.customer_id
            """) {
            let (store, count) = try row.decode((String, Int64).self)
            if let id = StoreID(store) { counts[id] = Int(count) }
        }
        return counts
    }

    public func dailyMeans(_ metric: MetricName, from: Date, to: Date) async throws -> [StoreID: [Date: Double]] {
        var means: [StoreID: [Date: Double]] = [:]
        for row in try await sampleRows("""
            SELECT customer_id, hour - hour % 86400, SUM(sum) / SUM(count)::DOUBLE PRECISION FROM metric_rollups
            WHERE metric = \(metric.rawValue) AND hour >= \(from.unixSeconds) AND hour < \(to.unixSeconds) GROUP BY 1, 2
            """) {
            let (store, day, mean) = try row.decode((String, Int64, Double).self)
            if let id = StoreID(store) { means[id, default: [:]][Date(unixSeconds: day)] = mean }
        }
        return means
    }

    public func keepFleetHealth(day: Date) async throws -> (average: Double, stores: Int)? {
        let start = day.unixSeconds, end = day.unixSeconds + 86400
        guard let row = try await database.rows("""
            SELECT AVG(health_score)::DOUBLE PRECISION, COUNT(DISTINCT customer_id) FROM performance_snapshots
            WHERE timestamp >= \(start) AND timestamp < \(end)
            """).first else { return nil }
        let (average, stores) = try row.decode((Double?, Int64).self)
        guard let average, stores > 0 else { return nil }
        _ = try await database.rows("""
            INSERT INTO fleet_health_daily (day, average, stores) VALUES (\(start), \(average), \(stores))
            ON CONFLICT (day) DO UPDATE SET average = EXCLUDED.average, stores = EXCLUDED.stores
            """)
        return (average, Int(stores))
    }

    public func fleetHealth(from: Date, to: Date) async throws -> [(day: Date, average: Double, stores: Int)] {
        try await database.rows("""
            SELECT day, average, stores FROM fleet_health_daily WHERE day >= \(from.unixSeconds) AND day < \(to.unixSeconds) ORDER BY day
            """).map {
            let (day, average, stores) = try $0.decode((Int64, Double, Int64).self)
            return (Date(unixSeconds: day), average, Int(stores))
        }
    }
}
