import BotCore
import Foundation
import GRDB

extension SQLiteStore {
    /// Records a store-scoped metrics token by its SHA-256 (lowercase hex); the token itself is never stored.
    public func issueStoreToken(digest: String, store: StoreID, at: Date) async throws {
        try await pool.write { db in
            try db.execute(sql: "INSERT INTO store_tokens (digest, customer_id, issued_at) VALUES (?, ?, ?)",
                           arguments: [digest, store.rawValue, at.unixSeconds])
        }
    }

    /// The store a live token (given by its SHA-256) speaks for; nil when unknown or revoked.
    public func storeForToken(digest: String) async throws -> StoreID? {
        try await pool.read { db in
            try String.fetchOne(db, sql: "SELECT customer_id FROM store_tokens WHERE digest = ? AND revoked_at IS NULL",
                                arguments: [digest]).flatMap(StoreID.init)
        }
    }

    /// Revokes every live token of `store`; returns how many.
    public func revokeStoreTokens(store: StoreID, at: Date) async throws -> Int {
        try await pool.write { db in
            try db.execute(sql: "UPDATE store_tokens SET revoked_at = ? WHERE customer_id = ? AND revoked_at IS NULL",
                           arguments: [at.unixSeconds, store.rawValue])
            return db.changesCount
        }
    }
}
