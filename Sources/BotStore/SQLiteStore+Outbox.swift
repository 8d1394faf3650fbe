import BotCore
import Foundation
import GRDB

extension SQLiteStore: OutboxStore {
    @discardableResult
    public func enqueue(_ message: Addressed, at: Date) async throws -> Int64 {
        try await pool.write { db in
            try Self.enqueue(db, message, at: at)
            return db.lastInsertedRowID
        }
    }

    public func enqueue(_ message: Addressed, thread: ThreadKey, at: Date) async throws {
        try await pool.write { db in try Self.enqueue(db, message, thread: thread, at: at) }
    }

    public func dueMessages(now: Date, limit: Int) async throws -> [OutboxMessage] {
        let rows = try await pool.read { db in
            try Row.fetchAll(db, sql: """
                SELECT id, channel, destination, payload, attempts, thread_key FROM outbox
                WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY id LIMIT ?
                """, arguments: [now.unixSeconds, limit]).map { row -> (Int64, OutboxMessage?) in
                guard let channel = OutboxMessage.Channel(rawValue: row[1]),
                      let message = try? Outbound(stored: row[3]) else { return (row[0], nil) }
                return (row[0], OutboxMessage(id: row[0], channel: channel, destination: row[2], message: message,
                                              attempts: row[4], thread: row[5]))
            }
        }
        let due = rows.compactMap(\.1)
        for (id, message) in rows where message == nil {
            try await markAttempt(id, error: "the stored message is unreadable", nextAttempt: nil)
        }
        return due
    }

    /// One process sends this file's outbox: a message is its to send while it is pending.
    public func keepClaim(_ id: Int64) async throws -> Bool {
        try await pool.read { db in
            try Bool.fetchOne(db, sql: "SELECT status = 'pending' FROM outbox WHERE id = ?", arguments: [id]) ?? false
        }
    }

    public func markSent(_ id: Int64, at: Date) async throws {
        try await pool.write { db in
            // A sent proposal keeps no reply address: its token then lives only as the approval's hash.
            try db.execute(sql: """
                UPDATE outbox SET status = 'sent', sent_at = ?, attempts = attempts + 1,
                    payload = CASE WHEN channel = 'email' THEN json_remove(payload, '$.mail.replyTo') ELSE payload END
                WHERE id = ?
                """, arguments: [at.unixSeconds, id])
        }
    }

    public func markAttempt(_ id: Int64, error: String, nextAttempt: Date?) async throws {
        try await pool.write { db in
            try db.execute(sql: """
                UPDATE outbox SET attempts = attempts + 1, last_error = ?, status = ?, next_attempt_at = COALESCE(?, next_attempt_at),
                    -- A message given up keeps no reply address: its token is erased, not left in plain text.
                    payload = CASE WHEN ?3 IS NULL AND channel = 'email' THEN json_remove(payload, '$.mail.replyTo') ELSE payload END
                WHERE id = ?
                """, arguments: [String(error.prefix(500)), nextAttempt == nil ? "failed" : "pending",
                                 nextAttempt?.unixSeconds, id])
        }
    }

    public func wait(_ id: Int64, reason: String, until: Date) async throws {
        try await pool.write { db in
            try db.execute(sql: "UPDATE outbox SET next_attempt_at = ?, last_error = ? WHERE id = ?",
                           arguments: [until.unixSeconds, "waiting: \(reason)", id])
        }
    }

    public func threadHeadFailed(_ thread: ThreadKey) async throws -> Bool {
        try await pool.read { db in
            try String.fetchOne(db, sql: "SELECT status FROM outbox WHERE thread_key = ? ORDER BY id LIMIT 1",
                                arguments: [thread]) == "failed"
        }
    }

    public func postpone(_ id: Int64, until: Date) async throws {
        try await pool.write { db in
            try db.execute(sql: "UPDATE outbox SET next_attempt_at = ? WHERE id = ?", arguments: [until.unixSeconds, id])
        }
    }

    public func threadStarterMessage(_ thread: ThreadKey) async throws -> Outbound? {
        try await pool.read { db in
            try String.fetchOne(db, sql: "SELECT payload FROM outbox WHERE thread_key = ? ORDER BY id LIMIT 1", arguments: [thread])
        }.flatMap { try? Outbound(stored: $0) }
    }

