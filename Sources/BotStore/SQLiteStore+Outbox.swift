import BotCore
import Foundation
import GRDB

extension SQLiteStore {
    /// Queues an outgoing message; the outbox service delivers it.
    /// - Parameters:
    ///   - channel: `slack`, `email` or `slack_response`.
    ///   - destination: a Slack channel id, an e-mail address, or a response URL.
    ///   - payload: the message body as JSON text.
    @discardableResult
    public func enqueueMessage(channel: String, destination: String, payload: String, threadKey: String? = nil,
                               at: Date) async throws -> Int64 {
        try await pool.write { db in
            try db.execute(sql: """
                INSERT INTO outbox (channel, destination, payload, thread_key, created_at, next_attempt_at)
                VALUES (?, ?, ?, ?, ?, ?)
                """, arguments: [channel, destination, payload, threadKey, at.unixSeconds, at.unixSeconds])
            return db.lastInsertedRowID
        }
    }

    /// Messages not yet sent: (id, channel, destination, payload), oldest first.
    public func pendingMessages(limit: Int = 100) async throws -> [(id: Int64, channel: String, destination: String, payload: String)] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: """
                SELECT id, channel, destination, payload FROM outbox WHERE status IN ('pending', 'sending')
                ORDER BY id LIMIT ?
                """, arguments: [limit]).map { ($0[0], $0[1], $0[2], $0[3]) }
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
