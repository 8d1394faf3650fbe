import BotCore
import BotStore
import Foundation
import Logging
import PostgresNIO

/// What commands, the console and the status page read on PostgreSQL: metrics, issues, the feed, the reports.
/// Every reader takes a connection of the pool of its own, so none waits behind the writers.
extension PostgresStore: MetricReader, SampleReader {
    public func latestMetrics(stores: [StoreID]?) async throws -> [StoreID: MetricSnapshot] {
        var snapshots: [StoreID: MetricSnapshot] = [:]
        let wanted = stores?.map(\.rawValue)
        for row in try await sampleRows("""
            SELECT customer_id, metric, value, at FROM metric_latest
            WHERE \(wanted)::text[] IS NULL OR customer_id = ANY(\(wanted)::text[])
            """) {
            let (name, metricName, value, at) = try row.decode((String, String, Double, Int64).self)
            guard let store = StoreID(name), let metric = metrics.metric(named: metricName) else { continue }
            snapshots[store, default: MetricSnapshot()].record(metric, value, at: Date(unixSeconds: at))
        }
        return snapshots
    }

    public func metrics(of store: StoreID, asOf: Date, lookback: TimeInterval) async throws -> MetricSnapshot {
        let to = asOf.unixSeconds, names = metrics.all.map(\.rawValue)
        var snapshot = MetricSnapshot()
        for row in try await sampleRows("""
            SELECT DISTINCT ON (metric) metric, value, at FROM metric_samples
            WHERE customer_id = \(store.rawValue) AND metric = ANY(\(names)::text[]) AND at > \(to - Int64(lookback)) AND at <= \(to)
            ORDER BY metric, at DESC
            """) {
            let (name, value, at) = try row.decode((String, Double, Int64).self)
            if let metric = metrics.metric(named: name) { snapshot.record(metric, value, at: Date(unixSeconds: at)) }
        }
        return snapshot
    }

    public func average(_ metric: MetricName, stores: [StoreID]?, from: Date, to: Date) async throws -> [StoreID: Double] {
        let wanted = stores?.map(\.rawValue)
        var averages: [StoreID: Double] = [:]
        for row in try await sampleRows("""
            SELECT customer_id, (SUM(sum) / SUM(count))::double precision FROM metric_rollups
            WHERE metric = \(metric.rawValue) AND hour >= \(from.unixSeconds) AND hour < \(to.unixSeconds)
              AND (\(wanted)::text[] IS NULL OR customer_id = ANY(\(wanted)::text[]))
            GROUP BY customer_id
            """) {
            let (name, mean) = try row.decode((String, Double).self)
            if let store = StoreID(name) { averages[store] = mean }
        }
        return averages
    }

    public func hourlyMeans(_ metric: MetricName, of store: StoreID, from: Date, to: Date) async throws -> [(at: Date, value: Double)] {
        try await sampleRows("""
            SELECT hour, sum / count FROM metric_rollups
            WHERE customer_id = \(store.rawValue) AND metric = \(metric.rawValue) AND hour >= \(from.unixSeconds) AND hour < \(to.unixSeconds)
            ORDER BY hour
            """).map {
            let (hour, mean) = try $0.decode((Int64, Double).self)
            return (Date(unixSeconds: hour), mean)
        }
    }

    public func samples(_ metric: MetricName, of store: StoreID, from: Date, to: Date) async throws -> [(at: Date, value: Double)] {
        try await sampleRows("""
            SELECT at, value FROM metric_samples
            WHERE customer_id = \(store.rawValue) AND metric = \(metric.rawValue) AND at > \(from.unixSeconds) AND at <= \(to.unixSeconds)
            ORDER BY at
            """).map {
            let (at, value) = try $0.decode((Int64, Double).self)
            return (Date(unixSeconds: at), value)
        }
    }
}

