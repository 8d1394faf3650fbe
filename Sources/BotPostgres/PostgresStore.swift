import BotCore
import BotStore
import Foundation
import Logging
import PostgresNIO

/// perfbot's tables in PostgreSQL, shared by every replica. Rows that one replica must handle alone (outbox
/// messages) are claimed row by row with `FOR UPDATE SKIP LOCKED`, under a claim that lapses if the replica dies.
public final class PostgresStore: Sendable {
    public let database: PostgresPool
    /// This replica, as claims name it.
    public let replica: String
    /// How long a claimed message stays with its replica before another may take it (a replica that died).
    let claim: Duration
    /// The metrics the core and the packs declare: a stored name outside it is skipped when read.
    let metrics: MetricCatalogue
    /// Pushed samples this replica acknowledged and not yet filed (see `SampleInbox`).
    let inbox = SampleInbox()
    let customerCache = CustomerCache()
    /// Answers of pushes not yet written to their delivery records (see `PendingAnswers`).
    let answers = PendingAnswers()
    /// The journal's rows the leader read and has not deleted yet (see `journal(after:limit:)`).
    let readJournal: ReadJournal

    public init(database: PostgresPool, replica: String, claim: Duration = .seconds(120), metrics: MetricCatalogue = .core) {
        self.database = database
        readJournal = ReadJournal { seqs in try await Self.deleteJournal(seqs, database) }
        self.replica = replica
        self.claim = claim
        self.metrics = metrics
    }

    var claimSeconds: Double {
        claim.timeInterval
    }
}

extension PostgresStore: OutboxStore {
    @discardableResult
    public func enqueue(_ message: Addressed, at: Date) async throws -> Int64 {
        try await insert(message, thread: nil, at: at)
    }

    public func enqueue(_ message: Addressed, thread: ThreadKey, at: Date) async throws {
        try await insert(message, thread: thread, at: at)
    }

    private func insert(_ message: Addressed, thread: ThreadKey?, at: Date) async throws -> Int64 {
        try await database.transaction { try await Self.enqueue($0, message, thread: thread, at: at, logger: database.logger) }
    }

    /// Queues a message inside the caller's transaction, due at once. - Returns: its id.
    static func enqueue(_ connection: PostgresConnection, _ message: Addressed, thread: ThreadKey?, at: Date,
                        logger: Logger) async throws -> Int64 {
        let payload = try message.message.stored()
        let rows = try await connection.rows("""
            INSERT INTO outbox (channel, destination, payload, thread_key, created_at, next_attempt_at)
            VALUES (\(message.channel.rawValue), \(message.destination), \(payload), \(thread?.rawValue), \(at.unixSeconds), \(at.unixSeconds))
            RETURNING id
            """, logger: logger)
        guard let id = try rows.first?.decode(Int64.self) else { throw PostgresStoreError("the outbox returned no id") }
        return id
    }

    /// Claims the due messages for this replica: a message another replica holds is skipped, not waited for.
    /// A claim lapses at its end, or sooner when its replica stopped heartbeating (killed with messages in hand):
    /// the others then send them within a lease, not after the whole claim. A claimer that never heartbeat keeps
    /// its claim to the end.
    public func dueMessages(now: Date, limit: Int) async throws -> [OutboxMessage] {
        let rows = try await database.rows("""
            UPDATE outbox SET claimed_by = \(replica), claimed_until = now() + make_interval(secs => \(claimSeconds))
            WHERE id IN (
                SELECT id FROM outbox
                WHERE status = 'pending' AND next_attempt_at <= \(now.unixSeconds)
                    AND (claimed_until IS NULL OR claimed_until < now() OR EXISTS (
                        SELECT 1 FROM perfbot_replicas r WHERE r.identity = outbox.claimed_by AND r.seen_until <= now()))
                ORDER BY id LIMIT \(limit) FOR UPDATE SKIP LOCKED)
            RETURNING id, channel, destination, payload, attempts, thread_key
            """)
        var due: [OutboxMessage] = []
        for row in rows {
            let (id, channel, destination, payload, attempts, thread) = try row.decode(
                (Int64, String, String, String, Int, String?).self)
            guard let channel = OutboxMessage.Channel(rawValue: channel), let message = try? Outbound(stored: payload) else {
                try await markAttempt(id, error: "the stored message is unreadable", nextAttempt: nil)
                continue
            }
            due.append(OutboxMessage(id: id, channel: channel, destination: destination, message: message, attempts: attempts,
                                     thread: thread.map(ThreadKey.init(rawValue:))))
        }
        return due.sorted { $0.id < $1.id }
    }

