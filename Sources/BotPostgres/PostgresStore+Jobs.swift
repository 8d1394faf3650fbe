import BotCore
import BotStore
import Foundation
import Logging
import PostgresNIO

/// Jobs shared by every replica. A job is claimed by the replica that runs it (`run_by`); the database keeps one
/// running job per store (`idx_jobs_one_running`), whichever replica asks. A running job whose replica stopped
/// heartbeating (`perfbot_replicas`) is recorded `interrupted` by `interruptRunningJobs`; a live replica's never is.
extension PostgresStore: JobStore {
    public func admitJob(_ draft: JobDraft, at: Date) async throws -> JobAdmission {
        try await database.transaction { connection in
            let logger = database.logger
            // Admissions of one store are taken one at a time, so two replicas cannot both queue the same playbook.
            _ = try await connection.rows("SELECT pg_advisory_xact_lock(hashtext(\(draft.store.rawValue)))", logger: logger)
            if let same = try await Self.jobs(connection, where: """
                customer_id = \(draft.store.rawValue) AND playbook_name = \(draft.playbook) AND state = 'queued'
                  AND not_before IS NOT DISTINCT FROM \(draft.notBefore?.unixSeconds) ORDER BY id LIMIT 1
                """, logger: logger).first {
                return .duplicate(same)
            }
            let ahead = try await connection.rows("""
                SELECT COUNT(*) FROM jobs WHERE customer_id = \(draft.store.rawValue) AND state IN ('queued', 'running')
                """, logger: logger).first?.decode(Int.self) ?? 0
            var queued = draft
            queued.state = draft.state == .held || draft.state == .requested ? draft.state : .queued
            let id = try await Self.insertJob(connection, queued, at: at, logger: logger)
            return .admitted(try await Self.job(connection, id: id, logger: logger)!, ahead: ahead)
        }
    }

    /// Claims the store's next queued job for this replica, unless one of the store's jobs runs anywhere. Two
    /// replicas claiming at once: one gets the row, the other skips it (`SKIP LOCKED`), and the unique index on
    /// running jobs refuses a second running job of the store.
    public func claimNextJob(of store: StoreID, at: Date) async throws -> JobRecord? {
        try await database.transaction { connection in
            let logger = database.logger
            // Claims of one store are taken one at a time: the check for a running job then sees the other's.
            _ = try await connection.rows("SELECT pg_advisory_xact_lock(hashtext(\(store.rawValue)))", logger: logger)
            let claimed = try await connection.rows("""
                UPDATE jobs SET state = 'running', started_at = \(at.unixSeconds), run_by = \(replica)
                WHERE id = (SELECT id FROM jobs WHERE customer_id = \(store.rawValue) AND state = 'queued'
                              AND (not_before IS NULL OR not_before <= \(at.unixSeconds))
                            ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
                  AND NOT EXISTS (SELECT 1 FROM jobs WHERE customer_id = \(store.rawValue) AND state = 'running')
                RETURNING id
                """, logger: logger)
            guard let id = try claimed.first?.decode(Int64.self) else { return nil }
            return try await Self.job(connection, id: id, logger: logger)
        }
    }

    public func moveJob(_ id: Int64, from: JobState, to: JobState, createdSince: Date) async throws -> JobRecord? {
        try await database.transaction { connection in
            let logger = database.logger
            guard try await !connection.rows("""
                UPDATE jobs SET state = \(to.rawValue)
                WHERE id = \(id) AND state = \(from.rawValue) AND created_at >= \(createdSince.unixSeconds) RETURNING id
                """, logger: logger).isEmpty else { return nil }
            return try await Self.job(connection, id: id, logger: logger)
        }
    }

    public func recordJobStep(_ job: JobRecord, step: JobStepRecord, argv: [String], exitCode: Int32?, output: String, at: Date) async throws {
        let duration = Int64((step.duration * 1000).rounded())
        try await database.transaction { connection in
            let logger = database.logger
            _ = try await connection.rows("""
                INSERT INTO job_steps (job_id, step_index, name, status, reason, started_at, duration_ms)
                VALUES (\(job.id), \(Int64(step.index)), \(step.name), \(step.status.rawValue), \(step.reason.map { String($0.prefix(500)) }),
                        \(step.startedAt.unixSeconds), \(duration))
                ON CONFLICT (job_id, step_index) DO UPDATE SET name = EXCLUDED.name, status = EXCLUDED.status, reason = EXCLUDED.reason,
                    started_at = EXCLUDED.started_at, duration_ms = EXCLUDED.duration_ms
                """, logger: logger)
            guard step.status != .skipped else { return }
            _ = try await connection.rows("""
                INSERT INTO automation_actions (customer_id, issue_id, playbook_name, action_name, argv, executed_at, duration_ms,
                    exit_code, output, success, result, job_id)
                VALUES (\(job.store.rawValue), \(job.issueID), \(job.playbook), \(step.name), \(try jsonText(argv)),
                        \(step.startedAt.unixSeconds), \(duration), \(exitCode.map { Int64($0) }), \(String(output.prefix(16 * 1024))),
                        \(Int64(step.status == .succeeded ? 1 : 0)), \(try jsonText(["exit_code": exitCode.map { String($0) } ?? "none"])),
                        \(job.id))
                """, logger: logger)
        }
    }