extension PostgresStore: IssueReader {
    public func openIssues(store: StoreID?) async throws -> [IssueSummary] {
        try await database.rows("""
            SELECT id, customer_id, issue_type, severity, detected_at, title FROM performance_issues
            WHERE resolved_at IS NULL AND (\(store?.rawValue)::text IS NULL OR customer_id = \(store?.rawValue))
            ORDER BY CASE severity WHEN 'critical' THEN 0 WHEN 'warning' THEN 1 ELSE 2 END, detected_at DESC
            """).compactMap { row in
            let (id, name, type, severity, detected, title) = try row.decode((Int64, String, String, String, Int64, String).self)
            guard let store = StoreID(name), let severity = Severity(rawValue: severity) else { return nil }
            return IssueSummary(id: id, store: store, type: type, severity: severity, detectedAt: Date(unixSeconds: detected), summary: title)
        }
    }

    public func resolvedIssues(store: StoreID?, since: Date) async throws -> [IssueSummary] {
        try await database.rows("""
            SELECT id, customer_id, issue_type, severity, detected_at, resolved_at, title FROM performance_issues
            WHERE resolved_at >= \(since.unixSeconds) AND (\(store?.rawValue)::text IS NULL OR customer_id = \(store?.rawValue))
            ORDER BY resolved_at DESC LIMIT 50
            """).compactMap { row in
            let (id, name, type, severity, detected, resolved, title) = try row.decode(
                (Int64, String, String, String, Int64, Int64, String).self)
            guard let store = StoreID(name), let severity = Severity(rawValue: severity) else { return nil }
            return IssueSummary(id: id, store: store, type: type, severity: severity, detectedAt: Date(unixSeconds: detected),
                                resolvedAt: Date(unixSeconds: resolved), summary: title)
        }
    }
}

extension PostgresStore: ConsoleReader {
    public func fleetReadings(asOf: Date) async throws -> FleetReadings {
        FleetReadings(customers: try await allCustomers(), latest: try await latestMetrics(stores: nil),
                      uptime24h: try await average(.uptimePercent, stores: nil, from: asOf.addingTimeInterval(-86400), to: asOf),
                      openIssues: try await openIssues(store: nil))
    }

    /// One prepared statement, one round trip: a command asks for a store many times a minute, and six reads at once
    /// would wake six of the database's processes and plan six queries each time.
    public func storeReadings(_ store: StoreID, asOf: Date) async throws -> StoreReadings? {
        await inbox.settled()
        let statement = StoreReadingsStatement(store: store, asOf: asOf, metrics: metrics.all.map(\.rawValue),
                                               lookback: metrics.longestFreshness)
        guard let row = try await database.read(statement).first else { return nil }
        return try row.readings(metrics)
    }

    public func storeNames() async throws -> [String] {
        try await database.rows("SELECT id FROM customers ORDER BY id").map { try $0.decode(String.self) }
    }
}

extension PostgresStore: FeedReader {
    public func feed(of store: StoreID, limit: Int) async throws -> [FeedEntry] {
        try await database.rows("""
            SELECT at, kind, title, body FROM insights WHERE customer_id = \(store.rawValue) ORDER BY at DESC, id DESC LIMIT \(limit)
            """).map {
            let (at, kind, title, body) = try $0.decode((Int64, String, String, String).self)
            return FeedEntry(at: Date(unixSeconds: at), kind: kind, title: title, body: body)
        }
    }

    public func scores(of store: StoreID, since: Date) async throws -> [(at: Date, score: Int)] {
        try await database.rows("""
            SELECT timestamp, health_score FROM performance_snapshots
            WHERE customer_id = \(store.rawValue) AND timestamp >= \(since.unixSeconds) ORDER BY timestamp
            """).map {
            let (at, score) = try $0.decode((Int64, Int64).self)
            return (Date(unixSeconds: at), Int(score))
        }
    }
}

extension PostgresStore: StatusLinkStore {
    public func issueStatusLink(id: String, store: StoreID, contact: String, at: Date, expiresAt: Date) async throws {
        try await database.execute("""
            INSERT INTO status_links (id, customer_id, contact, issued_at, expires_at)
            VALUES (\(id), \(store.rawValue), \(contact.lowercased()), \(at.unixSeconds), \(expiresAt.unixSeconds))
            """)
    }

