import BotCore
@testable import BotStore
import Foundation
import GRDB
import Testing

@Suite struct RetentionTests {
    /// Seeds every growing table with rows of different ages, then prunes as of `now`.
    @Test func everyGrowingTableIsPrunedAsItsPolicySays() async throws {
        let db = try SQLiteStore(path: try temporaryDatabase())
        try await db.upsert(customer("acme-store"), at: t0)
        let now = t0.addingTimeInterval(200 * 86400)
        @Sendable func ago(_ days: Double) -> Int64 { Int64(now.addingTimeInterval(-days * 86400).timeIntervalSince1970) }
        try await db.pool.write { db in
            for (days, value) in [(3.0, 1.0), (1.0, 2.0)] {
                try db.execute(sql: "INSERT INTO metric_samples (customer_id, metric, at, value) VALUES ('acme-store', 'cpu_percent', ?, ?)",
                               arguments: [ago(days), value])
            }
            for days in [100.0, 10.0] {
                try db.execute(sql: """
                    INSERT INTO metric_rollups (customer_id, metric, hour, count, sum, min, max) VALUES ('acme-store', 'cpu_percent', ?, 1, 1, 1, 1)
                    """, arguments: [ago(days)])
            }
            // Snapshots: one 100 days old (gone), four in one hour 5 days ago (one kept), two an hour ago (both kept).
            let hour = ago(5) / 3600 * 3600
            for at in [ago(100), hour + 60, hour + 120, hour + 180, hour + 240, ago(1.0 / 24), ago(1.0 / 24) + 60] {
                try db.execute(sql: "INSERT INTO performance_snapshots (customer_id, timestamp, health_score) VALUES ('acme-store', ?, 80)",
                               arguments: [at])
            }
            for (key, days) in [("old", 40.0), ("week", 10.0), ("new", 1.0)] {
                try db.execute(sql: """
                    INSERT INTO webhook_deliveries (idempotency_key, source, received_at, body, response_body, status)
                    VALUES (?, 'email', ?, x'68656c6c6f', x'7b7d', 'processed')
                    """, arguments: [key, ago(days)])
            }
            for (status, days) in [("sent", 40.0), ("failed", 40.0), ("pending", 40.0), ("sent", 1.0)] {
                try db.execute(sql: """
                    INSERT INTO outbox (channel, destination, payload, created_at, next_attempt_at, status, sent_at)
                    VALUES ('slack', 'C0', '{}', ?, ?, ?, ?)
                    """, arguments: [ago(days), ago(days), status, status == "sent" ? ago(days) : nil])
            }
            for days in [100.0, 10.0] {
                try db.execute(sql: """
                    INSERT INTO external_alerts (source, identity, status, starts_at, name, severity, summary, received_at)
                    VALUES ('alertmanager', ?, 'firing', '', 'HighLoad', 'warning', 's', ?)
                    """, arguments: ["a\(days)", ago(days)])
                try db.execute(sql: "INSERT INTO lighthouse_probes (customer_id, probed_at) VALUES ('acme-store', ?)", arguments: [ago(days)])
                try db.execute(sql: """
                    INSERT INTO jobs (customer_id, playbook_name, requested_by, channel, plan, plan_hash, state, reason, created_at, ended_at)
                    VALUES ('acme-store', 'optimize', 'U0OPS0001', 'slack', '[]', 'h', 'succeeded', 'r', ?, ?)
                    """, arguments: [ago(days), ago(days)])
                try db.execute(sql: """
                    INSERT INTO job_steps (job_id, step_index, name, status, started_at, duration_ms) VALUES (?, 0, 's', 'succeeded', ?, 1)
                    """, arguments: [db.lastInsertedRowID, ago(days)])
                try db.execute(sql: """
                    INSERT INTO automation_actions (customer_id, playbook_name, action_name, executed_at, success) VALUES ('acme-store', 'p', 'a', ?, 1)
                    """, arguments: [ago(days)])
                try db.execute(sql: """
                    INSERT INTO admin_interventions (customer_id, admin_user_id, playbook_name, executed_at) VALUES ('acme-store', 'U', 'p', ?)
                    """, arguments: [ago(days)])
                try db.execute(sql: """
                    INSERT INTO approvals (id, customer_id, playbook_name, steps, token_hash, created_at, expires_at, status)
                    VALUES (?, 'acme-store', 'p', '[]', ?, ?, ?, 'expired')
                    """, arguments: ["fix_\(Int(days))", "hash\(days)", ago(days), ago(days)])
                try db.execute(sql: "INSERT INTO insights (customer_id, at, kind, title, body) VALUES ('acme-store', ?, 'issue', 't', 'b')",
                               arguments: [ago(days)])
                try db.execute(sql: """
                    INSERT INTO silences (customer_id, starts_at, ends_at, created_by, end_announced) VALUES ('acme-store', ?, ?, 'U', 1)
                    """, arguments: [ago(days), ago(days)])
                try db.execute(sql: """
                    INSERT INTO slow_queries (customer_id, query_hash, query_text, hour, occurrence_count, execution_time_ms,
                        max_time_ms, lock_time_ms, rows_examined, rows_sent, time_histogram, tables, first_seen, last_seen)
                    VALUES ('acme-store', ?, 'select ?', ?, 1, 1, 1, 0, 1, 1, '[]', '[]', ?, ?)
                    """, arguments: ["q\(days)", ago(days), ago(days), ago(days)])
                try db.execute(sql: """
                    INSERT INTO performance_issues (customer_id, issue_type, severity, title, detected_at, last_seen_at, resolved_at)
                    VALUES ('acme-store', ?, 'warning', 't', ?, ?, ?)
                    """, arguments: ["type\(days)", ago(days), ago(days), ago(days)])
                try db.execute(sql: "INSERT INTO slack_threads (thread_key, channel, ts) VALUES (?, 'C0', '1.0')",
                               arguments: ["issue:\(db.lastInsertedRowID)"])
                try db.execute(sql: "INSERT INTO audit_log (at, actor, channel, action) VALUES (?, 'U', 'slack', 'x')", arguments: [ago(days)])
            }
        }
        let removed = try await db.prune(RetentionPolicy(), now: now)
        #expect(removed["metric_samples"] == 1 && removed["metric_rollups"] == 1)
        #expect(removed["performance_snapshots"] == 4)  // the 100-day-old one, and three of the hour 5 days ago
        #expect(removed["webhook_deliveries"] == 1 && removed["webhook_deliveries.body"] == 1)
        #expect(removed["outbox"] == 2)  // sent and given up; the waiting one stays
        for table in ["external_alerts", "lighthouse_probes", "jobs", "automation_actions", "admin_interventions", "approvals",
                      "insights", "silences", "slow_queries", "slack_threads"] {
            #expect(removed[table] == 1, "\(table): \(removed[table] ?? 0)")
        }
        let counts = try await db.pool.read { db in
            try [
                Int.fetchOne(db, sql: "SELECT COUNT(*) FROM performance_snapshots") ?? 0,
                Int.fetchOne(db, sql: "SELECT COUNT(*) FROM webhook_deliveries WHERE length(body) > 0") ?? 0,
                Int.fetchOne(db, sql: "SELECT COUNT(*) FROM job_steps") ?? 0,
                Int.fetchOne(db, sql: "SELECT COUNT(*) FROM audit_log") ?? 0,
                Int.fetchOne(db, sql: "SELECT COUNT(*) FROM performance_issues") ?? 0,
                Int.fetchOne(db, sql: "SELECT COUNT(*) FROM outbox WHERE status = 'pending'") ?? 0,
            ]
        }
        #expect(counts == [3, 1, 1, 2, 2, 1])  // steps go with their job; the audit log and issues are kept
        // Pruning again removes nothing, and `db stats` knows when it last ran.
        #expect(try await db.prune(RetentionPolicy(), now: now).isEmpty)
        let stats = try await db.tableStats()
        #expect(stats.lastPrune == now)
        #expect(stats.tables.first { $0.name == "audit_log" }?.rows == 2)
        #expect(stats.tables.allSatisfy { $0.bytes != nil })
    }

