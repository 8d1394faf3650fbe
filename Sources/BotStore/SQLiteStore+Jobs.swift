import BotCore
import Foundation
import GRDB

extension SQLiteStore: JobStore {
    static let jobColumns = """
        id, customer_id, playbook_name, requested_by, channel, issue_id, approval_id, plan, plan_hash, state, reason,
        created_at, started_at, ended_at, summary, kind, not_before
        """

    /// Jobs someone asked for or approved: not proposals that were never approved (those are approvals).
    public static let actedOn = "NOT (approval_id IS NOT NULL AND approved_at IS NULL)"

    static func job(from row: Row) -> JobRecord? {
        JobRow(id: row[0], store: row[1], playbook: row[2], requestedBy: row[3], channel: row[4], issueID: row[5], approvalID: row[6],
               plan: row[7], planHash: row[8], state: row[9], reason: row[10], createdAt: row[11], startedAt: row[12], endedAt: row[13],
               summary: row[14], kind: row[15], notBefore: row[16]).record
    }

    static func job(_ db: Database, id: Int64) throws -> JobRecord? {
        guard var job = try Row.fetchOne(db, sql: "SELECT \(jobColumns) FROM jobs WHERE id = ?", arguments: [id])
            .flatMap(Self.job(from:)) else { return nil }
        job.steps = try steps(db, job: id)
        return job
    }

    static func steps(_ db: Database, job: Int64) throws -> [JobStepRecord] {
        try Row.fetchAll(db, sql: """
            SELECT step_index, name, status, reason, started_at, duration_ms FROM job_steps WHERE job_id = ? ORDER BY step_index
            """, arguments: [job]).map {
            JobRow.step(index: $0[0], name: $0[1], status: $0[2], reason: $0[3], startedAt: $0[4], durationMs: $0[5])
        }
    }

