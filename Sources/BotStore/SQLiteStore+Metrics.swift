import BotCore
import Foundation
import GRDB

extension SQLiteStore: MetricReader {
    /// Stores samples and folds each new one into its hourly rollup, in one transaction.
    /// A sample already stored (same store, metric and second) is ignored, so a resent batch counts once.
    /// - Returns: how many samples were new.
    @discardableResult
    public func insert(_ samples: [MetricSample]) async throws -> Int {
        try await pool.write { db in
            let insert = try db.cachedStatement(sql: """
                INSERT OR IGNORE INTO metric_samples (customer_id, metric, at, value) VALUES (?, ?, ?, ?)
                """)
            let rollup = try db.cachedStatement(sql: """
                INSERT INTO metric_rollups (customer_id, metric, hour, count, sum, min, max)
                VALUES (?, ?, ?, 1, ?, ?, ?)
                ON CONFLICT (customer_id, metric, hour) DO UPDATE SET
                    count = count + 1, sum = sum + excluded.sum,
                    min = min(min, excluded.min), max = max(max, excluded.max)
                """)
            let latest = try db.cachedStatement(sql: """
                INSERT INTO metric_latest (customer_id, metric, at, value) VALUES (?, ?, ?, ?)
                ON CONFLICT (customer_id, metric) DO UPDATE SET at = excluded.at, value = excluded.value
                WHERE excluded.at >= metric_latest.at
                """)
            var inserted = 0
            for sample in samples {
                let at = sample.at.unixSeconds
                try insert.execute(arguments: [sample.store.rawValue, sample.metric.rawValue, at, sample.value])
                guard db.changesCount > 0 else { continue }
                inserted += 1
                try rollup.execute(arguments: [sample.store.rawValue, sample.metric.rawValue, at - at % 3600,
                                               sample.value, sample.value, sample.value])
                try latest.execute(arguments: [sample.store.rawValue, sample.metric.rawValue, at, sample.value])
            }
            return inserted
        }
    }

    public func latestMetrics(stores: [StoreID]?) async throws -> [StoreID: MetricSnapshot] {
        let (filter, arguments) = Self.storeFilter(stores)
        return try await pool.read { db in
            let rows = try Row.fetchCursor(db, sql: """
                SELECT customer_id, metric, value, at FROM metric_latest WHERE 1 \(filter)
                """, arguments: arguments)
            var snapshots: [StoreID: MetricSnapshot] = [:]
            while let row = try rows.next() {
                guard let store = StoreID(row[0]), let metric = MetricName(rawValue: row[1]) else { continue }
                snapshots[store, default: MetricSnapshot()].record(metric, row[2], at: Date(unixSeconds: row[3]))
            }
            return snapshots
        }
    }

    public func metrics(of store: StoreID, asOf: Date, lookback: TimeInterval) async throws -> MetricSnapshot {
        let to = asOf.unixSeconds
        return try await pool.read { db in
            var snapshot = MetricSnapshot()
            for metric in MetricName.allCases {
                let row = try Row.fetchOne(db, sql: """
                    SELECT value, at FROM metric_samples WHERE customer_id = ? AND metric = ? AND at > ? AND at <= ?
                    ORDER BY at DESC LIMIT 1
                    """, arguments: [store.rawValue, metric.rawValue, to - Int64(lookback), to])
                if let row { snapshot.record(metric, row[0], at: Date(unixSeconds: row[1])) }
            }
            return snapshot
        }
    }

    public func average(_ metric: MetricName, stores: [StoreID]?, from: Date, to: Date) async throws -> [StoreID: Double] {
        let (filter, storeArguments) = Self.storeFilter(stores)
        let arguments = StatementArguments([metric.rawValue as any DatabaseValueConvertible,
                                            from.unixSeconds, to.unixSeconds]) + storeArguments
        return try await pool.read { db in
            let rows = try Row.fetchAll(db, sql: """
                SELECT customer_id, SUM(sum) / SUM(count) FROM metric_rollups
                WHERE metric = ? AND hour >= ? AND hour < ? \(filter) GROUP BY customer_id
                """, arguments: arguments)
            var averages: [StoreID: Double] = [:]
            for row in rows {
                if let store = StoreID(row[0]) { averages[store] = row[1] }
            }
            return averages
        }
    }

    /// Hourly rollups of one metric of one store over `from..<to`, oldest first: (hour, mean, min, max).
    public func hourlyRollups(_ metric: MetricName, store: StoreID, from: Date, to: Date) async throws
        -> [(hour: Date, mean: Double, min: Double, max: Double)] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: """
                SELECT hour, sum / count, min, max FROM metric_rollups
                WHERE customer_id = ? AND metric = ? AND hour >= ? AND hour < ? ORDER BY hour
                """, arguments: [store.rawValue, metric.rawValue, from.unixSeconds, to.unixSeconds])
                .map { (Date(unixSeconds: $0[0]), $0[1], $0[2], $0[3]) }
        }
    }

    /// Deletes raw samples older than `rawBefore` and rollups older than `rollupsBefore`.
    /// - Returns: the numbers of samples and rollups deleted.
    @discardableResult
    public func prune(rawBefore: Date, rollupsBefore: Date) async throws -> (samples: Int, rollups: Int) {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM metric_samples WHERE at < ?", arguments: [rawBefore.unixSeconds])
            let samples = db.changesCount
            try db.execute(sql: "DELETE FROM metric_rollups WHERE hour < ?", arguments: [rollupsBefore.unixSeconds])
            return (samples, db.changesCount)
        }
    }

    static func storeFilter(_ stores: [StoreID]?) -> (String, StatementArguments) {
        guard let stores else { return ("", []) }
        guard !stores.isEmpty else { return ("AND 0", []) }
        let marks = Array(repeating: "?", count: stores.count).joined(separator: ", ")
        return ("AND customer_id IN (\(marks))", StatementArguments(stores.map(\.rawValue)))
    }
}