    public func statusLink(id: String, store: StoreID) async throws -> IssuedLink? {
        try await database.rows("""
            SELECT contact, issued_at, expires_at, revoked_at FROM status_links WHERE id = \(id) AND customer_id = \(store.rawValue)
            """).first.map { row in
            let (contact, issued, expires, revoked) = try row.decode((String, Int64, Int64, Int64?).self)
            return IssuedLink(id: id, store: store, contact: contact, issuedAt: Date(unixSeconds: issued),
                              expiresAt: Date(unixSeconds: expires), revokedAt: revoked.map(Date.init(unixSeconds:)))
        }
    }

    /// Revokes every live link of `store` (only those mailed to `contact`, when given). - Returns: how many.
    public func revokeStatusLinks(store: StoreID, contact: String?, at: Date) async throws -> Int {
        try await database.rows("""
            UPDATE status_links SET revoked_at = \(at.unixSeconds)
            WHERE customer_id = \(store.rawValue) AND revoked_at IS NULL AND expires_at > \(at.unixSeconds)
              AND (\(contact?.lowercased())::text IS NULL OR contact = \(contact?.lowercased()))
            RETURNING id
            """).count
    }

    /// Records a store-scoped metrics token by its SHA-256; the token itself is never stored.
    public func issueStoreToken(digest: String, store: StoreID, at: Date) async throws {
        try await database.execute("""
            INSERT INTO store_tokens (digest, customer_id, issued_at) VALUES (\(digest), \(store.rawValue), \(at.unixSeconds))
            """)
    }

    /// Revokes every live token of `store`. - Returns: how many.
    public func revokeStoreTokens(store: StoreID, at: Date) async throws -> Int {
        try await database.rows("""
            UPDATE store_tokens SET revoked_at = \(at.unixSeconds) WHERE customer_id = \(store.rawValue) AND revoked_at IS NULL
            RETURNING digest
            """).count
    }
}

extension PostgresStore {
    public func report(since: Date) async throws -> OperationsReport { try await report(since: since, store: nil) }

    /// The report's figures since `since`, of `store` or of all stores, as the SQLite store counts them.
    public func report(since: Date, store: StoreID?) async throws -> OperationsReport {
        var report = OperationsReport()
        let from = since.unixSeconds, store = store?.rawValue
        report.issuesOpened = try await database.rows("""
            SELECT COUNT(*) FROM performance_issues
            WHERE detected_at >= \(from) AND (\(store)::text IS NULL OR customer_id = \(store))
            """).first?.decode(Int.self) ?? 0
        let resolved = try await database.rows("""
            SELECT resolved_at - detected_at, auto_fixed FROM performance_issues
            WHERE resolved_at IS NOT NULL AND resolved_at >= \(from) AND (\(store)::text IS NULL OR customer_id = \(store))
            """).map { try $0.decode((Int64, Int64).self) }
        report.issuesResolved = resolved.count
        report.autoFixed = resolved.filter { $0.1 != 0 }.count
        report.medianResolveSeconds = SQLiteStore.median(resolved.map { Double($0.0) })
        report.medianDetectSeconds = SQLiteStore.median(try await database.rows("""
            SELECT detected_at - onset_at FROM performance_issues
            WHERE detected_at >= \(from) AND onset_at IS NOT NULL AND (\(store)::text IS NULL OR customer_id = \(store))
            """).map { Double(try $0.decode(Int64.self)) })
        for row in try await database.rows("""
            SELECT status, COUNT(*) FROM approvals
            WHERE created_at >= \(from) AND (\(store)::text IS NULL OR customer_id = \(store)) GROUP BY status
            """) {
            let (status, count) = try row.decode((String, Int).self)
            report.proposals[status] = count
        }
        var jobs = PostgresQuery(unsafeSQL: "SELECT state, COUNT(*) FROM jobs WHERE \(SQLiteStore.actedOn) AND ")
        let filter: PostgresQuery = "created_at >= \(from) AND (\(store)::text IS NULL OR customer_id = \(store)) GROUP BY state"
        jobs.sql += filter.sql
        jobs.binds = filter.binds
        for row in try await database.rows(jobs) {
            let (state, count) = try row.decode((String, Int).self)
            report.jobs[state] = count
        }
        report.topStores = try await database.rows("""
            SELECT customer_id, COUNT(*) AS n FROM performance_issues
            WHERE detected_at >= \(from) AND (\(store)::text IS NULL OR customer_id = \(store))
            GROUP BY customer_id ORDER BY n DESC, customer_id LIMIT 5
            """).map { try $0.decode((String, Int).self) }
        return report
    }

