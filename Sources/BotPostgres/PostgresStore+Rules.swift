import BotCore
import BotStore
import Foundation
import Logging
import PostgresNIO

/// What the leader's check cycle reads and writes on PostgreSQL: the fleet's samples, the journal of what arrived
/// since, the open issues and the snapshots.
extension PostgresStore: SchedulerStore {
    public func state(of store: StoreID, since: Date, at: Date) async throws -> StoreState {
        var series: [MetricName: [(at: Date, value: Double)]] = [:]
        for row in try await sampleRows("""
            SELECT metric, at, value FROM metric_samples
            WHERE customer_id = \(store.rawValue) AND at > \(since.unixSeconds) AND at <= \(at.unixSeconds) ORDER BY metric, at
            """) {
            let (name, sampled, value) = try row.decode((String, Int64, Double).self)
            guard let metric = metrics.metric(named: name) else { continue }
            series[metric, default: []].append((Date(unixSeconds: sampled), value))
        }
        // Slow-moving metrics are sampled rarely: their latest value stands while it is fresh.
        for row in try await sampleRows("SELECT metric, at, value FROM metric_latest WHERE customer_id = \(store.rawValue)") {
            let (name, sampled, value) = try row.decode((String, Int64, Double).self)
            guard let metric = metrics.metric(named: name), series[metric] == nil else { continue }
            let when = Date(unixSeconds: sampled)
            if when <= at, at.timeIntervalSince(when) <= metric.freshness { series[metric] = [(when, value)] }
        }
        let context = try await ruleContext(at: at, store: store)
        return StoreState(series: series, tracked: context.tracked[store] ?? [], silence: context.silences[store])
    }

    /// The whole fleet's window, read once when the cycle rebuilds its memory, in one snapshot that also empties the
    /// journal of what it holds: what the journal keeps afterwards arrived after the snapshot, so nothing is read
    /// twice (an hour's sum counts each sample once) and nothing is missed.
    public func fleetSamples(since: Date, hourly: MetricName, hoursFrom: Date) async throws -> FleetSamples {
        // Every replica's acknowledged samples first, so the rebuilt memory holds them.
        try await fileInbox()
        // This replica's deletion of rows it read before would conflict with the snapshot's: it finishes first.
        await readJournal.settled()
        // Another deletion of journal rows after the snapshot began (retention, on the leader's start) makes the
        // snapshot's own fail to serialize: the rebuild is tried again, as PostgreSQL asks.
        var attempt = 1
        while true {
            do {
                return try await rebuild(since: since, hourly: hourly, hoursFrom: hoursFrom)
            } catch where attempt < 3 && Self.failedToSerialize(error) {
                attempt += 1
            }
        }
    }

    static func failedToSerialize(_ error: any Error) -> Bool {
        let cause = (error as? PostgresTransactionError)?.closureError ?? error
        return (cause as? PSQLError)?.serverInfo?[.sqlState] == "40001"
    }

    private func rebuild(since: Date, hourly: MetricName, hoursFrom: Date) async throws -> FleetSamples {
        try await database.transaction { connection in
            let logger = database.logger
            _ = try await connection.rows("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ", logger: logger)
            var series: [StoreID: [MetricName: [(at: Date, value: Double)]]] = [:]
            var names: [String: StoreID] = [:]
            // One row per store and metric with its samples as two arrays: decoding a row costs far more than an
            // element.
            for row in try await connection.rows("""
                SELECT customer_id, metric, array_agg(at ORDER BY at), array_agg(value ORDER BY at) FROM metric_samples
                WHERE at > \(since.unixSeconds) GROUP BY customer_id, metric
                """, logger: logger) {
                let (name, metricName, times, values) = try row.decode((String, String, [Int64], [Double]).self)
                guard let store = names[name] ?? StoreID(name), let metric = metrics.metric(named: metricName) else { continue }
                names[name] = store
                series[store, default: [:]][metric] = zip(times, values).map { (Date(unixSeconds: $0), $1) }
            }
            var rollups: [StoreID: [(hour: Date, sum: Double, count: Int)]] = [:]
            for row in try await connection.rows("""
                SELECT customer_id, hour, sum, count FROM metric_rollups
                WHERE metric = \(hourly.rawValue) AND hour >= \(hoursFrom.unixSeconds) ORDER BY customer_id, hour
                """, logger: logger) {
                let (name, hour, sum, count) = try row.decode((String, Int64, Double, Int64).self)
                guard let store = names[name] ?? StoreID(name) else { continue }
                names[name] = store
                rollups[store, default: []].append((Date(unixSeconds: hour), sum, Int(count)))
            }
            var latest: [StoreID: MetricSnapshot] = [:]
            for row in try await connection.rows("SELECT customer_id, metric, value, at FROM metric_latest", logger: logger) {
                let (name, metricName, value, at) = try row.decode((String, String, Double, Int64).self)
                guard let store = names[name] ?? StoreID(name), let metric = metrics.metric(named: metricName) else { continue }
                latest[store, default: MetricSnapshot()].record(metric, value, at: Date(unixSeconds: at))
            }
            _ = try await connection.rows("DELETE FROM sample_journal", logger: logger)
            return FleetSamples(series: series, latest: latest, hourly: rollups, mark: 0)
        }
    }