    /// Writes a job inside the caller's transaction. - Returns: its id.
    static func insertJob(_ db: Database, _ draft: JobDraft, at: Date) throws -> Int64 {
        try db.execute(sql: """
            INSERT INTO jobs (customer_id, playbook_name, requested_by, channel, issue_id, approval_id, plan, plan_hash,
                              state, reason, created_at, kind, not_before)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [draft.store.rawValue, draft.playbook, draft.requester.actor, draft.requester.channel,
                             draft.issueID, draft.approvalID, try jsonText(draft.plan), draft.planHash,
                             draft.state.rawValue, draft.reason, at.unixSeconds, try jsonText(draft.kind),
                             draft.notBefore?.unixSeconds])
        return db.lastInsertedRowID
    }

    public func admitJob(_ draft: JobDraft, at: Date) async throws -> JobAdmission {
        try await pool.write { db in
            if let same = try Row.fetchOne(db, sql: """
                SELECT \(Self.jobColumns) FROM jobs WHERE customer_id = ? AND playbook_name = ? AND state = 'queued'
                  AND not_before IS ? ORDER BY id LIMIT 1
                """, arguments: [draft.store.rawValue, draft.playbook, draft.notBefore?.unixSeconds]).flatMap(Self.job(from:)) {
                return .duplicate(same)
            }
            let ahead = try Int.fetchOne(db, sql: """
                SELECT COUNT(*) FROM jobs WHERE customer_id = ? AND state IN ('queued', 'running')
                """, arguments: [draft.store.rawValue]) ?? 0
            var queued = draft
            if queued.state != .held && queued.state != .requested { queued.state = .queued }
            let id = try Self.insertJob(db, queued, at: at)
            return .admitted(try Self.job(db, id: id)!, ahead: ahead)
        }
    }

    public func moveJob(_ id: Int64, from: JobState, to: JobState, createdSince: Date) async throws -> JobRecord? {
        try await pool.write { db in
            try db.execute(sql: "UPDATE jobs SET state = ? WHERE id = ? AND state = ? AND created_at >= ?",
                           arguments: [to.rawValue, id, from.rawValue, createdSince.unixSeconds])
            return db.changesCount == 1 ? try Self.job(db, id: id) : nil
        }
    }

    public func claimNextJob(of store: StoreID, at: Date) async throws -> JobRecord? {
        try await pool.write { db in
            let running = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM jobs WHERE customer_id = ? AND state = 'running'",
                                           arguments: [store.rawValue]) ?? 0
            guard running == 0, let id = try Int64.fetchOne(db, sql: """
                SELECT id FROM jobs WHERE customer_id = ? AND state = 'queued' AND (not_before IS NULL OR not_before <= ?)
                ORDER BY id LIMIT 1
                """, arguments: [store.rawValue, at.unixSeconds]) else { return nil }
            try db.execute(sql: "UPDATE jobs SET state = 'running', started_at = ? WHERE id = ?", arguments: [at.unixSeconds, id])
            return try Self.job(db, id: id)
        }
    }

    public func recordJobStep(_ job: JobRecord, step: JobStepRecord, argv: [String], exitCode: Int32?, output: String,
                              at: Date) async throws {
        try await pool.write { db in
            try db.execute(sql: """
                INSERT OR REPLACE INTO job_steps (job_id, step_index, name, status, reason, started_at, duration_ms)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """, arguments: [job.id, step.index, step.name, step.status.rawValue, step.reason.map { String($0.prefix(500)) },
                                 step.startedAt.unixSeconds, Int((step.duration * 1000).rounded())])
            guard step.status != .skipped else { return }
            try db.execute(sql: """
                INSERT INTO automation_actions (customer_id, issue_id, playbook_name, action_name, argv, executed_at,
                    duration_ms, exit_code, output, success, result, job_id)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [job.store.rawValue, job.issueID, job.playbook, step.name, try jsonText(argv),
                                 step.startedAt.unixSeconds, Int((step.duration * 1000).rounded()), exitCode.map { Int($0) },
                                 String(output.prefix(16 * 1024)), step.status == .succeeded,
                                 try jsonText(["exit_code": exitCode.map { String($0) } ?? "none"]), job.id])
        }
    }

    public func finishJob(_ id: Int64, state: JobState, summary: String, at: Date) async throws {
        try await pool.write { db in try Self.finishJob(db, id, state: state, summary: summary, at: at) }
    }

    /// Ends a job inside the caller's transaction, with its audit entry and intervention record.
    static func finishJob(_ db: Database, _ id: Int64, state: JobState, summary: String, at: Date) throws {
        guard let job = try job(db, id: id), !job.state.isFinal else { return }
        try db.execute(sql: "UPDATE jobs SET state = ?, ended_at = ?, summary = ? WHERE id = ?",
                       arguments: [state.rawValue, at.unixSeconds, summary, id])
        // A proposal that never ran is in the audit log as its decision (or its expiry), not again as a job.
        guard job.state != .held else { return }
        try db.execute(sql: """
            INSERT INTO audit_log (at, actor, channel, action, customer_id, details, result) VALUES (?, ?, ?, ?, ?, ?, ?)
            """, arguments: [at.unixSeconds, job.requestedBy, job.channel, "job.\(state.rawValue)", job.store.rawValue,
                             try jsonText(["job": "\(id)", "playbook": job.playbook]), summary])
        let ran = job.steps.contains { $0.status != .skipped }
        if job.channel != "policy" && ran {
            let counts = Dictionary(grouping: job.steps, by: \.status.rawValue).mapValues { String($0.count) }
            try db.execute(sql: """
                INSERT INTO admin_interventions (customer_id, admin_user_id, playbook_name, executed_at, reason, result)
                VALUES (?, ?, ?, ?, ?, ?)
                """, arguments: [job.store.rawValue, job.requestedBy, job.playbook, at.unixSeconds,
                                 "\(job.reason) (job \(id))", try jsonText(counts.merging(["state": state.rawValue]) { $1 })])
        }
        if state == .succeeded, job.channel == "policy", let issue = job.issueID {
            try db.execute(sql: "UPDATE performance_issues SET auto_fixed = 1 WHERE id = ?", arguments: [issue])
        }
    }

    public func interruptRunningJobs(at: Date) async throws -> [JobRecord] {
        try await pool.write { db in
            let ids = try Int64.fetchAll(db, sql: "SELECT id FROM jobs WHERE state = 'running' ORDER BY id")
            var interrupted: [JobRecord] = []
            for id in ids {
                guard let job = try Self.job(db, id: id) else { continue }
                let done = job.steps.filter { $0.status != .skipped }.count
                try Self.finishJob(db, id, state: .interrupted,
                                   summary: "interrupted after \(done) of \(job.plan.count) steps", at: at)
                if let finished = try Self.job(db, id: id) { interrupted.append(finished) }
            }
            return interrupted
        }
    }

    public func storesWithQueuedJobs() async throws -> [StoreID] {
        try await pool.read { db in
            try String.fetchAll(db, sql: "SELECT DISTINCT customer_id FROM jobs WHERE state = 'queued' ORDER BY customer_id")
                .compactMap(StoreID.init)
        }
    }

    public func job(_ id: Int64) async throws -> JobRecord? {
        try await pool.read { db in try Self.job(db, id: id) }
    }

    public func jobs(store: StoreID?, limit: Int) async throws -> [JobRecord] {
        try await pool.read { db in
            let filter = store == nil ? "" : "AND customer_id = ?"
            var arguments: StatementArguments = []
            if let store { arguments += [store.rawValue] }
            arguments += [limit]
            let ids = try Int64.fetchAll(db, sql: """
                SELECT id FROM jobs WHERE \(Self.actedOn) \(filter)
                ORDER BY CASE state WHEN 'running' THEN 0 WHEN 'queued' THEN 1 ELSE 2 END, id DESC LIMIT ?
                """, arguments: arguments)
            return try ids.compactMap { try Self.job(db, id: $0) }
        }
    }

    public func cancelJob(_ id: Int64, by: String, at: Date) async throws -> Bool {
        try await pool.write { db in
            guard let job = try Self.job(db, id: id), [.queued, .held, .approved].contains(job.state) else { return false }
            try Self.finishJob(db, id, state: .cancelled, summary: "cancelled by \(by) before it started", at: at)
            if let approval = job.approvalID {
                try db.execute(sql: "UPDATE approvals SET status = 'cancelled' WHERE id = ? AND status = 'pending'",
                               arguments: [approval])
            }
            return true
        }
    }

    public func jobCounts() async throws -> [JobState: Int] {
        try await pool.read { db in
            var counts: [JobState: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT state, COUNT(*) FROM jobs GROUP BY state") {
                if let state = JobState(rawValue: row[0]) { counts[state] = row[1] }
            }
            return counts
        }
    }

    /// Ends the held job of a closed proposal (`expired`, or `cancelled` when withdrawn or rejected), inside
    /// the caller's transaction.
    static func endHeldJob(_ db: Database, approval: String, state: JobState, summary: String, at: Date) throws {
        guard let id = try Int64.fetchOne(db, sql: "SELECT job_id FROM approvals WHERE id = ?", arguments: [approval])
        else { return }
        try finishJob(db, id, state: state, summary: summary, at: at)
    }
}