    public func setAutomation(_ store: StoreID, level: AutomationLevel, exceptions: [String], at: Date) async throws {
        try await database.execute("""
            UPDATE customers SET automation_level = \(Int64(level.rawValue)), automation_exceptions = \(try jsonText(exceptions)),
                updated_at = \(at.unixSeconds)
            WHERE id = \(store.rawValue)
            """)
    }

    public func auditEntries(store: StoreID?, limit: Int) async throws -> [AuditEntry] {
        try await database.rows("""
            SELECT at, actor, channel, action, customer_id, result, details FROM audit_log
            WHERE \(store?.rawValue)::text IS NULL OR customer_id = \(store?.rawValue)
            ORDER BY at DESC, id DESC LIMIT \(limit)
            """).map { row in
            let (at, actor, channel, action, customer, result, details) = try row.decode(
                (Int64, String, String, String, String?, String?, String).self)
            return AuditEntry(at: Date(unixSeconds: at), actor: actor, channel: channel, action: action,
                              store: customer.flatMap(StoreID.init), result: result,
                              details: (try? JSONDecoder().decode([String: String].self, from: Data(details.utf8))) ?? [:])
        }
    }

    public func setWeeklyReport(_ store: StoreID, enabled: Bool, at: Date) async throws {
        if enabled {
            try await database.execute("DELETE FROM report_opt_outs WHERE customer_id = \(store.rawValue)")
        } else {
            try await database.execute("""
                INSERT INTO report_opt_outs (customer_id, at) VALUES (\(store.rawValue), \(at.unixSeconds))
                ON CONFLICT (customer_id) DO UPDATE SET at = EXCLUDED.at
                """)
        }
    }

    public func weeklyReport(of store: StoreID) async throws -> Bool {
        try await database.rows("SELECT 1 FROM report_opt_outs WHERE customer_id = \(store.rawValue)").isEmpty
    }

    /// Deliveries still `received` long after they arrived were being handled by a replica that stopped: they are
    /// marked failed, so their retries are handled afresh. A live replica's deliveries (younger) are left alone.
    /// - Returns: how many there were.
    @discardableResult
    public func releaseInterruptedDeliveries(at: Date, olderThan age: TimeInterval = 300) async throws -> Int {
        try await database.rows("""
            UPDATE webhook_deliveries SET status = 'failed', processed_at = \(at.unixSeconds)
            WHERE status = 'received' AND received_at < \(at.unixSeconds - Int64(age)) RETURNING id
            """).count
    }
}

extension PostgresStore: SlowQueryStore, CollectorStatusStore {
    public func slowLogCursor(_ store: StoreID) async throws -> SlowLogCursor? {
        try await database.rows("""
            SELECT path, identity, "offset" FROM slow_log_cursors WHERE customer_id = \(store.rawValue)
            """).first.map {
            let (path, identity, offset) = try $0.decode((String, String, Int64).self)
            return SlowLogCursor(path: path, identity: identity, offset: offset)
        }
    }

