import BotCore
import Foundation
import GRDB

extension SQLiteStore: MetricReader {
    /// Stores samples and folds each new one into its hourly rollup, in one transaction.
    /// A sample already stored (same store, metric and second) is ignored, so a resent batch counts once.
    /// - Returns: how many samples were new.
    @discardableResult
    public func insert(_ samples: [MetricSample]) async throws -> Int {
        // Nothing to write: no write transaction (a cycle asks for every store, most with nothing new of their own).
        guard !samples.isEmpty else { return 0 }
        // After what was pushed before it, so a sample pushed and then written here is counted once, as a duplicate.
        await inbox.settled()
        return try await pool.write { db in try Self.insert(db, samples) }
    }

    /// Rows written per statement: four values a row, far below SQLite's limit of 32,766 variables.
    static let insertBatch = 500

    static func insert(_ db: Database, _ samples: [MetricSample]) throws -> Int {
        var inserted = 0
        for start in stride(from: 0, to: samples.count, by: insertBatch) {
            inserted += try insertBatch(db, samples[start..<min(start + insertBatch, samples.count)])
        }
        return inserted
    }

    /// One batch in four statements, whatever its size: the samples (those already stored, same store, metric and
    /// second, are left out and not returned), then for the new ones, in the order they were stored, their hourly
    /// rollups, the newest values and the journal. Rows of one statement are applied one after another, so a batch
    /// leaves exactly what one statement per sample would.
    static func insertBatch(_ db: Database, _ samples: ArraySlice<MetricSample>) throws -> Int {
        guard !samples.isEmpty else { return 0 }
        func rows(_ count: Int, _ row: String) -> String { Array(repeating: row, count: count).joined(separator: ", ") }
        var arguments: [(any DatabaseValueConvertible)?] = []
        arguments.reserveCapacity(samples.count * 4)
        for sample in samples {
            arguments += [sample.store.rawValue, sample.metric.rawValue, sample.at.unixSeconds, sample.value]
        }
        let new = try Row.fetchAll(db.cachedStatement(sql: """
            INSERT OR IGNORE INTO metric_samples (customer_id, metric, at, value) VALUES \(rows(samples.count, "(?, ?, ?, ?)"))
            RETURNING customer_id, metric, at, value
            """), arguments: StatementArguments(arguments))
        guard !new.isEmpty else { return 0 }
        var fresh: [(any DatabaseValueConvertible)?] = [], rollups: [(any DatabaseValueConvertible)?] = []
        fresh.reserveCapacity(new.count * 4)
        rollups.reserveCapacity(new.count * 6)
        for row in new {
            let store: String = row[0], metric: String = row[1], at: Int64 = row[2], value: Double = row[3]
            fresh += [store, metric, at, value]
            rollups += [store, metric, at - at % 3600, value, value, value]
        }
        try db.cachedStatement(sql: """
            INSERT INTO metric_rollups (customer_id, metric, hour, count, sum, min, max)
            VALUES \(rows(new.count, "(?, ?, ?, 1, ?, ?, ?)"))
            ON CONFLICT (customer_id, metric, hour) DO UPDATE SET
                count = count + 1, sum = sum + excluded.sum,
                min = min(min, excluded.min), max = max(max, excluded.max)
            """).execute(arguments: StatementArguments(rollups))
        try db.cachedStatement(sql: """
            INSERT INTO metric_latest (customer_id, metric, at, value) VALUES \(rows(new.count, "(?, ?, ?, ?)"))
            ON CONFLICT (customer_id, metric) DO UPDATE SET at = excluded.at, value = excluded.value
            WHERE excluded.at >= metric_latest.at
            """).execute(arguments: StatementArguments(fresh))
        try db.cachedStatement(sql: """
            INSERT INTO sample_journal (customer_id, metric, at, value) VALUES \(rows(new.count, "(?, ?, ?, ?)"))
            """).execute(arguments: StatementArguments(fresh))
        return new.count
    }

    public func latestMetrics(stores: [StoreID]?) async throws -> [StoreID: MetricSnapshot] {
        let metrics = metrics
        return try await sampleRead { db in try Self.latestMetrics(db, stores: stores, metrics: metrics) }
    }

    public func metrics(of store: StoreID, asOf: Date, lookback: TimeInterval) async throws -> MetricSnapshot {
        let metrics = metrics
        return try await sampleRead { db in try Self.metrics(db, of: store, asOf: asOf, lookback: lookback, metrics: metrics) }
    }

    public func average(_ metric: MetricName, stores: [StoreID]?, from: Date, to: Date) async throws -> [StoreID: Double] {
        try await sampleRead { db in try Self.average(db, metric, stores: stores, from: from, to: to) }
    }

