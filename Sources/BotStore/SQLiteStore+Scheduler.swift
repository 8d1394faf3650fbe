import BotCore
import Foundation
import GRDB

extension SQLiteStore: SchedulerStore {
    static func trackedIssues(_ db: Database, _ store: StoreID) throws -> [TrackedIssue] {
        try Row.fetchAll(db.cachedStatement(sql: """
            SELECT id, issue_type, severity, title, detected_at, clear_since FROM performance_issues
            WHERE customer_id = ? AND resolved_at IS NULL AND source = 'rule' ORDER BY id
            """), arguments: [store.rawValue]).compactMap { row in
            guard let severity = Severity(rawValue: row[2]) else { return nil }
            let clear: Int64? = row[5]
            return TrackedIssue(id: row[0], type: row[1], severity: severity, title: row[3],
                                detectedAt: Date(unixSeconds: row[4]), clearSince: clear.map(Date.init(unixSeconds:)))
        }
    }

    public func touchIssue(_ id: Int64, at: Date) async throws {
        try await pool.write { db in
            try db.execute(sql: "UPDATE performance_issues SET last_seen_at = ?, clear_since = NULL WHERE id = ?",
                           arguments: [at.unixSeconds, id])
        }
    }

    public func markClear(_ id: Int64, since: Date) async throws {
        try await pool.write { db in
            try db.execute(sql: "UPDATE performance_issues SET clear_since = ? WHERE id = ? AND clear_since IS NULL",
                           arguments: [since.unixSeconds, id])
        }
    }

    public func openIssue(store: StoreID, type: String, severity: Severity, title: String, details: [String: String],
                          insight: InsightEntry, alert: Addressed?, approval: ApprovalDraft?, at: Date) async throws -> Int64? {
        try await pool.write { db in
            try db.execute(sql: """
                INSERT OR IGNORE INTO performance_issues
                    (customer_id, issue_type, severity, title, detected_at, last_seen_at, details, source, onset_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, 'rule', ?)
                """, arguments: [store.rawValue, type, severity.rawValue, title, at.unixSeconds, at.unixSeconds,
                                 try jsonText(details),
                                 // When the condition began: detection time is detected_at − onset_at.
                                 at.unixSeconds - (details["detection_seconds"].flatMap(Int64.init) ?? 0)])
            guard db.changesCount > 0 else { return nil }
            let id = db.lastInsertedRowID
            if let draft = approval { try Self.insert(db, draft, issueID: id, at: at) }
            try Self.record(db, store: store, insight: insight, alert: alert, thread: .issue(id), at: at)
            return id
        }
    }

    public func resolveIssue(_ id: Int64, store: StoreID, insight: InsightEntry, alert: Addressed?, at: Date) async throws {
        try await pool.write { db in
            try db.execute(sql: "UPDATE performance_issues SET resolved_at = ? WHERE id = ? AND resolved_at IS NULL",
                           arguments: [at.unixSeconds, id])
            guard db.changesCount > 0 else { return }
            try Self.record(db, store: store, insight: insight, alert: alert, thread: .issue(id), at: at)
        }
    }

    public func record(_ insight: InsightEntry, for store: StoreID, messages: [Addressed], at: Date) async throws {
        try await pool.write { db in
            try Self.record(db, store: store, insight: insight, alert: nil, thread: nil, at: at)
            for message in messages {
                try Self.enqueue(db, message, at: at)
            }
        }
    }

    /// Writes an insight and queues an alert, inside the caller's transaction.
    static func record(_ db: Database, store: StoreID, insight: InsightEntry, alert: Addressed?, thread: ThreadKey?,
                       at: Date) throws {
        try db.execute(sql: "INSERT INTO insights (customer_id, at, kind, title, body) VALUES (?, ?, ?, ?, ?)",
                       arguments: [store.rawValue, at.unixSeconds, insight.kind, insight.title, insight.body])
        if let thread { try queue(db, alert, thread: thread, at: at) }
    }