extension SQLiteStore {
    public func report(since: Date) async throws -> OperationsReport { try await report(since: since, store: nil) }

    /// The report's figures since `since`, of `store` or of all stores.
    public func report(since: Date, store: StoreID?) async throws -> OperationsReport {
        try await pool.read { db in
            var report = OperationsReport()
            let from = since.unixSeconds
            // Every query below filters by store when one is given (`?2` is the store or NULL).
            let mine = "(?2 IS NULL OR customer_id = ?2)"
            let arguments: StatementArguments = [from, store?.rawValue]
            report.issuesOpened = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM performance_issues WHERE detected_at >= ?1 AND \(mine)",
                                                   arguments: arguments) ?? 0
            let resolved = try Row.fetchAll(db, sql: """
                SELECT resolved_at - detected_at, auto_fixed FROM performance_issues
                WHERE resolved_at IS NOT NULL AND resolved_at >= ?1 AND \(mine)
                """, arguments: arguments)
            report.issuesResolved = resolved.count
            report.autoFixed = resolved.filter { ($0[1] as Int64) != 0 }.count
            report.medianResolveSeconds = Self.median(resolved.map { Double($0[0] as Int64) })
            report.medianDetectSeconds = Self.median(try Int64.fetchAll(db, sql: """
                SELECT detected_at - onset_at FROM performance_issues WHERE detected_at >= ?1 AND onset_at IS NOT NULL AND \(mine)
                """, arguments: arguments).map(Double.init))
            for row in try Row.fetchAll(db, sql: "SELECT status, COUNT(*) FROM approvals WHERE created_at >= ?1 AND \(mine) GROUP BY status",
                                        arguments: arguments) {
                report.proposals[row[0]] = row[1]
            }
            for row in try Row.fetchAll(db, sql: "SELECT state, COUNT(*) FROM jobs WHERE created_at >= ?1 AND \(mine) AND \(Self.actedOn) GROUP BY state",
                                        arguments: arguments) {
                report.jobs[row[0]] = row[1]
            }
            report.topStores = try Row.fetchAll(db, sql: """
                SELECT customer_id, COUNT(*) AS n FROM performance_issues WHERE detected_at >= ?1 AND \(mine)
                GROUP BY customer_id ORDER BY n DESC, customer_id LIMIT 5
                """, arguments: arguments).map { ($0[0], $0[1]) }
            return report
        }
    }

    public static func median(_ values: [Double]) -> Double? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }
}