    static func latestMetrics(_ db: Database, stores: [StoreID]?, metrics: MetricCatalogue) throws -> [StoreID: MetricSnapshot] {
        let (filter, arguments) = storeFilter(stores)
        let rows = try Row.fetchCursor(db.cachedStatement(sql: """
            SELECT customer_id, metric, value, at FROM metric_latest WHERE 1 \(filter)
            """), arguments: arguments)
        var snapshots: [StoreID: MetricSnapshot] = [:]
        while let row = try rows.next() {
            guard let store = StoreID(row[0]), let metric = metrics.metric(named: row[1]) else { continue }
            snapshots[store, default: MetricSnapshot()].record(metric, row[2], at: Date(unixSeconds: row[3]))
        }
        return snapshots
    }

    static func metrics(_ db: Database, of store: StoreID, asOf: Date, lookback: TimeInterval,
                        metrics: MetricCatalogue) throws -> MetricSnapshot {
        let to = asOf.unixSeconds
        let statement = try db.cachedStatement(sql: """
            SELECT value, at FROM metric_samples WHERE customer_id = ? AND metric = ? AND at > ? AND at <= ?
            ORDER BY at DESC LIMIT 1
            """)
        var snapshot = MetricSnapshot()
        for metric in metrics.all {
            let row = try Row.fetchOne(statement, arguments: [store.rawValue, metric.rawValue, to - Int64(lookback), to])
            if let row { snapshot.record(metric, row[0], at: Date(unixSeconds: row[1])) }
        }
        return snapshot
    }

    static func average(_ db: Database, _ metric: MetricName, stores: [StoreID]?, from: Date, to: Date) throws -> [StoreID: Double] {
        let (filter, storeArguments) = storeFilter(stores)
        let arguments = StatementArguments([metric.rawValue as any DatabaseValueConvertible,
                                            from.unixSeconds, to.unixSeconds]) + storeArguments
        let rows = try Row.fetchAll(db.cachedStatement(sql: """
            SELECT customer_id, SUM(sum) / SUM(count) FROM metric_rollups
            WHERE metric = ? AND hour >= ? AND hour < ? \(filter) GROUP BY customer_id
            """), arguments: arguments)
        var averages: [StoreID: Double] = [:]
        for row in rows {
            if let store = StoreID(row[0]) { averages[store] = row[1] }
        }
        return averages
    }

    /// Hourly rollups of one metric of one store over `from..<to`, oldest first: (hour, mean, min, max).
    public func hourlyRollups(_ metric: MetricName, store: StoreID, from: Date, to: Date) async throws
        -> [(hour: Date, mean: Double, min: Double, max: Double)] {
        try await sampleRead { db in
            try Row.fetchAll(db, sql: """
                SELECT hour, sum / count, min, max FROM metric_rollups
                WHERE customer_id = ? AND metric = ? AND hour >= ? AND hour < ? ORDER BY hour
                """, arguments: [store.rawValue, metric.rawValue, from.unixSeconds, to.unixSeconds])
                .map { (Date(unixSeconds: $0[0]), $0[1], $0[2], $0[3]) }
        }
    }

    /// `AND <column> IN (?, …)` for `stores`; nothing for nil (every store).
    static func storeFilter(_ stores: [StoreID]?, column: String = "customer_id") -> (String, StatementArguments) {
        guard let stores else { return ("", []) }
        guard !stores.isEmpty else { return ("AND 0", []) }
        let marks = Array(repeating: "?", count: stores.count).joined(separator: ", ")
        return ("AND \(column) IN (\(marks))", StatementArguments(stores.map(\.rawValue)))
    }
}

extension SQLiteStore {
    /// Records the delivery and puts the new samples of known stores in the inbox in one transaction, so a batch is
    /// stored exactly once: a repeat of the key gets the first answer and stores nothing. The samples are filed right
    /// after (see `SampleInbox`); every read of samples waits for that.
    /// - Parameter answer: builds the answer to record from what was stored.
    public func ingest(_ samples: [MetricSample], delivery: DeliveryRecord,
                       answer: @escaping @Sendable (SampleIngest) -> StoredResponse) async throws -> DeliveryResult {
        let result = try await pool.write { db -> (DeliveryResult, Int64) in
            if case let .duplicate(_, stored) = try Self.admit(db, delivery) { return (.duplicate(stored), 0) }
            let stores = Array(Set(samples.map(\.store)))
            let (filter, arguments) = Self.storeFilter(stores, column: "id")
            let known = Set(try String.fetchAll(db, sql: "SELECT id FROM customers WHERE 1 \(filter)",
                                                arguments: arguments).compactMap(StoreID.init))
            let accepted = samples.filter { known.contains($0.store) }
            let (inserted, last) = try Self.enqueue(db, accepted)
            let response = answer(SampleIngest(inserted: inserted, duplicates: accepted.count - inserted,
                                               unknownStores: Set(stores).subtracting(known)))
            try Self.finish(db, key: delivery.key, succeeded: response.succeeded, response: response, at: delivery.at)
            return (DeliveryResult.fresh(response), last)
        }
        inboxArrived(result.1)
        return result.0
    }
}

