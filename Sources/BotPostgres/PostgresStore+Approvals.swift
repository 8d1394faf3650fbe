import BotCore
import BotStore
import Foundation
import Logging
import PostgresNIO

/// Proposals and their decisions on PostgreSQL. A decision locks its approval row (`FOR UPDATE`), so two replicas
/// deciding one approval at once (a YES by mail and a click on the status page) decide it once.
extension PostgresStore: ApprovalStore, ProposalLapses {
    /// Stores `draft`; a person's request that matches a pending one of the same store (same playbook, same steps)
    /// collapses into it, so replayed requests mail nothing more.
    @discardableResult
    public func propose(_ draft: ApprovalDraft, at: Date) async throws -> ProposalOutcome {
        try await database.transaction { connection in
            let logger = database.logger
            let wanted = draft.approval
            if wanted.issueID == nil {
                // One proposal of a store at a time, so two replicas cannot both store the same request.
                _ = try await connection.rows("SELECT pg_advisory_xact_lock(hashtext(\(wanted.store.rawValue)))", logger: logger)
                if let same = try await Self.approvals(connection, where: """
                    customer_id = \(wanted.store.rawValue) AND playbook_name = \(wanted.playbook) AND steps = \(try jsonText(wanted.steps))
                    AND issue_id IS NULL AND status = 'pending' AND expires_at > \(at.unixSeconds) ORDER BY created_at DESC LIMIT 1
                    """, logger: logger).first {
                    return .alreadyWaiting(same)
                }
            }
            try await Self.insert(connection, draft, issueID: nil, at: at, logger: logger)
            return .proposed
        }
    }

    public func supersede(_ old: String, with draft: ApprovalDraft, alert: Addressed?, thread: ThreadKey?, at: Date) async throws {
        try await database.transaction { connection in
            let logger = database.logger
            _ = try await connection.rows("UPDATE approvals SET status = 'cancelled' WHERE id = \(old) AND status = 'pending'",
                                          logger: logger)
            try await Self.endHeldJob(connection, approval: old, state: .cancelled, summary: "the playbook changed after it was proposed",
                                      at: at, logger: logger)
            try await Self.insert(connection, draft, issueID: nil, at: at, logger: logger)
            if let alert { _ = try await Self.enqueue(connection, alert, thread: thread, at: at, logger: logger) }
        }
    }

    public func approval(id: String) async throws -> Approval? {
        try await database.transaction { try await Self.approvals($0, where: "id = \(id)", logger: database.logger).first }
    }

    public func approval(tokenHash: String) async throws -> Approval? {
        try await database.transaction { try await Self.approvals($0, where: "token_hash = \(tokenHash)", logger: database.logger).first }
    }

    public func approvals(store: StoreID?, since: Date, limit: Int) async throws -> [Approval] {
        try await database.transaction { connection in
            try await Self.approvals(connection, where: """
                (status = 'pending' OR created_at >= \(since.unixSeconds))
                AND (\(store?.rawValue)::text IS NULL OR customer_id = \(store?.rawValue))
                ORDER BY created_at DESC, id LIMIT \(limit)
                """, logger: database.logger)
        }
    }

    public func lapsedApprovals(at: Date) async throws -> [(approval: Approval, status: ApprovalStatus)] {
        try await database.transaction { connection in
            let logger = database.logger
            let expired = try await Self.approvals(connection, where: """
                status = 'pending' AND expires_at <= \(at.unixSeconds) ORDER BY expires_at
                """, logger: logger)
            let resolved = try await Self.approvals(connection, where: """
                status = 'pending' AND expires_at > \(at.unixSeconds)
                AND issue_id IN (SELECT id FROM performance_issues WHERE resolved_at IS NOT NULL) ORDER BY created_at
                """, logger: logger)
            return expired.map { ($0, ApprovalStatus.expired) } + resolved.map { ($0, ApprovalStatus.cancelled) }
        }
    }

    public func close(_ closings: [ApprovalClosing], at: Date) async throws -> [String] {
        try await database.transaction { connection in
            let logger = database.logger
            var closed: [String] = []
            for closing in closings {
                guard !(try await connection.rows("""
                    UPDATE approvals SET status = \(closing.status.rawValue) WHERE id = \(closing.id) AND status = 'pending' RETURNING id
                    """, logger: logger)).isEmpty else { continue }
                closed.append(closing.id)
                try await Self.endHeldJob(connection, approval: closing.id, state: closing.status == .expired ? .expired : .cancelled,
                                          summary: closing.status == .expired ? "the proposal expired without an answer"
                                              : "withdrawn: the issue resolved itself", at: at, logger: logger)
                if let mail = closing.mail { _ = try await Self.enqueue(connection, .mail(mail), thread: nil, at: at, logger: logger) }
                if let alert = closing.alert {
                    _ = try await Self.enqueue(connection, alert, thread: closing.thread, at: at, logger: logger)
                    if let outcome = closing.outcome, closing.thread != nil {
                        _ = try await Self.enqueue(connection, Addressed(destination: alert.destination, message: .alertOutcome(outcome)),
                                                   thread: closing.thread, at: at, logger: logger)
                    }
                }
            }
            return closed
        }
    }