    /// Adds each hour's figures to what is stored (histograms summed bucket by bucket) and moves the cursor, in one
    /// transaction.
    public func recordSlowQueries(_ store: StoreID, hours: [SlowQueryHour], cursor: SlowLogCursor, at now: Date) async throws {
        try await database.transaction { connection in
            let logger = database.logger
            for hour in hours {
                var histogram = hour.histogram
                if let text = try await connection.rows("""
                    SELECT time_histogram FROM slow_queries
                    WHERE customer_id = \(store.rawValue) AND query_hash = \(hour.queryID) AND hour = \(hour.hour.unixSeconds)
                    FOR UPDATE
                    """, logger: logger).first?.decode(String.self),
                    let stored = try? JSONDecoder().decode([Int].self, from: Data(text.utf8)), stored.count == histogram.count {
                    histogram = zip(histogram, stored).map { $0 + $1 }
                }
                _ = try await connection.rows("""
                    INSERT INTO slow_queries AS q (customer_id, query_hash, hour, query_text, occurrence_count, execution_time_ms,
                        max_time_ms, lock_time_ms, rows_examined, rows_sent, time_histogram, tables, first_seen, last_seen)
                    VALUES (\(store.rawValue), \(hour.queryID), \(hour.hour.unixSeconds), \(hour.fingerprint), \(Int64(hour.count)),
                            \(hour.totalMs), \(hour.maxMs), \(hour.lockMs), \(hour.rowsExamined), \(hour.rowsSent),
                            \(try jsonText(histogram)), \(try jsonText(hour.tables)), \(hour.firstSeen.unixSeconds), \(hour.lastSeen.unixSeconds))
                    ON CONFLICT (customer_id, query_hash, hour) DO UPDATE SET
                        occurrence_count = q.occurrence_count + EXCLUDED.occurrence_count,
                        execution_time_ms = q.execution_time_ms + EXCLUDED.execution_time_ms,
                        max_time_ms = GREATEST(q.max_time_ms, EXCLUDED.max_time_ms),
                        lock_time_ms = q.lock_time_ms + EXCLUDED.lock_time_ms,
                        rows_examined = q.rows_examined + EXCLUDED.rows_examined,
                        rows_sent = q.rows_sent + EXCLUDED.rows_sent,
                        time_histogram = EXCLUDED.time_histogram,
                        first_seen = LEAST(q.first_seen, EXCLUDED.first_seen),
                        last_seen = GREATEST(q.last_seen, EXCLUDED.last_seen)
                    """, logger: logger)
            }
            _ = try await connection.rows("""
                INSERT INTO slow_log_cursors (customer_id, path, identity, "offset", updated_at)
                VALUES (\(store.rawValue), \(cursor.path), \(cursor.identity), \(cursor.offset), \(now.unixSeconds))
                ON CONFLICT (customer_id) DO UPDATE SET path = EXCLUDED.path, identity = EXCLUDED.identity,
                    "offset" = EXCLUDED."offset", updated_at = EXCLUDED.updated_at
                """, logger: logger)
        }
    }

    public func slowQueryClasses(_ store: StoreID, since: Date, limit: Int, offset: Int) async throws
        -> (classes: [SlowQuerySummary], total: Int) {
        let hour = since.unixSeconds - since.unixSeconds % 3600
        let total = try await database.rows("""
            SELECT COUNT(DISTINCT query_hash) FROM slow_queries WHERE customer_id = \(store.rawValue) AND hour >= \(hour)
            """).first?.decode(Int.self) ?? 0
        let classes = try await database.rows("""
            SELECT query_hash, MAX(query_text), SUM(occurrence_count)::bigint AS count, SUM(execution_time_ms) AS total,
                MAX(max_time_ms), SUM(rows_examined), SUM(rows_sent), MAX(tables), MAX(last_seen),
                json_agg(time_histogram::json)::text
            FROM slow_queries WHERE customer_id = \(store.rawValue) AND hour >= \(hour)
            GROUP BY query_hash ORDER BY total DESC, count DESC LIMIT \(limit) OFFSET \(offset)
            """).map { row -> SlowQuerySummary in
            let (id, fingerprint, count, totalMs, worst, examined, sent, tables, lastSeen, histograms) = try row.decode(
                (String, String, Int64, Double, Double, Double, Double, String, Int64, String).self)
            var merged = Array(repeating: 0, count: SlowQueryHour.bucketBounds.count + 1)
            for histogram in (try? JSONDecoder().decode([[Int]].self, from: Data(histograms.utf8))) ?? [] where histogram.count == merged.count {
                for index in merged.indices { merged[index] += histogram[index] }
            }
            return SlowQuerySummary(
                queryID: id, fingerprint: fingerprint, count: Int(count), totalMs: totalMs, maxMs: worst,
                p95Ms: SlowQueryHour.percentile(0.95, histogram: merged, max: worst), rowsExamined: examined, rowsSent: sent,
                tables: (try? JSONDecoder().decode([String].self, from: Data(tables.utf8))) ?? [],
                lastSeen: Date(unixSeconds: lastSeen))
        }
        return (classes, total)
    }

