import BotCore
import Foundation
import GRDB

extension SQLiteStore: StatusLinkStore {
    /// Records a link before it is sent, so it can be checked and revoked.
    public func issueStatusLink(id: String, store: StoreID, contact: String, at: Date, expiresAt: Date) async throws {
        try await pool.write { db in
            try db.execute(sql: """
                INSERT INTO status_links (id, customer_id, contact, issued_at, expires_at) VALUES (?, ?, ?, ?, ?)
                """, arguments: [id, store.rawValue, contact.lowercased(), at.unixSeconds, expiresAt.unixSeconds])
        }
    }

    /// The link `id` of `store`, if it was issued (revoked or not).
    public func statusLink(id: String, store: StoreID) async throws -> IssuedLink? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: """
                SELECT id, contact, issued_at, expires_at, revoked_at FROM status_links WHERE id = ? AND customer_id = ?
                """, arguments: [id, store.rawValue]).map { row in
                IssuedLink(id: row[0], store: store, contact: row[1], issuedAt: Date(unixSeconds: row[2]),
                           expiresAt: Date(unixSeconds: row[3]), revokedAt: (row[4] as Int64?).map(Date.init(unixSeconds:)))
            }
        }
    }

    /// Revokes every live link of `store` (only those mailed to `contact`, when given); returns how many.
    public func revokeStatusLinks(store: StoreID, contact: String?, at: Date) async throws -> Int {
        try await pool.write { db in
            var sql = "UPDATE status_links SET revoked_at = ? WHERE customer_id = ? AND revoked_at IS NULL AND expires_at > ?"
            var arguments: StatementArguments = [at.unixSeconds, store.rawValue, at.unixSeconds]
            if let contact {
                sql += " AND contact = ?"
                arguments += [contact.lowercased()]
            }
            try db.execute(sql: sql, arguments: arguments)
            return db.changesCount
        }
    }
}

extension SQLiteStore: StatusPageStore {}