    public func threadStarter(_ thread: ThreadKey) async throws -> Int64? {
        try await pool.read { db in
            try Int64.fetchOne(db, sql: "SELECT MIN(id) FROM outbox WHERE thread_key = ?", arguments: [thread])
        }
    }

    /// Messages waiting to be sent, per channel.
    public func outboxPending() async throws -> [String: Int] {
        try await pool.read { db in
            var counts: [String: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT channel, COUNT(*) FROM outbox WHERE status IN ('pending', 'sending') GROUP BY channel") {
                counts[row[0]] = row[1]
            }
            return counts
        }
    }

    /// Queues a message inside the caller's transaction, due at once.
    static func enqueue(_ db: Database, _ message: Addressed, thread: ThreadKey? = nil, at: Date) throws {
        try db.cachedStatement(sql: """
            INSERT INTO outbox (channel, destination, payload, thread_key, created_at, next_attempt_at)
            VALUES (?, ?, ?, ?, ?, ?)
            """).execute(arguments: [message.channel.rawValue, message.destination, try message.message.stored(), thread,
                                     at.unixSeconds, at.unixSeconds])
    }

    /// A message not yet sent.
    public struct PendingMessage: Sendable {
        public var id: Int64
        public var channel: String
        public var destination: String
        public var message: Outbound
        public var thread: ThreadKey?
    }

    /// Messages not yet sent, oldest first.
    public func pendingMessages(limit: Int = 100) async throws -> [PendingMessage] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: """
                SELECT id, channel, destination, payload, thread_key FROM outbox WHERE status IN ('pending', 'sending')
                ORDER BY id LIMIT ?
                """, arguments: [limit]).map {
                PendingMessage(id: $0[0], channel: $0[1], destination: $0[2], message: try Outbound(stored: $0[3]), thread: $0[4])
            }
        }
    }

    /// One queued message as `perfbot outbox` shows it.
    public struct OutboxListing: Sendable {
        public var id: Int64
        public var channel: String
        public var destination: String
        /// The message, or nil when it cannot be read.
        public var message: Outbound?
        public var status: String
        public var attempts: Int
        public var lastError: String?
        public var createdAt: Date
    }

    /// The newest `limit` messages not yet sent (or all, with `includeSent`), oldest of them first.
    public func outboxListing(includeSent: Bool, limit: Int) async throws -> [OutboxListing] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: """
                SELECT id, channel, destination, payload, status, attempts, last_error, created_at FROM outbox
                \(includeSent ? "" : "WHERE status != 'sent'") ORDER BY id DESC LIMIT ?
                """, arguments: [limit]).reversed().map {
                OutboxListing(id: $0[0], channel: $0[1], destination: $0[2], message: try? Outbound(stored: $0[3]), status: $0[4],
                              attempts: $0[5], lastError: $0[6], createdAt: Date(unixSeconds: $0[7]))
            }
        }
    }

    /// Every message with its status and attempts, oldest first (for tests and the CLI).
    public func outboxEntries() async throws -> [(id: Int64, status: String, attempts: Int, lastError: String?)] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT id, status, attempts, last_error FROM outbox ORDER BY id")
                .map { ($0[0], $0[1], $0[2], $0[3]) }
        }
    }

    /// Appends an entry to the audit log.
    public func audit(actor: String, channel: String, action: String, store: StoreID?,
                      details: [String: String], result: String?, at: Date) async throws {
        try await pool.write { db in
            try db.execute(sql: """
                INSERT INTO audit_log (at, actor, channel, action, customer_id, details, result)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """, arguments: [at.unixSeconds, actor, channel, action, store?.rawValue, try jsonText(details), result])
        }
    }
}

/// A thread key is stored as its text.
extension ThreadKey: DatabaseValueConvertible {
    public var databaseValue: DatabaseValue { rawValue.databaseValue }

    public static func fromDatabaseValue(_ dbValue: DatabaseValue) -> ThreadKey? {
        String.fromDatabaseValue(dbValue).map(ThreadKey.init(rawValue:))
    }
}