    public func recordCollector(_ store: StoreID, reading: String, source: String, error: String?, at now: Date) async throws {
        if let error {
            try await database.execute("""
                INSERT INTO collector_status (customer_id, reading, source, last_error, last_error_at)
                VALUES (\(store.rawValue), \(reading), \(source), \(String(error.prefix(500))), \(now.unixSeconds))
                ON CONFLICT (customer_id, reading) DO UPDATE SET source = EXCLUDED.source, last_error = EXCLUDED.last_error,
                    last_error_at = EXCLUDED.last_error_at
                """)
        } else {
            try await database.execute("""
                INSERT INTO collector_status (customer_id, reading, source, last_success_at)
                VALUES (\(store.rawValue), \(reading), \(source), \(now.unixSeconds))
                ON CONFLICT (customer_id, reading) DO UPDATE SET source = EXCLUDED.source, last_success_at = EXCLUDED.last_success_at
                """)
        }
    }

    public func collectorStatuses(store: StoreID?) async throws -> [CollectorStatus] {
        try await database.rows("""
            SELECT customer_id, reading, source, last_success_at, last_error, last_error_at FROM collector_status
            WHERE \(store?.rawValue)::text IS NULL OR customer_id = \(store?.rawValue) ORDER BY customer_id, reading
            """).compactMap { row in
            let (name, reading, source, success, error, errorAt) = try row.decode((String, String, String, Int64?, String?, Int64?).self)
            guard let id = StoreID(name) else { return nil }
            return CollectorStatus(store: id, reading: reading, source: source, lastSuccess: success.map(Date.init(unixSeconds:)),
                                   lastError: error, lastErrorAt: errorAt.map(Date.init(unixSeconds:)))
        }
    }
}

