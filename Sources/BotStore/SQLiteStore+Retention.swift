import BotCore
import Foundation
import GRDB

/// How long each growing table keeps its rows. The audit log and issues are kept; everything else is
/// pruned by the retention service (hourly), each period configurable.
public struct RetentionPolicy: Sendable, Equatable {
    /// Raw metric samples.
    public var samples: TimeInterval = 48 * 3600
    /// Hourly metric rollups.
    public var rollups: TimeInterval = 90 * 86400
    /// Health snapshots stay per minute this long, then one per store and hour.
    public var snapshotsFull: TimeInterval = 48 * 3600
    /// Hourly health snapshots.
    public var snapshots: TimeInterval = 90 * 86400
    /// Inbound deliveries (idempotency keys) …
    public var deliveries: TimeInterval = 30 * 86400
    /// … and their raw bodies (mail included), dropped sooner.
    public var deliveryBodies: TimeInterval = 7 * 86400
    /// Sent (and given-up) outbox messages.
    public var outbox: TimeInterval = 30 * 86400
    /// Alerts from Alertmanager and Grafana, and Lighthouse reports.
    public var alerts: TimeInterval = 90 * 86400
    public var lighthouse: TimeInterval = 90 * 86400
    /// Ended jobs with their steps, executed actions, decided proposals, the insights feed, ended silences.
    public var history: TimeInterval = 90 * 86400

    public init() {}

    /// Each table with what its retention is, in words (for `perfbot db stats` and the README).
    public var rules: [String: String] {
        func days(_ interval: TimeInterval) -> String {
            interval >= 86400 ? "\(Int(interval / 86400)) days" : "\(Int(interval / 3600)) hours"
        }
        return [
            "metric_samples": days(samples),
            "metric_rollups": days(rollups),
            "metric_latest": "one row per store and metric",
            "sample_journal": "until the check cycle has read it; at most \(days(samples))",
            "performance_snapshots": "per minute for \(days(snapshotsFull)), then hourly for \(days(snapshots))",
            "webhook_deliveries": "\(days(deliveries)); bodies dropped after \(days(deliveryBodies))",
            "outbox": "sent or given up: \(days(outbox)); waiting: kept",
            "external_alerts": days(alerts),
            "lighthouse_probes": days(lighthouse),
            "jobs": "ended: \(days(history))", "job_steps": "with their job",
            "automation_actions": days(history), "admin_interventions": days(history),
            "approvals": "decided or closed: \(days(history))", "insights": days(history),
            "silences": "ended: \(days(history))", "slack_threads": "issue resolved \(days(history)) ago",
            "slow_queries": "last seen \(days(history)) ago",
            "performance_issues": "kept (the report's history)", "audit_log": "kept", "customers": "kept",
            "daily_runs": "one row per daily task", "report_opt_outs": "one row per store that opted out",
            "slow_log_cursors": "one row per store whose slow log is read",
            "traffic_hours": days(history), "access_log_cursors": "one row per store whose access log is read",
            "collector_status": "one row per store and reading",
        ]
    }
}