extension SQLiteStore: CustomerStore {
    public func feed(of store: StoreID, limit: Int) async throws -> [FeedEntry] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT at, kind, title, body FROM insights WHERE customer_id = ? ORDER BY at DESC, id DESC LIMIT ?",
                             arguments: [store.rawValue, limit]).map {
                FeedEntry(at: Date(unixSeconds: $0[0]), kind: $0[1], title: $0[2], body: $0[3])
            }
        }
    }

    /// Stores `draft`; a request without an issue behind it (asked for by a person) that matches a pending one of the
    /// same store (same playbook, same steps) collapses into it: replayed requests mail nothing more.
    @discardableResult
    public func propose(_ draft: ApprovalDraft, at: Date) async throws -> ProposalOutcome {
        try await pool.write { db in
            let wanted = draft.approval
            if wanted.issueID == nil,
               let same = try Self.approval(db, sql: """
                   WHERE customer_id = ? AND playbook_name = ? AND steps = ? AND issue_id IS NULL AND status = 'pending'
                   AND expires_at > ? ORDER BY created_at DESC LIMIT 1
                   """, wanted.store.rawValue, wanted.playbook, try jsonText(wanted.steps), at.unixSeconds) {
                return .alreadyWaiting(same)
            }
            try Self.insert(db, draft, issueID: nil, at: at)
            return .proposed
        }
    }

    public func setWeeklyReport(_ store: StoreID, enabled: Bool, at: Date) async throws {
        try await pool.write { db in
            if enabled {
                try db.execute(sql: "DELETE FROM report_opt_outs WHERE customer_id = ?", arguments: [store.rawValue])
            } else {
                try db.execute(sql: "INSERT OR REPLACE INTO report_opt_outs (customer_id, at) VALUES (?, ?)",
                               arguments: [store.rawValue, at.unixSeconds])
            }
        }
    }

    public func weeklyReport(of store: StoreID) async throws -> Bool {
        try await pool.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM report_opt_outs WHERE customer_id = ?", arguments: [store.rawValue]) == 0
        }
    }

    public func shownRecommendations(of store: StoreID) async throws -> [String: String] {
        try await pool.read { db in
            var shown: [String: String] = [:]
            for row in try Row.fetchAll(db, sql: """
                SELECT title, body FROM insights WHERE customer_id = ? AND kind = 'recommendation' ORDER BY id
                """, arguments: [store.rawValue]) {
                shown[row[0]] = row[1]
            }
            return shown
        }
    }

    public func shownRecommendations(of stores: [StoreID]) async throws -> [StoreID: [String: String]] {
        try await pool.read { db in
            var shown: [StoreID: [String: String]] = [:]
            // Many stores (a whole fleet): every row is read and kept for the stores asked, far under SQLite's limit
            // of variables in one statement.
            let wanted = Set(stores)
            let (filter, arguments) = stores.count > 500 ? ("", []) : Self.storeFilter(stores)
            for row in try Row.fetchAll(db, sql: """
                SELECT customer_id, title, body FROM insights WHERE kind = 'recommendation' \(filter) ORDER BY id
                """, arguments: arguments) {
                if let id = StoreID(row[0] as String), wanted.contains(id) { shown[id, default: [:]][row[1]] = row[2] }
            }
            return shown
        }
    }

    public func scores(of store: StoreID, since: Date) async throws -> [(at: Date, score: Int)] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: """
                SELECT timestamp, health_score FROM performance_snapshots WHERE customer_id = ? AND timestamp >= ? ORDER BY timestamp
                """, arguments: [store.rawValue, since.unixSeconds]).map { (Date(unixSeconds: $0[0]), $0[1]) }
        }
    }
}