extension SQLiteStore: SampleReader {
    public func samples(_ metric: MetricName, of store: StoreID, from: Date, to: Date) async throws -> [(at: Date, value: Double)] {
        try await sampleRead { db in
            try Row.fetchAll(db.cachedStatement(sql: """
                SELECT at, value FROM metric_samples WHERE customer_id = ? AND metric = ? AND at > ? AND at <= ? ORDER BY at
                """), arguments: [store.rawValue, metric.rawValue, from.unixSeconds, to.unixSeconds])
                .map { (Date(unixSeconds: $0[0]), $0[1]) }
        }
    }
}

extension SQLiteStore {
    /// Loads history in bulk (benchmarks, imports): raw samples, their latest values, and hourly
    /// rollups given directly as (store, metric, hour, mean), in one transaction.
    public func bulkLoad(samples: [MetricSample], rollups: [(store: StoreID, metric: MetricName, hour: Date, mean: Double)]) async throws {
        try await pool.write { db in
            let sample = try db.cachedStatement(sql: "INSERT OR IGNORE INTO metric_samples VALUES (?, ?, ?, ?)")
            for item in samples {
                try sample.execute(arguments: [item.store.rawValue, item.metric.rawValue, item.at.unixSeconds, item.value])
            }
            let latest = try db.cachedStatement(sql: """
                INSERT INTO metric_latest VALUES (?, ?, ?, ?)
                ON CONFLICT (customer_id, metric) DO UPDATE SET at = excluded.at, value = excluded.value
                WHERE excluded.at >= metric_latest.at
                """)
            var newest: [String: MetricSample] = [:]
            for item in samples {
                let key = item.store.rawValue + "/" + item.metric.rawValue
                if let held = newest[key], held.at >= item.at { continue }
                newest[key] = item
            }
            for item in newest.values {
                try latest.execute(arguments: [item.store.rawValue, item.metric.rawValue, item.at.unixSeconds, item.value])
            }
            let rollup = try db.cachedStatement(sql: "INSERT OR REPLACE INTO metric_rollups VALUES (?, ?, ?, 1, ?, ?, ?)")
            for item in rollups {
                try rollup.execute(arguments: [item.store.rawValue, item.metric.rawValue, item.hour.unixSeconds,
                                               item.mean, item.mean, item.mean])
            }
        }
    }

    /// Reads every raw sample of `metrics` in `from..<to`, or every hourly rollup of them when `rollups`, and returns
    /// how many rows there were (the floor of the console's analytics, for `perfbot bench-console`).
    public func countRows(of metrics: [MetricName], from: Date, to: Date, rollups: Bool = false) async throws -> Int {
        try await sampleRead { db in
            var count = 0
            // Along the primary key, store by store: the fastest plain read of those rows.
            let sql = rollups
                ? """
                  SELECT r.customer_id, r.metric, r.hour, r.sum, r.count FROM customers c CROSS JOIN metric_rollups r
                  ON r.customer_id = c.id AND r.metric = ? AND r.hour >= ? AND r.hour < ?
                  """
                : """
                  SELECT s.customer_id, s.metric, s.at, s.value FROM customers c CROSS JOIN metric_samples s
                  ON s.customer_id = c.id AND s.metric = ? AND s.at >= ? AND s.at < ?
                  """
            for metric in metrics {
                let rows = try Row.fetchCursor(db, sql: sql, arguments: [metric.rawValue, from.unixSeconds, to.unixSeconds])
                while try rows.next() != nil { count += 1 }
            }
            return count
        }
    }

    /// Reads every raw sample newer than `since` and returns how many there were (the floor of a cycle's reads).
    public func countSamples(since: Date) async throws -> Int {
        try await sampleRead { db in
            var count = 0
            let rows = try Row.fetchCursor(db, sql: "SELECT customer_id, metric, at, value FROM metric_samples WHERE at > ?",
                                           arguments: [since.unixSeconds])
            while try rows.next() != nil { count += 1 }
            return count
        }
    }
}