    /// Renews this replica's claim for the send about to start; false when another replica holds the message now.
    public func keepClaim(_ id: Int64) async throws -> Bool {
        let kept = try await database.rows("""
            UPDATE outbox SET claimed_until = now() + make_interval(secs => \(claimSeconds))
            WHERE id = \(id) AND claimed_by = \(replica) AND status = 'pending'
            RETURNING id
            """)
        return !kept.isEmpty
    }

    public func markSent(_ id: Int64, at: Date) async throws {
        // A sent proposal keeps no reply address: its token then lives only as the approval's hash.
        try await database.execute("""
            UPDATE outbox SET status = 'sent', sent_at = \(at.unixSeconds), attempts = attempts + 1, sent_by = \(replica),
                claimed_by = NULL, claimed_until = NULL,
                payload = CASE WHEN channel = 'email' THEN (payload::jsonb #- '{mail,replyTo}')::text ELSE payload END
            WHERE id = \(id)
            """)
    }

    public func markAttempt(_ id: Int64, error: String, nextAttempt: Date?) async throws {
        let status = nextAttempt == nil ? "failed" : "pending"
        try await database.execute("""
            UPDATE outbox SET attempts = attempts + 1, last_error = \(String(error.prefix(500))), status = \(status),
                next_attempt_at = COALESCE(\(nextAttempt?.unixSeconds), next_attempt_at), claimed_by = NULL, claimed_until = NULL,
                payload = CASE WHEN \(status) = 'failed' AND channel = 'email' THEN (payload::jsonb #- '{mail,replyTo}')::text
                               ELSE payload END
            WHERE id = \(id)
            """)
    }

    public func postpone(_ id: Int64, until: Date) async throws {
        try await database.execute("""
            UPDATE outbox SET next_attempt_at = \(until.unixSeconds), claimed_by = NULL, claimed_until = NULL WHERE id = \(id)
            """)
    }

    public func wait(_ id: Int64, reason: String, until: Date) async throws {
        try await database.execute("""
            UPDATE outbox SET next_attempt_at = \(until.unixSeconds), last_error = \("waiting: \(reason)"),
                claimed_by = NULL, claimed_until = NULL
            WHERE id = \(id)
            """)
    }

    public func threadHeadFailed(_ thread: ThreadKey) async throws -> Bool {
        try await database.rows("SELECT status FROM outbox WHERE thread_key = \(thread.rawValue) ORDER BY id LIMIT 1")
            .first.map { try $0.decode(String.self) } == "failed"
    }

    public func threadTS(_ thread: ThreadKey) async throws -> String? {
        try await database.rows("SELECT ts FROM slack_threads WHERE thread_key = \(thread.rawValue)")
            .first.map { try $0.decode(String.self) }
    }

    public func threadStarter(_ thread: ThreadKey) async throws -> Int64? {
        try await database.rows("SELECT MIN(id) FROM outbox WHERE thread_key = \(thread.rawValue)")
            .first.flatMap { try $0.decode(Int64?.self) }
    }

    public func rememberThread(_ thread: ThreadKey, channel: String, ts: String) async throws {
        try await database.execute("""
            INSERT INTO slack_threads (thread_key, channel, ts) VALUES (\(thread.rawValue), \(channel), \(ts))
            ON CONFLICT (thread_key) DO NOTHING
            """)
    }

    public func threadStarterMessage(_ thread: ThreadKey) async throws -> Outbound? {
        try await database.rows("SELECT payload FROM outbox WHERE thread_key = \(thread.rawValue) ORDER BY id LIMIT 1")
            .first.flatMap { try? Outbound(stored: try $0.decode(String.self)) }
    }

    /// Every message with its status, attempts and the replica that sent it, oldest first (tests and the CLI).
    public func outboxEntries() async throws -> [(id: Int64, status: String, attempts: Int, sentBy: String?)] {
        try await database.rows("SELECT id, status, attempts, sent_by FROM outbox ORDER BY id").map {
            let (id, status, attempts, sentBy) = try $0.decode((Int64, String, Int, String?).self)
            return (id, status, attempts, sentBy)
        }
    }
}

/// A database answer perfbot cannot use.
public struct PostgresStoreError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