extension PostgresStore {
    /// Prunes every growing table per `policy` as of `now`, in one transaction, as the SQLite store does.
    /// - Returns: rows removed (or bodies dropped) per table.
    @discardableResult
    public func prune(_ policy: RetentionPolicy, now: Date) async throws -> [String: Int] {
        try await database.transaction { connection in
            var removed: [String: Int] = [:]
            func run(_ table: String, _ query: PostgresQuery) async throws {
                var counted = query
                counted.sql += " RETURNING 1"
                let count = try await connection.rows(counted, logger: database.logger).count
                if count > 0 { removed[table, default: 0] += count }
            }
            func before(_ interval: TimeInterval) -> Int64 { now.addingTimeInterval(-interval).unixSeconds }
            try await run("metric_samples", "DELETE FROM metric_samples WHERE at < \(before(policy.samples))")
            try await run("sample_journal", "DELETE FROM sample_journal WHERE at < \(before(policy.samples))")
            try await run("metric_rollups", "DELETE FROM metric_rollups WHERE hour < \(before(policy.rollups))")
            try await run("performance_snapshots", "DELETE FROM performance_snapshots WHERE timestamp < \(before(policy.snapshots))")
            // Older than the full period: keep the first snapshot of each store and hour.
            let full = before(policy.snapshotsFull)
            try await run("performance_snapshots", """
                DELETE FROM performance_snapshots WHERE timestamp < \(full) AND id NOT IN (
                    SELECT MIN(id) FROM performance_snapshots WHERE timestamp < \(full) GROUP BY customer_id, timestamp / 3600)
                """)
            try await run("webhook_deliveries", "DELETE FROM webhook_deliveries WHERE received_at < \(before(policy.deliveries))")
            try await run("webhook_deliveries.body", """
                UPDATE webhook_deliveries SET body = '\\x'::bytea, response_body = NULL
                WHERE received_at < \(before(policy.deliveryBodies)) AND (length(body) > 0 OR response_body IS NOT NULL)
                """)
            try await run("outbox", """
                DELETE FROM outbox WHERE status IN ('sent', 'failed') AND COALESCE(sent_at, created_at) < \(before(policy.outbox))
                """)
            try await run("external_alerts", "DELETE FROM external_alerts WHERE received_at < \(before(policy.alerts))")
            try await run("lighthouse_probes", "DELETE FROM lighthouse_probes WHERE probed_at < \(before(policy.lighthouse))")
            let history = before(policy.history)
            try await run("automation_actions", "DELETE FROM automation_actions WHERE executed_at < \(history)")
            try await run("admin_interventions", "DELETE FROM admin_interventions WHERE executed_at < \(history)")
            try await run("jobs", """
                DELETE FROM jobs WHERE state IN ('succeeded', 'failed', 'interrupted', 'cancelled', 'expired')
                    AND COALESCE(ended_at, created_at) < \(history)
                """)
            try await run("approvals", "DELETE FROM approvals WHERE status != 'pending' AND created_at < \(history)")
            try await run("insights", "DELETE FROM insights WHERE at < \(history)")
            try await run("status_links", "DELETE FROM status_links WHERE expires_at < \(history)")
            try await run("silences", "DELETE FROM silences WHERE ends_at < \(history) AND end_announced = 1")
            try await run("slow_queries", "DELETE FROM slow_queries WHERE last_seen < \(history)")
            try await run("slack_threads", """
                DELETE FROM slack_threads WHERE thread_key IN (
                    SELECT 'issue:' || id FROM performance_issues WHERE resolved_at IS NOT NULL AND resolved_at < \(history))
                """)
            _ = try await connection.rows("""
                INSERT INTO daily_runs (name, last_run_at) VALUES ('retention', \(now.unixSeconds))
                ON CONFLICT (name) DO UPDATE SET last_run_at = EXCLUDED.last_run_at
                """, logger: database.logger)
            return removed
        }
    }
}

/// The commands', the customers' and the status page's stores, whole.
extension PostgresStore: OperationsStore, CustomerStore, StatusPageStore {}

extension PostgresStore {
    /// Reads every raw sample newer than `since` and returns how many there were (the floor of a cycle's reads).
    public func countSamples(since: Date) async throws -> Int {
        try await sampleRows("SELECT customer_id, metric, at, value FROM metric_samples WHERE at > \(since.unixSeconds)").count
    }
}