    public func resolveIssue(_ id: Int64, at: Date, autoFixed: Bool) async throws {
        try await pool.write { db in
            try db.execute(sql: "UPDATE performance_issues SET resolved_at = ?, auto_fixed = ? WHERE id = ?",
                           arguments: [at.unixSeconds, autoFixed, id])
        }
    }

    /// Issues resolved since `since`, newest first, optionally of one store.
    public func resolvedIssues(store: StoreID?, since: Date) async throws -> [IssueSummary] {
        try await pool.read { db in
            let filter = store == nil ? "" : "AND customer_id = ?"
            var arguments: StatementArguments = [since.unixSeconds]
            if let store { arguments += [store.rawValue] }
            return try Row.fetchAll(db, sql: """
                SELECT id, customer_id, issue_type, severity, detected_at, resolved_at, title FROM performance_issues
                WHERE resolved_at >= ? \(filter) ORDER BY resolved_at DESC LIMIT 50
                """, arguments: arguments).compactMap { row in
                guard let store = StoreID(row[1]), let severity = Severity(rawValue: row[3]) else { return nil }
                return IssueSummary(id: row[0], store: store, type: row[2], severity: severity,
                                    detectedAt: Date(unixSeconds: row[4]), resolvedAt: Date(unixSeconds: row[5]),
                                    summary: row[6])
            }
        }
    }

    public func activeSilence(_ store: StoreID, at: Date) async throws -> Silence? {
        try await pool.read { db in
            try Row.fetchOne(db.cachedStatement(sql: """
                SELECT id, customer_id, ends_at, reason, created_by, starts_at FROM silences
                WHERE customer_id = ? AND starts_at <= ? AND ends_at > ? ORDER BY ends_at DESC LIMIT 1
                """), arguments: [store.rawValue, at.unixSeconds, at.unixSeconds]).flatMap(Self.silence(from:))
        }
    }

    public func addSilence(_ store: StoreID, until: Date, reason: String?, by: String, at: Date) async throws -> Int64 {
        try await pool.write { db in
            try db.execute(sql: """
                INSERT INTO silences (customer_id, starts_at, ends_at, reason, created_by) VALUES (?, ?, ?, ?, ?)
                """, arguments: [store.rawValue, at.unixSeconds, until.unixSeconds, reason, by])
            return db.lastInsertedRowID
        }
    }

    public func startWindow(_ store: StoreID, opening: Date, until: Date, reason: String) async throws -> Int64? {
        try await pool.write { db in
            // One silence per opening of the window, however many cycles (or replicas) see it open.
            guard try Int.fetchOne(db, sql: """
                SELECT COUNT(*) FROM silences WHERE customer_id = ? AND created_by = ? AND starts_at = ?
                """, arguments: [store.rawValue, Silence.windowActor, opening.unixSeconds]) == 0 else { return nil }
            try db.execute(sql: """
                INSERT INTO silences (customer_id, starts_at, ends_at, reason, created_by) VALUES (?, ?, ?, ?, ?)
                """, arguments: [store.rawValue, opening.unixSeconds, until.unixSeconds, reason, Silence.windowActor])
            return db.lastInsertedRowID
        }
    }

    public func weeklyProfile(_ metric: MetricName, from: Date, to: Date) async throws -> [StoreID: [Int: Double]] {
        try await sampleRead { db in
            var profiles: [StoreID: [Int: Double]] = [:]
            // Hour of the week from Sunday 00:00 UTC: 1 January 1970 was a Thursday, 96 hours into its week.
            let rows = try Row.fetchCursor(db, sql: """
                SELECT c.id, (r.hour / 3600 + 96) % 168, SUM(r.sum) / SUM(r.count)
                FROM customers c CROSS JOIN metric_rollups r ON r.customer_id = c.id AND r.metric = ? AND r.hour >= ? AND r.hour < ?
                GROUP BY 1, 2
                """, arguments: [metric.rawValue, from.unixSeconds, to.unixSeconds])
            while let row = try rows.next() {
                guard let store = StoreID(row[0] as String) else { continue }
                profiles[store, default: [:]][row[1]] = row[2]
            }
            return profiles
        }
    }