extension SQLiteStore {
    /// Prunes every growing table per `policy` as of `now`. - Returns: rows removed (or bodies dropped) per table.
    @discardableResult
    public func prune(_ policy: RetentionPolicy, now: Date) async throws -> [String: Int] {
        try await pool.write { db in
            var removed: [String: Int] = [:]
            func run(_ table: String, _ sql: String, _ arguments: StatementArguments) throws {
                try db.execute(sql: sql, arguments: arguments)
                if db.changesCount > 0 { removed[table, default: 0] += db.changesCount }
            }
            func before(_ interval: TimeInterval) -> Int64 { now.addingTimeInterval(-interval).unixSeconds }
            try run("metric_samples", "DELETE FROM metric_samples WHERE at < ?", [before(policy.samples)])
            // What no check cycle read (none ran, or it rebuilt from the tables) is kept no longer than the samples.
            try run("sample_journal", "DELETE FROM sample_journal WHERE at < ?", [before(policy.samples)])
            try run("metric_rollups", "DELETE FROM metric_rollups WHERE hour < ?", [before(policy.rollups)])
            try run("performance_snapshots", "DELETE FROM performance_snapshots WHERE timestamp < ?", [before(policy.snapshots)])
            // Older than the full period: keep the first snapshot of each store and hour.
            try run("performance_snapshots", """
                DELETE FROM performance_snapshots WHERE timestamp < ?1 AND id NOT IN (
                    SELECT MIN(id) FROM performance_snapshots WHERE timestamp < ?1 GROUP BY customer_id, timestamp / 3600)
                """, [before(policy.snapshotsFull)])
            try run("webhook_deliveries", "DELETE FROM webhook_deliveries WHERE received_at < ?", [before(policy.deliveries)])
            try run("webhook_deliveries.body", """
                UPDATE webhook_deliveries SET body = x'', response_body = NULL
                WHERE received_at < ? AND (length(body) > 0 OR response_body IS NOT NULL)
                """, [before(policy.deliveryBodies)])
            try run("outbox", """
                DELETE FROM outbox WHERE status IN ('sent', 'failed') AND COALESCE(sent_at, created_at) < ?
                """, [before(policy.outbox)])
            try run("external_alerts", "DELETE FROM external_alerts WHERE received_at < ?", [before(policy.alerts)])
            try run("lighthouse_probes", "DELETE FROM lighthouse_probes WHERE probed_at < ?", [before(policy.lighthouse)])
            let history = before(policy.history)
            try run("automation_actions", "DELETE FROM automation_actions WHERE executed_at < ?", [history])
            try run("admin_interventions", "DELETE FROM admin_interventions WHERE executed_at < ?", [history])
            try run("jobs", "DELETE FROM jobs WHERE state IN ('succeeded', 'failed', 'interrupted', 'cancelled', 'expired') AND COALESCE(ended_at, created_at) < ?", [history])
            try run("approvals", "DELETE FROM approvals WHERE status != 'pending' AND created_at < ?", [history])
            try run("insights", "DELETE FROM insights WHERE at < ?", [history])
            try run("status_links", "DELETE FROM status_links WHERE expires_at < ?", [history])
            try run("silences", "DELETE FROM silences WHERE ends_at < ? AND end_announced = 1", [history])
            try run("slow_queries", "DELETE FROM slow_queries WHERE last_seen < ?", [history])
            try run("traffic_hours", "DELETE FROM traffic_hours WHERE hour < ?", [history])
            try run("slack_threads", """
                DELETE FROM slack_threads WHERE thread_key IN (
                    SELECT 'issue:' || id FROM performance_issues WHERE resolved_at IS NOT NULL AND resolved_at < ?)
                """, [history])
            try db.execute(sql: "INSERT OR REPLACE INTO daily_runs (name, last_run_at) VALUES ('retention', ?)",
                           arguments: [now.unixSeconds])
            return removed
        }
    }

    /// One table as `perfbot db stats` shows it.
    public struct TableStats: Sendable {
        public var name: String
        public var rows: Int
        /// Bytes on disk (pages), when SQLite can tell.
        public var bytes: Int?
    }

    /// Rows and bytes per table, and when the retention service last ran.
    public func tableStats() async throws -> (tables: [TableStats], lastPrune: Date?) {
        try await pool.read { db in
            let names = try String.fetchAll(db, sql: """
                SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'grdb_%'
                ORDER BY name
                """)
            var bytes: [String: Int] = [:]
            // dbstat counts the pages of each table and its indexes; not every SQLite build has it.
            if let rows = try? Row.fetchAll(db, sql: """
                SELECT COALESCE(m.tbl_name, s.name), SUM(s.pgsize) FROM dbstat s
                LEFT JOIN sqlite_master m ON m.name = s.name GROUP BY 1
                """) {
                for row in rows { if let name: String = row[0] { bytes[name] = row[1] } }
            }
            let tables = try names.map { name in
                TableStats(name: name, rows: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \"\(name)\"") ?? 0, bytes: bytes[name])
            }
            let last = try Int64.fetchOne(db, sql: "SELECT last_run_at FROM daily_runs WHERE name = 'retention'")
            return (tables, last.map(Date.init(unixSeconds:)))
        }
    }

    /// Claims today's run of the daily task `name`: true (and the time recorded) when it last ran at least
    /// `interval` ago or never, so a restart does not run it twice.
    public func claimDailyRun(_ name: String, at: Date, interval: TimeInterval = 86400) async throws -> Bool {
        try await pool.write { db in
            if let last = try Int64.fetchOne(db, sql: "SELECT last_run_at FROM daily_runs WHERE name = ?", arguments: [name]),
               Date(unixSeconds: last).addingTimeInterval(interval) > at {
                return false
            }
            try db.execute(sql: "INSERT OR REPLACE INTO daily_runs (name, last_run_at) VALUES (?, ?)", arguments: [name, at.unixSeconds])
            return true
        }
    }
}