    @Test func theDatabaseFilesAreReadableByTheirOwnerOnly() async throws {
        let path = try temporaryDatabase()
        let db = try SQLiteStore(path: path)
        try await db.upsert(customer("acme-store"), at: t0)
        for file in [path, path + "-wal", path + "-shm"] {
            let mode = try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? Int
            #expect(mode == 0o600, "\(file): \(String(mode ?? 0, radix: 8))")
        }
        // A file created before is tightened when opened.
        let older = try temporaryDatabase()
        FileManager.default.createFile(atPath: older, contents: nil, attributes: [.posixPermissions: 0o644])
        _ = try SQLiteStore(path: older)
        #expect(try FileManager.default.attributesOfItem(atPath: older)[.posixPermissions] as? Int == 0o600)
    }

    @Test func dailyWorkRunsOnceADayAcrossRestarts() async throws {
        let path = try temporaryDatabase()
        #expect(try await SQLiteStore(path: path).claimDailyRun("predictions", at: t0))
        // perfbot restarts an hour later: the day's run is remembered.
        #expect(try await SQLiteStore(path: path).claimDailyRun("predictions", at: t0.addingTimeInterval(3600)) == false)
        #expect(try await SQLiteStore(path: path).claimDailyRun("predictions", at: t0.addingTimeInterval(86400)))
    }
}