/// Everything the store view reads of one store (`StoreReadings`), in one row: the store's own columns, then its
/// newest values, its newest values a day ago (within the longest freshness), its uptime over the last day and the
/// day before, and its open issues, most severe and newest first. No row when there is no such store.
struct StoreReadingsStatement: PostgresPreparedStatement {
    static let name = "perfbot_store_readings_1"
    static let customerColumns = CustomerRow.columns.split(separator: ",").map { "c." + $0.trimmingCharacters(in: .whitespacesAndNewlines) }
    static let sql = """
        SELECT \(customerColumns.joined(separator: ", ")),
            l.metrics, l.vals, l.ats, d.metrics, d.vals, d.ats,
            (SELECT (SUM(sum) / SUM(count))::double precision FROM metric_rollups
             WHERE customer_id = c.id AND metric = $5 AND hour >= $6 AND hour < $7),
            (SELECT (SUM(sum) / SUM(count))::double precision FROM metric_rollups
             WHERE customer_id = c.id AND metric = $5 AND hour >= $8 AND hour < $6),
            i.ids, i.types, i.severities, i.detected, i.titles
        FROM customers c
        CROSS JOIN LATERAL (
            SELECT array_agg(metric) AS metrics, array_agg(value) AS vals, array_agg(at) AS ats
            FROM metric_latest WHERE customer_id = c.id) l
        CROSS JOIN LATERAL (
            SELECT array_agg(metric) AS metrics, array_agg(value) AS vals, array_agg(at) AS ats FROM (
                SELECT DISTINCT ON (metric) metric, value, at FROM metric_samples
                WHERE customer_id = c.id AND metric = ANY($2::text[]) AND at > $3 AND at <= $4
                ORDER BY metric, at DESC) newest) d
        CROSS JOIN LATERAL (
            SELECT array_agg(id ORDER BY rank, detected_at DESC, id DESC) AS ids,
                array_agg(issue_type ORDER BY rank, detected_at DESC, id DESC) AS types,
                array_agg(severity ORDER BY rank, detected_at DESC, id DESC) AS severities,
                array_agg(detected_at ORDER BY rank, detected_at DESC, id DESC) AS detected,
                array_agg(title ORDER BY rank, detected_at DESC, id DESC) AS titles
            FROM (SELECT *, CASE severity WHEN 'critical' THEN 0 WHEN 'warning' THEN 1 ELSE 2 END AS rank
                  FROM performance_issues WHERE resolved_at IS NULL AND customer_id = c.id) open) i
        WHERE c.id = $1
        """
    static let bindingDataTypes: [PostgresDataType] = [.text, .textArray, .int8, .int8, .text, .int8, .int8, .int8]

    typealias Row = PostgresRow

    let store: StoreID
    let asOf: Date
    let metrics: [String]
    let lookback: TimeInterval

    func makeBindings() throws -> PostgresBindings {
        let dayAgo = asOf.addingTimeInterval(-86400)
        var bindings = PostgresBindings(capacity: 8)
        bindings.append(store.rawValue)
        bindings.append(metrics)
        bindings.append(dayAgo.unixSeconds - Int64(lookback))
        bindings.append(dayAgo.unixSeconds)
        bindings.append(MetricName.uptimePercent.rawValue)
        bindings.append(dayAgo.unixSeconds)
        bindings.append(asOf.unixSeconds)
        bindings.append(dayAgo.addingTimeInterval(-86400).unixSeconds)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> PostgresRow { row }
}

extension PostgresRow {
    /// A `StoreReadingsStatement` row read back: nil when its store's row names no valid customer.
    func readings(_ catalogue: MetricCatalogue) throws -> StoreReadings? {
        guard let customer = try PostgresStore.customer(from: self) else { return nil }
        let cells = makeRandomAccess()
        func cell<T: PostgresDecodable>(_ index: Int, _: T.Type = T.self) throws -> T {
            try cells[StoreReadingsStatement.customerColumns.count + index].decode(T.self)
        }
        func snapshot(_ first: Int) throws -> MetricSnapshot {
            var snapshot = MetricSnapshot()
            let names = try cell(first, [String]?.self) ?? [], values = try cell(first + 1, [Double]?.self) ?? []
            let times = try cell(first + 2, [Int64]?.self) ?? []
            for (index, name) in names.enumerated() where index < values.count && index < times.count {
                if let metric = catalogue.metric(named: name) { snapshot.record(metric, values[index], at: Date(unixSeconds: times[index])) }
            }
            return snapshot
        }
        let ids = try cell(8, [Int64]?.self) ?? [], types = try cell(9, [String]?.self) ?? []
        let severities = try cell(10, [String]?.self) ?? [], detected = try cell(11, [Int64]?.self) ?? []
        let titles = try cell(12, [String]?.self) ?? []
        let issues = ids.indices.compactMap { index -> IssueSummary? in
            guard let severity = Severity(rawValue: severities[index]) else { return nil }
            return IssueSummary(id: ids[index], store: customer.id, type: types[index], severity: severity,
                                detectedAt: Date(unixSeconds: detected[index]), summary: titles[index])
        }
        return StoreReadings(customer: customer, latest: try snapshot(0), dayAgo: try snapshot(3), uptime24h: try cell(6, Double?.self),
                             uptime24hDayAgo: try cell(7, Double?.self), openIssues: issues)
    }
}