/// A `jobs` row as either engine reads it (`SQLiteStore.jobColumns`, in that order), and the job it holds: one
/// reading of its JSON columns and states for both engines.
public struct JobRow: Sendable {
    public var id: Int64, store: String, playbook: String, requestedBy: String, channel: String, issueID: Int64?, approvalID: String?
    public var plan: String, planHash: String, state: String, reason: String, createdAt: Int64, startedAt: Int64?, endedAt: Int64?
    public var summary: String?, kind: String?, notBefore: Int64?

    public init(id: Int64, store: String, playbook: String, requestedBy: String, channel: String, issueID: Int64?, approvalID: String?,
                plan: String, planHash: String, state: String, reason: String, createdAt: Int64, startedAt: Int64?, endedAt: Int64?,
                summary: String?, kind: String?, notBefore: Int64? = nil) {
        (self.id, self.store, self.playbook, self.requestedBy, self.channel, self.issueID, self.approvalID) =
            (id, store, playbook, requestedBy, channel, issueID, approvalID)
        (self.plan, self.planHash, self.state, self.reason, self.createdAt, self.startedAt, self.endedAt) =
            (plan, planHash, state, reason, createdAt, startedAt, endedAt)
        (self.summary, self.kind, self.notBefore) = (summary, kind, notBefore)
    }

    /// The columns, in the order the initialiser takes them.
    public static let columns = SQLiteStore.jobColumns

    /// The job without its steps, or nil when the row names no valid store or state.
    public var record: JobRecord? {
        guard let store = StoreID(store), let state = JobState(rawValue: state) else { return nil }
        return JobRecord(id: id, store: store, playbook: playbook, requestedBy: requestedBy, channel: channel, issueID: issueID,
                         approvalID: approvalID,
                         plan: (try? JSONDecoder().decode([PlannedStep].self, from: Data(plan.utf8))) ?? [],
                         planHash: planHash, state: state, reason: reason, createdAt: Date(unixSeconds: createdAt),
                         startedAt: startedAt.map(Date.init(unixSeconds:)), endedAt: endedAt.map(Date.init(unixSeconds:)),
                         summary: summary, steps: [],
                         kind: kind.flatMap { try? JSONDecoder().decode(JobKind.self, from: Data($0.utf8)) },
                         notBefore: notBefore.map(Date.init(unixSeconds:)))
    }

    /// A step's state this version does not know reads as failed: never as done.
    public static func step(index: Int, name: String, status: String, reason: String?, startedAt: Int64, durationMs: Int64) -> JobStepRecord {
        JobStepRecord(index: index, name: name, status: StepState(rawValue: status) ?? .failed, reason: reason,
                      startedAt: Date(unixSeconds: startedAt), duration: TimeInterval(durationMs) / 1000)
    }
}
