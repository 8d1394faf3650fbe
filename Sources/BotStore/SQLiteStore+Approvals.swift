import BotCore
import Foundation
import GRDB

extension SQLiteStore {
    /// Stores an approval inside the caller's transaction.
    static func insert(_ db: Database, _ approval: Approval, tokenHash: String) throws {
        try db.execute(sql: """
            INSERT INTO approvals (id, customer_id, issue_id, playbook_name, steps, token_hash, created_at, expires_at, status, kind)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?)
            """, arguments: [approval.id, approval.store.rawValue, approval.issueID, approval.playbook,
                             try jsonText(approval.steps), tokenHash, approval.createdAt.unixSeconds,
                             approval.expiresAt.unixSeconds, try jsonText(approval.kind)])
    }

    /// Stores an approval with its held job (the plan it shows), inside the caller's transaction.
    static func insert(_ db: Database, _ draft: ApprovalDraft, issueID: Int64?, at: Date) throws {
        var approval = draft.approval
        approval.issueID = issueID ?? approval.issueID
        try insert(db, approval, tokenHash: draft.tokenHash)
        if var job = draft.job {
            job.issueID = approval.issueID
            job.approvalID = approval.id
            job.state = .held
            let id = try insertJob(db, job, at: at)
            try db.execute(sql: "UPDATE approvals SET job_id = ? WHERE id = ?", arguments: [id, approval.id])
        }
        if let proposal = draft.proposal {
            try enqueue(db, .mail(proposal), at: at)
        }
    }

    /// Replaces a pending proposal whose plan no longer holds (its playbook changed) by a new one: the old
    /// one and its job are cancelled, the new one is stored with its job, e-mail and note, in one transaction.
    public func supersede(_ old: String, with draft: ApprovalDraft, alert: Addressed?, thread: ThreadKey?, at: Date) async throws {
        try await pool.write { db in
            try db.execute(sql: "UPDATE approvals SET status = 'cancelled' WHERE id = ? AND status = 'pending'", arguments: [old])
            try Self.endHeldJob(db, approval: old, state: .cancelled, summary: "the playbook changed after it was proposed", at: at)
            try Self.insert(db, draft, issueID: nil, at: at)
            if let alert {
                try Self.enqueue(db, alert, thread: thread, at: at)
            }
        }
    }

    /// Stores an approval on its own.
    public func createApproval(_ approval: Approval, tokenHash: String) async throws {
        try await pool.write { db in try Self.insert(db, approval, tokenHash: tokenHash) }
    }

    /// The approval `id`.
    public func approval(id: String) async throws -> Approval? {
        try await pool.read { db in try Self.approval(db, sql: "WHERE id = ?", id) }
    }

    /// The approval whose token hashes to `tokenHash`.
    public func approval(tokenHash: String) async throws -> Approval? {
        try await pool.read { db in try Self.approval(db, sql: "WHERE token_hash = ?", tokenHash) }
    }

    static func approval(_ db: Database, sql filter: String, _ values: (any DatabaseValueConvertible)...) throws -> Approval? {
        guard let row = try Row.fetchOne(db, sql: """
            SELECT id, customer_id, issue_id, playbook_name, steps, created_at, expires_at, status, decided_at,
                   decided_by, channel, job_id, kind FROM approvals \(filter)
            """, arguments: StatementArguments(values)), let store = StoreID(row[1]) else { return nil }
        let steps: String = row[4]
        let decided: Int64? = row[8]
        let channel: String? = row[10]
        let kind: String? = row[12]
        return Approval(id: row[0], store: store, issueID: row[2], playbook: row[3],
                        steps: (try? JSONDecoder().decode([String].self, from: Data(steps.utf8))) ?? [],
                        createdAt: Date(unixSeconds: row[5]), expiresAt: Date(unixSeconds: row[6]),
                        status: ApprovalStatus(rawValue: row[7]) ?? .pending, decidedAt: decided.map(Date.init(unixSeconds:)),
                        decidedBy: row[9], channel: channel.flatMap(ApprovalChannel.init(rawValue:)), jobID: row[11],
                        kind: kind.flatMap { try? JSONDecoder().decode(JobKind.self, from: Data($0.utf8)) })
    }

    public func approvals(store: StoreID?, since: Date, limit: Int) async throws -> [Approval] {
        try await pool.read { db in
            let filter = store == nil ? "" : "AND customer_id = ?"
            var arguments: StatementArguments = [since.unixSeconds]
            if let store { arguments += [store.rawValue] }
            arguments += [limit]
            let ids = try String.fetchAll(db, sql: """
                SELECT id FROM approvals WHERE (status = 'pending' OR created_at >= ?) \(filter)
                ORDER BY created_at DESC, id LIMIT ?
                """, arguments: arguments)
            return try ids.compactMap { try Self.approval(db, sql: "WHERE id = ?", $0) }
        }
    }