    public func finishJob(_ id: Int64, state: JobState, summary: String, at: Date) async throws {
        try await database.transaction { try await Self.finishJob($0, id, state: state, summary: summary, at: at, logger: database.logger) }
    }

    /// Running jobs whose replica stopped heartbeating are recorded `interrupted` (a replica that died mid-job, or
    /// this one's previous process: a restarted replica has a new identity). A live replica's jobs are left to it,
    /// this replica's own too, so the leader may call this every round.
    public func interruptRunningJobs(at: Date) async throws -> [JobRecord] {
        try await database.transaction { connection in
            let logger = database.logger
            let ids = try await connection.rows("""
                SELECT id FROM jobs WHERE state = 'running' AND run_by IS DISTINCT FROM \(replica) AND (run_by IS NULL OR run_by NOT IN (
                    SELECT identity FROM perfbot_replicas WHERE seen_until > now()))
                ORDER BY id FOR UPDATE SKIP LOCKED
                """, logger: logger).map { try $0.decode(Int64.self) }
            var interrupted: [JobRecord] = []
            for id in ids {
                guard let job = try await Self.job(connection, id: id, logger: logger) else { continue }
                let done = job.steps.filter { $0.status != .skipped }.count
                try await Self.finishJob(connection, id, state: .interrupted, summary: "interrupted after \(done) of \(job.plan.count) steps",
                                         at: at, logger: logger)
                if let finished = try await Self.job(connection, id: id, logger: logger) { interrupted.append(finished) }
            }
            return interrupted
        }
    }

    public func storesWithQueuedJobs() async throws -> [StoreID] {
        try await database.rows("SELECT DISTINCT customer_id FROM jobs WHERE state = 'queued' ORDER BY customer_id")
            .compactMap { StoreID(try $0.decode(String.self)) }
    }

    public func job(_ id: Int64) async throws -> JobRecord? {
        try await database.client.withConnection { try await Self.job($0, id: id, logger: database.logger) }
    }

    public func jobs(store: StoreID?, limit: Int) async throws -> [JobRecord] {
        try await database.client.withConnection { connection in
            let order = "ORDER BY CASE state WHEN 'running' THEN 0 WHEN 'queued' THEN 1 ELSE 2 END, id DESC LIMIT \(Int64(limit))"
            let acted = "NOT (approval_id IS NOT NULL AND approved_at IS NULL)"
            var jobs = try await Self.jobs(connection, where: store.map { "\(unescaped: acted) AND customer_id = \($0.rawValue) \(unescaped: order)" }
                                               ?? "\(unescaped: acted) \(unescaped: order)", logger: database.logger)
            for index in jobs.indices { jobs[index].steps = try await Self.steps(connection, job: jobs[index].id, logger: database.logger) }
            return jobs
        }
    }

    public func cancelJob(_ id: Int64, by: String, at: Date) async throws -> Bool {
        try await database.transaction { connection in
            let logger = database.logger
            guard let job = try await Self.job(connection, id: id, logger: logger), [.queued, .held, .approved].contains(job.state) else {
                return false
            }
            try await Self.finishJob(connection, id, state: .cancelled, summary: "cancelled by \(by) before it started", at: at, logger: logger)
            if let approval = job.approvalID {
                _ = try await connection.rows("UPDATE approvals SET status = 'cancelled' WHERE id = \(approval) AND status = 'pending'",
                                              logger: logger)
            }
            return true
        }
    }

    /// Tells the others this replica is alive until `until` from now (its running jobs are its own until then).
    public func heartbeat(for until: Duration) async throws {
        let seconds = until.timeInterval
        try await database.execute("""
            INSERT INTO perfbot_replicas (identity, seen_until) VALUES (\(replica), now() + make_interval(secs => \(seconds)))
            ON CONFLICT (identity) DO UPDATE SET seen_until = EXCLUDED.seen_until
            """)
    }

    // MARK: - Inside a transaction