    /// The samples that arrived since the last read: the oldest `limit` rows of the journal, by number. Several
    /// replicas write the journal, and their transactions commit out of `seq` order, so a high-water mark could pass
    /// a sample committed late: the rows read are deleted by their numbers instead, and a row committed late below
    /// them is the oldest left, read next time. The deletion runs after the cycle (`forgetJournal`), not inside it;
    /// a read that finds rows read before and not yet deleted (a second page of one cycle, or a deletion that
    /// failed) deletes them first. A leader that dies before deleting loses nothing: the next one rebuilds from the
    /// tables and empties the journal. Every replica's acknowledged samples are filed first, so the cycle sees each
    /// sample acknowledged before it began.
    public func journal(after mark: Int64, limit: Int) async throws -> (samples: [MetricSample], mark: Int64) {
        try await fileInbox()
        try await readJournal.deleteNow()
        // A row per store with its samples as arrays: a fraction of the rows to decode. Grouped in memory rather
        // than spilled to disk (a page of the default 4 MB would be).
        let rows = try await database.transaction { connection in
            _ = try await connection.rows("SET LOCAL work_mem = '64MB'", logger: database.logger)
            return try await connection.rows("""
                SELECT customer_id, array_agg(seq), array_agg(metric), array_agg(at), array_agg(value)
                FROM (SELECT seq, customer_id, metric, at, value FROM sample_journal ORDER BY seq LIMIT \(Int64(limit))) page
                GROUP BY customer_id
                """, logger: database.logger)
        }
        var samples: [(seq: Int64, sample: MetricSample)] = [], read: [Int64] = []
        for row in rows {
            let (name, seqs, metricNames, ats, values) = try row.decode((String, [Int64], [String], [Int64], [Double]).self)
            read += seqs
            guard let store = StoreID(name), seqs.count == metricNames.count, seqs.count == ats.count,
                  seqs.count == values.count else { continue }
            for index in seqs.indices {
                guard let metric = metrics.metric(named: metricNames[index]) else { continue }
                samples.append((seqs[index], MetricSample(store: store, metric: metric, at: Date(unixSeconds: ats[index]),
                                                          value: values[index])))
            }
        }
        readJournal.add(read)
        // In the order they were stored, as the SQLite journal gives them.
        samples.sort { $0.seq < $1.seq }
        return (samples.map(\.sample), max(mark, read.max() ?? mark))
    }

    /// Deletes the journal's rows read so far, after the cycle: the next read waits for it.
    public func forgetJournal(through mark: Int64) async throws {
        readJournal.deleteLater()
    }

    /// Deletes exactly the rows `seqs` numbers, as runs of consecutive numbers (a range scan each): a number between
    /// two runs was not read, and its row, if it commits later, stays.
    static func deleteJournal(_ seqs: [Int64], _ database: PostgresPool) async throws {
        var firsts: [Int64] = [], lasts: [Int64] = []
        for seq in seqs.sorted() {
            if let last = lasts.last, seq <= last + 1 {
                lasts[lasts.count - 1] = max(last, seq)
            } else {
                firsts.append(seq)
                lasts.append(seq)
            }
        }
        try await database.execute("""
            DELETE FROM sample_journal j USING unnest(\(firsts)::bigint[], \(lasts)::bigint[]) AS run(first, last)
            WHERE j.seq BETWEEN run.first AND run.last
            """)
    }

