import BotCore
import Foundation
import GRDB

/// What a check cycle that keeps its rules' state in memory reads: the whole fleet once, then only what arrived.
extension SQLiteStore {
    public func fleetSamples(since: Date, hourly: MetricName, hoursFrom: Date) async throws -> FleetSamples {
        let metrics = metrics
        return try await sampleRead { db in
            // The mark first: a sample stored after it is read again from the journal, and the reader keeps one
            // sample per store, metric and second, as the table does.
            let mark = try Int64.fetchOne(db, sql: "SELECT seq FROM sqlite_sequence WHERE name = 'sample_journal'") ?? 0
            var series: [StoreID: [MetricName: [(at: Date, value: Double)]]] = [:]
            var names: [String: StoreID] = [:]
            let rows = try Row.fetchCursor(db.cachedStatement(sql: """
                SELECT customer_id, metric, at, value FROM metric_samples WHERE at > ? ORDER BY customer_id, metric, at
                """), arguments: [since.unixSeconds])
            while let row = try rows.next() {
                let name: String = row[0]
                guard let store = names[name] ?? StoreID(name), let metric = metrics.metric(named: row[1]) else { continue }
                names[name] = store
                series[store, default: [:]][metric, default: []].append((Date(unixSeconds: row[2]), row[3]))
            }
            var rollups: [StoreID: [(hour: Date, sum: Double, count: Int)]] = [:]
            let hours = try Row.fetchCursor(db.cachedStatement(sql: """
                SELECT customer_id, hour, sum, count FROM metric_rollups WHERE metric = ? AND hour >= ? ORDER BY customer_id, hour
                """), arguments: [hourly.rawValue, hoursFrom.unixSeconds])
            while let row = try hours.next() {
                let name: String = row[0]
                guard let store = names[name] ?? StoreID(name) else { continue }
                names[name] = store
                rollups[store, default: []].append((Date(unixSeconds: row[1]), row[2], row[3]))
            }
            return FleetSamples(series: series, latest: try Self.latestMetrics(db, stores: nil, metrics: metrics),
                                hourly: rollups, mark: mark)
        }
    }

    public func journal(after mark: Int64, limit: Int) async throws -> (samples: [MetricSample], mark: Int64) {
        let metrics = metrics
        return try await sampleRead { db in
            var samples: [MetricSample] = []
            var last = mark
            var names: [String: StoreID] = [:]
            let rows = try Row.fetchCursor(db.cachedStatement(sql: """
                SELECT seq, customer_id, metric, at, value FROM sample_journal WHERE seq > ? ORDER BY seq LIMIT ?
                """), arguments: [mark, limit])
            while let row = try rows.next() {
                last = row[0]
                let name: String = row[1]
                guard let store = names[name] ?? StoreID(name), let metric = metrics.metric(named: row[2]) else { continue }
                names[name] = store
                samples.append(MetricSample(store: store, metric: metric, at: Date(unixSeconds: row[3]), value: row[4]))
            }
            return (samples, last)
        }
    }

    /// Deletes in steps of at most 5,000 rows, each its own transaction, so other writers wait for one step only.
    public func forgetJournal(through mark: Int64) async throws {
        while try await pool.write({ db in
            try db.execute(sql: """
                DELETE FROM sample_journal WHERE seq IN (SELECT seq FROM sample_journal WHERE seq <= ? ORDER BY seq LIMIT 5000)
                """, arguments: [mark])
            return db.changesCount == 5000
        }) {}
    }

    public func ruleContext(at: Date) async throws -> FleetRuleContext {
        try await pool.read { db in
            var tracked: [StoreID: [TrackedIssue]] = [:]
            for row in try Row.fetchAll(db.cachedStatement(sql: """
                SELECT customer_id, id, issue_type, severity, title, detected_at, clear_since FROM performance_issues
                WHERE resolved_at IS NULL AND source = 'rule' ORDER BY id
                """)) {
                guard let store = StoreID(row[0]), let severity = Severity(rawValue: row[3]) else { continue }
                let clear: Int64? = row[6]
                tracked[store, default: []].append(TrackedIssue(
                    id: row[1], type: row[2], severity: severity, title: row[4], detectedAt: Date(unixSeconds: row[5]),
                    clearSince: clear.map(Date.init(unixSeconds:))))
            }
            var silences: [StoreID: Silence] = [:]
            // Oldest end first, so each store keeps the silence that lasts longest (as `state(of:)` does).
            for row in try Row.fetchAll(db.cachedStatement(sql: """
                SELECT id, customer_id, ends_at, reason, created_by, starts_at FROM silences
                WHERE starts_at <= ? AND ends_at > ? ORDER BY ends_at, id
                """), arguments: [at.unixSeconds, at.unixSeconds]) {
                if let silence = Self.silence(from: row) { silences[silence.store] = silence }
            }
            return FleetRuleContext(tracked: tracked, silences: silences)
        }
    }
}