    /// Stores a job in the state its draft names. - Returns: its id.
    static func insertJob(_ connection: PostgresConnection, _ draft: JobDraft, at: Date, logger: Logger) async throws -> Int64 {
        guard let id = try await connection.rows("""
            INSERT INTO jobs (customer_id, playbook_name, requested_by, channel, issue_id, approval_id, plan, plan_hash, state,
                              reason, created_at, kind, not_before)
            VALUES (\(draft.store.rawValue), \(draft.playbook), \(draft.requester.actor), \(draft.requester.channel), \(draft.issueID),
                    \(draft.approvalID), \(try jsonText(draft.plan)), \(draft.planHash), \(draft.state.rawValue), \(draft.reason),
                    \(at.unixSeconds), \(try jsonText(draft.kind)), \(draft.notBefore?.unixSeconds))
            RETURNING id
            """, logger: logger).first?.decode(Int64.self) else { throw PostgresStoreError("the jobs table returned no id") }
        return id
    }

    static func jobs(_ connection: PostgresConnection, where condition: PostgresQuery, logger: Logger) async throws -> [JobRecord] {
        var query = PostgresQuery(unsafeSQL: "SELECT \(JobRow.columns) FROM jobs WHERE ")
        query.sql += condition.sql
        query.binds = condition.binds
        return try await connection.rows(query, logger: logger).compactMap { row in
            var cells = row.makeIterator()
            func next<T: PostgresDecodable>(_: T.Type = T.self) throws -> T { try cells.next()!.decode(T.self) }
            return JobRow(id: try next(), store: try next(), playbook: try next(), requestedBy: try next(), channel: try next(),
                          issueID: try next(), approvalID: try next(), plan: try next(), planHash: try next(), state: try next(),
                          reason: try next(), createdAt: try next(), startedAt: try next(), endedAt: try next(), summary: try next(),
                          kind: try next(), notBefore: try next()).record
        }
    }

    static func job(_ connection: PostgresConnection, id: Int64, logger: Logger) async throws -> JobRecord? {
        guard var job = try await jobs(connection, where: "id = \(id)", logger: logger).first else { return nil }
        job.steps = try await steps(connection, job: id, logger: logger)
        return job
    }

    static func steps(_ connection: PostgresConnection, job: Int64, logger: Logger) async throws -> [JobStepRecord] {
        try await connection.rows("""
            SELECT step_index, name, status, reason, started_at, duration_ms FROM job_steps WHERE job_id = \(job) ORDER BY step_index
            """, logger: logger).map {
            let (index, name, status, reason, startedAt, duration) = try $0.decode((Int64, String, String, String?, Int64, Int64).self)
            return JobRow.step(index: Int(index), name: name, status: status, reason: reason, startedAt: startedAt, durationMs: duration)
        }
    }

    /// Ends a job with its audit entry and intervention record, as the SQLite store does.
    static func finishJob(_ connection: PostgresConnection, _ id: Int64, state: JobState, summary: String, at: Date,
                          logger: Logger) async throws {
        guard let job = try await job(connection, id: id, logger: logger), !job.state.isFinal else { return }
        _ = try await connection.rows("""
            UPDATE jobs SET state = \(state.rawValue), ended_at = \(at.unixSeconds), summary = \(summary) WHERE id = \(id)
            """, logger: logger)
        // A proposal that never ran is in the audit log as its decision (or its expiry), not again as a job.
        guard job.state != .held else { return }
        _ = try await connection.rows("""
            INSERT INTO audit_log (at, actor, channel, action, customer_id, details, result)
            VALUES (\(at.unixSeconds), \(job.requestedBy), \(job.channel), \("job.\(state.rawValue)"), \(job.store.rawValue),
                    \(try jsonText(["job": "\(id)", "playbook": job.playbook])), \(summary))
            """, logger: logger)
        if job.channel != "policy" && job.steps.contains(where: { $0.status != .skipped }) {
            let counts = Dictionary(grouping: job.steps, by: \.status.rawValue).mapValues { String($0.count) }
            _ = try await connection.rows("""
                INSERT INTO admin_interventions (customer_id, admin_user_id, playbook_name, executed_at, reason, result)
                VALUES (\(job.store.rawValue), \(job.requestedBy), \(job.playbook), \(at.unixSeconds), \("\(job.reason) (job \(id))"),
                        \(try jsonText(counts.merging(["state": state.rawValue]) { $1 })))
                """, logger: logger)
        }
        if state == .succeeded, job.channel == "policy", let issue = job.issueID {
            _ = try await connection.rows("UPDATE performance_issues SET auto_fixed = 1 WHERE id = \(issue)", logger: logger)
        }
    }
}