    public func ruleContext(at: Date) async throws -> FleetRuleContext {
        try await ruleContext(at: at, store: nil)
    }

    func ruleContext(at: Date, store: StoreID?) async throws -> FleetRuleContext {
        var tracked: [StoreID: [TrackedIssue]] = [:]
        for row in try await database.rows("""
            SELECT customer_id, id, issue_type, severity, title, detected_at, clear_since FROM performance_issues
            WHERE resolved_at IS NULL AND source = 'rule' AND (\(store?.rawValue)::text IS NULL OR customer_id = \(store?.rawValue))
            ORDER BY id
            """) {
            let (name, id, type, severity, title, detected, clear) = try row.decode(
                (String, Int64, String, String, String, Int64, Int64?).self)
            guard let store = StoreID(name), let severity = Severity(rawValue: severity) else { continue }
            tracked[store, default: []].append(TrackedIssue(id: id, type: type, severity: severity, title: title,
                                                            detectedAt: Date(unixSeconds: detected),
                                                            clearSince: clear.map(Date.init(unixSeconds:))))
        }
        var silences: [StoreID: Silence] = [:]
        // Oldest end first, so each store keeps the silence that lasts longest.
        for row in try await database.rows("""
            SELECT id, customer_id, ends_at, reason, created_by, starts_at FROM silences
            WHERE starts_at <= \(at.unixSeconds) AND ends_at > \(at.unixSeconds)
              AND (\(store?.rawValue)::text IS NULL OR customer_id = \(store?.rawValue))
            ORDER BY ends_at, id
            """) {
            if let silence = try Self.silence(from: row) { silences[silence.store] = silence }
        }
        return FleetRuleContext(tracked: tracked, silences: silences)
    }

    /// Every store's snapshot in one insert and its score, where it changed, in one update (as on SQLite), the
    /// values sent as arrays, a column each
    /// (a missing metric is NaN there and NULL in the row): binary arrays cost far less to build and to read than a
    /// JSON document of ten thousand rows.
    public func writeSnapshots(_ snapshots: [SnapshotRecord], at: Date) async throws {
        guard !snapshots.isEmpty else { return }
        let stores = snapshots.map(\.store.rawValue), scores = snapshots.map { Int64($0.score) }
        func column(_ metric: MetricName) -> [Double] { snapshots.map { $0.metrics[metric] ?? .nan } }
        try await database.transaction { connection in
            let logger = database.logger
            _ = try await connection.rows("""
                INSERT INTO performance_snapshots (customer_id, timestamp, health_score, ttfb_ms, fcp_ms, lcp_ms, cpu_percent,
                    memory_percent, disk_percent, slow_query_count, active_connections, db_size_bytes, redis_hit_rate, varnish_hit_rate)
                SELECT s, \(at.unixSeconds), h, trunc(NULLIF(t, 'NaN'))::bigint, trunc(NULLIF(f, 'NaN'))::bigint,
                    trunc(NULLIF(l, 'NaN'))::bigint, NULLIF(c, 'NaN'), NULLIF(m, 'NaN'), NULLIF(d, 'NaN'),
                    trunc(NULLIF(q, 'NaN'))::bigint, trunc(NULLIF(a, 'NaN'))::bigint, trunc(NULLIF(b, 'NaN'))::bigint,
                    NULLIF(r, 'NaN'), NULLIF(v, 'NaN')
                FROM unnest(\(stores)::text[], \(scores)::bigint[], \(column(.ttfbMs))::float8[], \(column(.fcpMs))::float8[],
                            \(column(.lcpMs))::float8[], \(column(.cpuPercent))::float8[], \(column(.memoryPercent))::float8[],
                            \(column(.diskPercent))::float8[], \(column(.slowQueryCount))::float8[],
                            \(column(.activeConnections))::float8[], \(column(.tableSizeBytes))::float8[],
                            \(column(.redisHitRate))::float8[], \(column(.varnishHitRate))::float8[])
                    AS x(s, h, t, f, l, c, m, d, q, a, b, r, v)
                """, logger: logger)
            _ = try await connection.rows("""
                UPDATE customers SET last_health_score = x.h, health_score_updated_at = \(at.unixSeconds)
                FROM unnest(\(stores)::text[], \(scores)::bigint[]) AS x(s, h)
                WHERE customers.id = x.s AND customers.last_health_score IS DISTINCT FROM x.h
                """, logger: logger)
        }
    }
}