    public func decideApproval(_ id: String, approve: Bool, by: String, channel: ApprovalChannel, at: Date) async throws -> ApprovalResult {
        try await database.transaction { connection in
            let logger = database.logger
            guard var approval = try await Self.approvals(connection, where: "id = \(id) FOR UPDATE", logger: logger).first else {
                return .unknown
            }
            switch approval.status {
            case .pending: break
            case .expired: return .expired(approval)
            case .cancelled: return .issueResolved(approval)
            case .approved, .rejected: return .alreadyDecided(approval)
            }
            func close(_ status: ApprovalStatus) async throws {
                _ = try await connection.rows("UPDATE approvals SET status = \(status.rawValue) WHERE id = \(id)", logger: logger)
                try await Self.endHeldJob(connection, approval: id, state: status == .expired ? .expired : .cancelled,
                                          summary: status == .expired ? "the proposal expired without an answer"
                                              : "withdrawn: the issue resolved itself", at: at, logger: logger)
                approval.status = status
            }
            if approval.expiresAt <= at {
                try await close(.expired)
                return .expired(approval)
            }
            if let issue = approval.issueID, try await connection.rows("""
                SELECT 1 FROM performance_issues WHERE id = \(issue) AND resolved_at IS NOT NULL
                """, logger: logger).first != nil {
                try await close(.cancelled)
                return .issueResolved(approval)
            }
            let status: ApprovalStatus = approve ? .approved : .rejected
            _ = try await connection.rows("""
                UPDATE approvals SET status = \(status.rawValue), decided_at = \(at.unixSeconds), decided_by = \(by),
                    channel = \(channel.rawValue)
                WHERE id = \(id)
                """, logger: logger)
            _ = try await connection.rows("""
                INSERT INTO audit_log (at, actor, channel, action, customer_id, details, result)
                VALUES (\(at.unixSeconds), \(by), \(channel.rawValue), 'approval.decide', \(approval.store.rawValue),
                        \(try jsonText(["approval": id, "playbook": approval.playbook])), \(status.rawValue))
                """, logger: logger)
            if let job = approval.jobID {
                if approve {
                    // Approved and queued in one step: a replica that dies after this leaves the fix to run by another.
                    _ = try await connection.rows("""
                        UPDATE jobs SET state = 'queued', approved_at = \(at.unixSeconds), requested_by = \(by),
                            channel = \(channel == .statusPage ? "email" : channel.rawValue)
                        WHERE id = \(job) AND state = 'held'
                        """, logger: logger)
                } else {
                    try await Self.finishJob(connection, job, state: .cancelled, summary: "rejected by \(by)", at: at, logger: logger)
                }
            }
            approval.status = status
            approval.decidedAt = at
            approval.decidedBy = by
            approval.channel = channel
            return .decided(approval)
        }
    }

    // MARK: - Inside a transaction

    static func approvals(_ connection: PostgresConnection, where condition: PostgresQuery, logger: Logger) async throws -> [Approval] {
        var query = PostgresQuery(unsafeSQL: """
            SELECT id, customer_id, issue_id, playbook_name, steps, created_at, expires_at, status, decided_at,
                   decided_by, channel, job_id, kind FROM approvals WHERE
            """)
        query.sql += " " + condition.sql
        query.binds = condition.binds
        return try await connection.rows(query, logger: logger).compactMap { row in
            var cells = row.makeIterator()
            func next<T: PostgresDecodable>(_: T.Type = T.self) throws -> T { try cells.next()!.decode(T.self) }
            let (id, name, issue, playbook, steps) = (try next(String.self), try next(String.self), try next(Int64?.self),
                                                      try next(String.self), try next(String.self))
            let (created, expires, status, decided) = (try next(Int64.self), try next(Int64.self), try next(String.self),
                                                       try next(Int64?.self))
            let (decidedBy, channel, job, kind) = (try next(String?.self), try next(String?.self), try next(Int64?.self),
                                                   try next(String?.self))
            guard let store = StoreID(name) else { return nil }
            return Approval(id: id, store: store, issueID: issue, playbook: playbook,
                            steps: (try? JSONDecoder().decode([String].self, from: Data(steps.utf8))) ?? [],
                            createdAt: Date(unixSeconds: created), expiresAt: Date(unixSeconds: expires),
                            status: ApprovalStatus(rawValue: status) ?? .pending, decidedAt: decided.map(Date.init(unixSeconds:)),
                            decidedBy: decidedBy, channel: channel.flatMap(ApprovalChannel.init(rawValue:)), jobID: job,
                            kind: kind.flatMap { try? JSONDecoder().decode(JobKind.self, from: Data($0.utf8)) })
        }
    }

    /// Stores an approval with its held job (the plan it shows) and its proposal mail.
    static func insert(_ connection: PostgresConnection, _ draft: ApprovalDraft, issueID: Int64?, at: Date, logger: Logger) async throws {
        var approval = draft.approval
        approval.issueID = issueID ?? approval.issueID
        _ = try await connection.rows("""
            INSERT INTO approvals (id, customer_id, issue_id, playbook_name, steps, token_hash, created_at, expires_at, status, kind)
            VALUES (\(approval.id), \(approval.store.rawValue), \(approval.issueID), \(approval.playbook), \(try jsonText(approval.steps)),
                    \(draft.tokenHash), \(approval.createdAt.unixSeconds), \(approval.expiresAt.unixSeconds), 'pending',
                    \(try jsonText(approval.kind)))
            """, logger: logger)
        if var job = draft.job {
            job.issueID = approval.issueID
            job.approvalID = approval.id
            job.state = .held
            let id = try await insertJob(connection, job, at: at, logger: logger)
            _ = try await connection.rows("UPDATE approvals SET job_id = \(id) WHERE id = \(approval.id)", logger: logger)
        }
        if let proposal = draft.proposal { _ = try await enqueue(connection, .mail(proposal), thread: nil, at: at, logger: logger) }
    }

    static func endHeldJob(_ connection: PostgresConnection, approval: String, state: JobState, summary: String, at: Date,
                           logger: Logger) async throws {
        guard let id = try await connection.rows("SELECT job_id FROM approvals WHERE id = \(approval)", logger: logger)
            .first?.decode(Int64?.self) else { return }
        try await finishJob(connection, id, state: state, summary: summary, at: at, logger: logger)
    }
}