    public func endedSilences(at: Date) async throws -> [Silence] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: """
                SELECT id, customer_id, ends_at, reason, created_by, starts_at FROM silences
                WHERE ends_at <= ? AND end_announced = 0 ORDER BY ends_at
                """, arguments: [at.unixSeconds]).compactMap(Self.silence(from:))
        }
    }

    public func activeSilences(at: Date) async throws -> [Silence] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: """
                SELECT id, customer_id, ends_at, reason, created_by, starts_at FROM silences
                WHERE starts_at <= ? AND ends_at > ? ORDER BY ends_at, id
                """, arguments: [at.unixSeconds, at.unixSeconds]).compactMap(Self.silence(from:))
        }
    }

    public func endSilences(of store: StoreID, at: Date) async throws -> Int {
        try await pool.write { db in
            try db.execute(sql: "UPDATE silences SET ends_at = ? WHERE customer_id = ? AND starts_at <= ? AND ends_at > ?",
                           arguments: [at.unixSeconds, store.rawValue, at.unixSeconds, at.unixSeconds])
            return db.changesCount
        }
    }

    public func markSilenceAnnounced(_ id: Int64) async throws {
        try await pool.write { db in
            try db.execute(sql: "UPDATE silences SET end_announced = 1 WHERE id = ?", arguments: [id])
        }
    }

    static func silence(from row: Row) -> Silence? {
        guard let store = StoreID(row[1]) else { return nil }
        return Silence(id: row[0], store: store, startsAt: Date(unixSeconds: row[5]), endsAt: Date(unixSeconds: row[2]),
                       reason: row[3], createdBy: row[4])
    }

    public func state(of store: StoreID, since: Date, at: Date) async throws -> StoreState {
        let metrics = metrics
        return try await sampleRead { db in
            var series: [MetricName: [(at: Date, value: Double)]] = [:]
            let rows = try Row.fetchCursor(db.cachedStatement(sql: """
                SELECT metric, at, value FROM metric_samples WHERE customer_id = ? AND at > ? AND at <= ?
                ORDER BY metric, at
                """), arguments: [store.rawValue, since.unixSeconds, at.unixSeconds])
            while let row = try rows.next() {
                guard let metric = metrics.metric(named: row[0]) else { continue }
                series[metric, default: []].append((Date(unixSeconds: row[1]), row[2]))
            }
            // Slow-moving metrics (max_connections, autoload size) are sampled rarely: add their latest value.
            for row in try Row.fetchAll(db.cachedStatement(sql: "SELECT metric, at, value FROM metric_latest WHERE customer_id = ?"),
                                        arguments: [store.rawValue]) {
                guard let metric = metrics.metric(named: row[0]), series[metric] == nil else { continue }
                let sampled = Date(unixSeconds: row[1])
                if sampled <= at, at.timeIntervalSince(sampled) <= metric.freshness { series[metric] = [(sampled, row[2])] }
            }
            let tracked = try Self.trackedIssues(db, store)
            let silence = try Row.fetchOne(db.cachedStatement(sql: """
                SELECT id, customer_id, ends_at, reason, created_by, starts_at FROM silences
                WHERE customer_id = ? AND starts_at <= ? AND ends_at > ? ORDER BY ends_at DESC LIMIT 1
                """), arguments: [store.rawValue, at.unixSeconds, at.unixSeconds]).flatMap(Self.silence(from:))
            return StoreState(series: series, tracked: tracked, silence: silence)
        }
    }

    /// Snapshots written per transaction: a fleet's are written in several, so a command's or a push's write
    /// waits for one of them, not for all.
    static let snapshotBatch = 500

    public func writeSnapshots(_ snapshots: [SnapshotRecord], at: Date) async throws {
        for start in stride(from: 0, to: snapshots.count, by: Self.snapshotBatch) {
            try await writeSnapshotBatch(snapshots[start..<min(start + Self.snapshotBatch, snapshots.count)], at: at)
        }
    }

    /// Writes a batch of snapshots in two statements: the rows, and each store's last score where it changed
    /// (`health_score_updated_at` is when it last changed; the snapshots hold every cycle's).
    private func writeSnapshotBatch(_ snapshots: ArraySlice<SnapshotRecord>, at: Date) async throws {
        let count = snapshots.count
        guard count > 0 else { return }
        func value(_ value: (some DatabaseValueConvertible)?) -> DatabaseValue { value?.databaseValue ?? .null }
        var rows: [DatabaseValue] = []
        rows.reserveCapacity(count * 14)
        var scores: [DatabaseValue] = [at.unixSeconds.databaseValue]
        scores.reserveCapacity(count * 2 + 1)
        for snapshot in snapshots {
            let metrics = snapshot.metrics, store = snapshot.store.rawValue.databaseValue, score = snapshot.score.databaseValue
            rows += [store, at.unixSeconds.databaseValue, score, value(metrics[.ttfbMs].map { Int($0) }),
                     value(metrics[.fcpMs].map { Int($0) }), value(metrics[.lcpMs].map { Int($0) }), value(metrics[.cpuPercent]),
                     value(metrics[.memoryPercent]), value(metrics[.diskPercent]), value(metrics[.slowQueryCount].map { Int($0) }),
                     value(metrics[.activeConnections].map { Int($0) }), value(metrics[.tableSizeBytes].map { Int64($0) }),
                     value(metrics[.redisHitRate]), value(metrics[.varnishHitRate])]
            scores += [store, score]
        }
        let insert = """
            INSERT INTO performance_snapshots (customer_id, timestamp, health_score, ttfb_ms, fcp_ms, lcp_ms,
                cpu_percent, memory_percent, disk_percent, slow_query_count, active_connections, db_size_bytes,
                redis_hit_rate, varnish_hit_rate)
            VALUES
            """ + " " + repeatElement("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", count: count).joined(separator: ", ")
        let update = """
            UPDATE customers SET last_health_score = scored.column2, health_score_updated_at = ?
            FROM (VALUES
            """ + " " + repeatElement("(?, ?)", count: count).joined(separator: ", ")
            + ") AS scored WHERE customers.id = scored.column1 AND customers.last_health_score IS NOT scored.column2"
        try await pool.write { [rows, scores] db in
            try db.cachedStatement(sql: insert).execute(arguments: StatementArguments(rows))
            try db.cachedStatement(sql: update).execute(arguments: StatementArguments(scores))
        }
    }

    public func addInsight(_ store: StoreID, at: Date, kind: String, title: String, body: String) async throws {
        try await pool.write { db in
            try db.execute(sql: "INSERT INTO insights (customer_id, at, kind, title, body) VALUES (?, ?, ?, ?, ?)",
                           arguments: [store.rawValue, at.unixSeconds, kind, title, body])
        }
    }

    /// The store's insights feed, newest first: (kind, title, body).
    public func insights(of store: StoreID) async throws -> [(kind: String, title: String, body: String)] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT kind, title, body FROM insights WHERE customer_id = ? ORDER BY id DESC",
                             arguments: [store.rawValue]).map { ($0[0], $0[1], $0[2]) }
        }
    }


    /// The `ts` of the message that started `thread`, once it was sent.
    public func threadTS(_ thread: ThreadKey) async throws -> String? {
        try await pool.read { db in
            try String.fetchOne(db, sql: "SELECT ts FROM slack_threads WHERE thread_key = ?", arguments: [thread])
        }
    }

    /// Remembers the message that started `thread`.
    public func rememberThread(_ thread: ThreadKey, channel: String, ts: String) async throws {
        try await pool.write { db in
            try db.execute(sql: "INSERT OR IGNORE INTO slack_threads (thread_key, channel, ts) VALUES (?, ?, ?)",
                           arguments: [thread, channel, ts])
        }
    }

    public func hourlyMeans(_ metric: MetricName, of store: StoreID, from: Date, to: Date) async throws -> [(at: Date, value: Double)] {
        try await hourlyRollups(metric, store: store, from: from, to: to).map { ($0.hour, $0.mean) }
    }
}