extension PostgresStore: IssueStore {
    public func openIssue(store: StoreID, type: String, severity: Severity, title: String, details: [String: String],
                          at: Date) async throws -> Int64? {
        try await database.rows("""
            INSERT INTO performance_issues (customer_id, issue_type, severity, title, detected_at, last_seen_at, details, source)
            VALUES (\(store.rawValue), \(type), \(severity.rawValue), \(title), \(at.unixSeconds), \(at.unixSeconds),
                    \(try jsonText(details)), 'rule')
            ON CONFLICT DO NOTHING RETURNING id
            """).first?.decode(Int64.self)
    }

    /// Opens an issue with its insight, alert and proposal in one transaction; nil when one of that type is open.
    public func openIssue(store: StoreID, type: String, severity: Severity, title: String, details: [String: String],
                          insight: InsightEntry, alert: Addressed?, approval: ApprovalDraft?, at: Date) async throws -> Int64? {
        try await database.transaction { connection in
            let logger = database.logger
            // When the condition began: detection time is detected_at − onset_at.
            let onset = at.unixSeconds - (details["detection_seconds"].flatMap(Int64.init) ?? 0)
            guard let id = try await connection.rows("""
                INSERT INTO performance_issues (customer_id, issue_type, severity, title, detected_at, last_seen_at, details, source, onset_at)
                VALUES (\(store.rawValue), \(type), \(severity.rawValue), \(title), \(at.unixSeconds), \(at.unixSeconds),
                        \(try jsonText(details)), 'rule', \(onset))
                ON CONFLICT DO NOTHING RETURNING id
                """, logger: logger).first?.decode(Int64.self) else { return nil }
            if let approval { try await Self.insert(connection, approval, issueID: id, at: at, logger: logger) }
            try await Self.record(connection, store: store, insight: insight, alert: alert, thread: .issue(id), at: at, logger: logger)
            return id
        }
    }

    public func touchIssue(_ id: Int64, at: Date) async throws {
        try await database.execute("UPDATE performance_issues SET last_seen_at = \(at.unixSeconds), clear_since = NULL WHERE id = \(id)")
    }

    public func markClear(_ id: Int64, since: Date) async throws {
        try await database.execute("""
            UPDATE performance_issues SET clear_since = \(since.unixSeconds) WHERE id = \(id) AND clear_since IS NULL
            """)
    }

    public func resolveIssue(_ id: Int64, at: Date, autoFixed: Bool) async throws {
        try await database.execute("""
            UPDATE performance_issues SET resolved_at = \(at.unixSeconds), auto_fixed = \(Int64(autoFixed ? 1 : 0)) WHERE id = \(id)
            """)
    }

    public func resolveIssue(_ id: Int64, store: StoreID, insight: InsightEntry, alert: Addressed?, at: Date) async throws {
        try await database.transaction { connection in
            let logger = database.logger
            guard !(try await connection.rows("""
                UPDATE performance_issues SET resolved_at = \(at.unixSeconds) WHERE id = \(id) AND resolved_at IS NULL RETURNING id
                """, logger: logger)).isEmpty else { return }
            try await Self.record(connection, store: store, insight: insight, alert: alert, thread: .issue(id), at: at, logger: logger)
        }
    }

    /// Writes an insight and queues its alert in the issue's thread, inside the caller's transaction.
    static func record(_ connection: PostgresConnection, store: StoreID, insight: InsightEntry, alert: Addressed?, thread: ThreadKey,
                       at: Date, logger: Logger) async throws {
        _ = try await connection.rows("""
            INSERT INTO insights (customer_id, at, kind, title, body)
            VALUES (\(store.rawValue), \(at.unixSeconds), \(insight.kind), \(insight.title), \(insight.body))
            """, logger: logger)
        if let alert { _ = try await enqueue(connection, alert, thread: thread, at: at, logger: logger) }
    }
}
