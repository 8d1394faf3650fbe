import BotCore
import Foundation
import GRDB

extension SQLiteStore: FleetAnalyticsReader {
    public func fleetAggregates(_ metric: MetricName, from: Date, to: Date, threshold: Double) async throws -> [StoreID: MetricAggregate] {
        try await sampleRead { db in
            var aggregates: [StoreID: MetricAggregate] = [:]
            // Store by store along the primary key (CROSS JOIN keeps that order): the `at` index alone would visit the
            // period's samples of every metric and look each row up (7 s instead of 0.13 s for 10,000 stores' hour).
            let rows = try Row.fetchCursor(db, sql: """
                SELECT c.id, AVG(s.value), SUM(s.value), COUNT(*), MAX(s.value), SUM(s.value >= ?)
                FROM customers c CROSS JOIN metric_samples s ON s.customer_id = c.id AND s.metric = ? AND s.at >= ? AND s.at < ?
                GROUP BY c.id
                """, arguments: [threshold, metric.rawValue, from.unixSeconds, to.unixSeconds])
            while let row = try rows.next() {
                guard let store = StoreID(row[0] as String) else { continue }
                aggregates[store] = MetricAggregate(mean: row[1], sum: row[2], count: row[3], max: row[4], atOrAbove: row[5])
            }
            return aggregates
        }
    }

    public func connectionsNearLimit(from: Date, to: Date, share: Double) async throws -> [StoreID: Int] {
        try await sampleRead { db in
            var counts: [StoreID: Int] = [:]
            let rows = try Row.fetchCursor(db, sql: """
                SELECT m.customer_id, COUNT(*) FROM metric_latest m
                CROSS JOIN metric_samples s ON s.customer_id = m.customer_id AND s.metric = 'active_connections'
                    AND s.at >= ? AND s.at < ? AND s.value >= ? * m.value
                WHERE m.metric = 'max_connections' AND m.value > 0
                GROUP BY m.customer_id
                """, arguments: [from.unixSeconds, to.unixSeconds, share])
            while let row = try rows.next() {
                if let store = StoreID(row[0] as String) { counts[store] = row[1] }
            }
            return counts
        }
    }

    public func dailyMeans(_ metric: MetricName, from: Date, to: Date) async throws -> [StoreID: [Date: Double]] {
        try await sampleRead { db in
            var means: [StoreID: [Date: Double]] = [:]
            let rows = try Row.fetchCursor(db, sql: """
                SELECT c.id, r.hour - r.hour % 86400, SUM(r.sum) / SUM(r.count)
                FROM customers c CROSS JOIN metric_rollups r ON r.customer_id = c.id AND r.metric = ? AND r.hour >= ? AND r.hour < ?
                GROUP BY 1, 2
                """, arguments: [metric.rawValue, from.unixSeconds, to.unixSeconds])
            while let row = try rows.next() {
                guard let store = StoreID(row[0] as String) else { continue }
                means[store, default: [:]][Date(unixSeconds: row[1])] = row[2]
            }
            return means
        }
    }

    public func keepFleetHealth(day: Date) async throws -> (average: Double, stores: Int)? {
        try await pool.write { db in
            guard let row = try Row.fetchOne(db, sql: """
                SELECT AVG(health_score), COUNT(DISTINCT customer_id) FROM performance_snapshots WHERE timestamp >= ? AND timestamp < ?
                """, arguments: [day.unixSeconds, day.unixSeconds + 86400]), let average = row[0] as Double?, (row[1] as Int) > 0
            else { return nil }
            let stores: Int = row[1]
            try db.execute(sql: """
                INSERT INTO fleet_health_daily (day, average, stores) VALUES (?, ?, ?)
                ON CONFLICT (day) DO UPDATE SET average = excluded.average, stores = excluded.stores
                """, arguments: [day.unixSeconds, average, stores])
            return (average, stores)
        }
    }

    public func fleetHealth(from: Date, to: Date) async throws -> [(day: Date, average: Double, stores: Int)] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT day, average, stores FROM fleet_health_daily WHERE day >= ? AND day < ? ORDER BY day",
                             arguments: [from.unixSeconds, to.unixSeconds]).map { (Date(unixSeconds: $0[0]), $0[1], $0[2]) }
        }
    }
}