    public func lapsedApprovals(at: Date) async throws -> [(approval: Approval, status: ApprovalStatus)] {
        try await pool.read { db in
            let expired = try String.fetchAll(db, sql: """
                SELECT id FROM approvals WHERE status = 'pending' AND expires_at <= ? ORDER BY expires_at
                """, arguments: [at.unixSeconds])
            let resolved = try String.fetchAll(db, sql: """
                SELECT a.id FROM approvals a JOIN performance_issues i ON i.id = a.issue_id
                WHERE a.status = 'pending' AND a.expires_at > ? AND i.resolved_at IS NOT NULL ORDER BY a.created_at
                """, arguments: [at.unixSeconds])
            return try (expired.map { ($0, ApprovalStatus.expired) } + resolved.map { ($0, ApprovalStatus.cancelled) })
                .compactMap { id, status in try Self.approval(db, sql: "WHERE id = ?", id).map { ($0, status) } }
        }
    }

    public func close(_ closings: [ApprovalClosing], at: Date) async throws -> [String] {
        try await pool.write { db in
            var closed: [String] = []
            for closing in closings {
                try db.execute(sql: "UPDATE approvals SET status = ? WHERE id = ? AND status = 'pending'",
                               arguments: [closing.status.rawValue, closing.id])
                guard db.changesCount > 0 else { continue }
                closed.append(closing.id)
                try Self.endHeldJob(db, approval: closing.id, state: closing.status == .expired ? .expired : .cancelled,
                                    summary: closing.status == .expired ? "the proposal expired without an answer"
                                        : "withdrawn: the issue resolved itself", at: at)
                if let mail = closing.mail {
                    try Self.enqueue(db, .mail(mail), at: at)
                }
                if let alert = closing.alert {
                    try Self.enqueue(db, alert, thread: closing.thread, at: at)
                    if let outcome = closing.outcome, closing.thread != nil {
                        try Self.enqueue(db, Addressed(destination: alert.destination, message: .alertOutcome(outcome)),
                                         thread: closing.thread, at: at)
                    }
                }
            }
            return closed
        }
    }

    public func decideApproval(_ id: String, approve: Bool, by: String, channel: ApprovalChannel, at: Date) async throws -> ApprovalResult {
        try await pool.write { db in
            guard var approval = try Self.approval(db, sql: "WHERE id = ?", id) else { return .unknown }
            switch approval.status {
            case .pending: break
            case .expired: return .expired(approval)
            case .cancelled: return .issueResolved(approval)
            case .approved, .rejected: return .alreadyDecided(approval)
            }
            func close(_ status: ApprovalStatus) throws {
                try db.execute(sql: "UPDATE approvals SET status = ? WHERE id = ? AND status = 'pending'",
                               arguments: [status.rawValue, id])
                try Self.endHeldJob(db, approval: id, state: status == .expired ? .expired : .cancelled,
                                    summary: status == .expired ? "the proposal expired without an answer"
                                        : "withdrawn: the issue resolved itself", at: at)
                approval.status = status
            }
            if approval.expiresAt <= at {
                try close(.expired)
                return .expired(approval)
            }
            if let issue = approval.issueID,
               try Int64.fetchOne(db, sql: "SELECT resolved_at FROM performance_issues WHERE id = ?", arguments: [issue]) != nil {
                try close(.cancelled)
                return .issueResolved(approval)
            }
            let status: ApprovalStatus = approve ? .approved : .rejected
            try db.execute(sql: """
                UPDATE approvals SET status = ?, decided_at = ?, decided_by = ?, channel = ? WHERE id = ? AND status = 'pending'
                """, arguments: [status.rawValue, at.unixSeconds, by, channel.rawValue, id])
            try db.execute(sql: """
                INSERT INTO audit_log (at, actor, channel, action, customer_id, details, result) VALUES (?, ?, ?, ?, ?, ?, ?)
                """, arguments: [at.unixSeconds, by, channel.rawValue, "approval.decide", approval.store.rawValue,
                                 try jsonText(["approval": id, "playbook": approval.playbook]), status.rawValue])
            if let job = approval.jobID {
                if approve {
                    // Approved and queued in one step: a crash after this still runs the fix at the next start.
                    try db.execute(sql: "UPDATE jobs SET state = 'queued', approved_at = ?, requested_by = ?, channel = ? WHERE id = ? AND state = 'held'",
                                   // Decided on the status page, the job's result still goes to the contact by e-mail.
                                   arguments: [at.unixSeconds, by, channel == .statusPage ? "email" : channel.rawValue, job])
                } else {
                    try Self.finishJob(db, job, state: .cancelled, summary: "rejected by \(by)", at: at)
                }
            }
            approval.status = status
            approval.decidedAt = at
            approval.decidedBy = by
            approval.channel = channel
            return .decided(approval)
        }
    }
}
