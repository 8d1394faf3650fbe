import BotCore
import Foundation
import GRDB

extension SQLiteStore: FactorStore {
    public func factor(of user: SlackUserID) async throws -> FactorRecord? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT secret, last_step, verified_until FROM admin_factors WHERE slack_user = ?",
                             arguments: [user.rawValue]).map {
                FactorRecord(user: user, secret: $0[0], lastStep: $0[1], verifiedUntil: ($0[2] as Int64?).map(Date.init(unixSeconds:)))
            }
        }
    }

    public func enrollFactor(_ user: SlackUserID, secret: String, at: Date) async throws {
        try await pool.write { db in
            try db.execute(sql: """
                INSERT INTO admin_factors (slack_user, secret, enrolled_at) VALUES (?, ?, ?)
                ON CONFLICT (slack_user) DO UPDATE SET secret = excluded.secret, enrolled_at = excluded.enrolled_at,
                    last_step = -1, verified_until = NULL
                """, arguments: [user.rawValue, secret, at.unixSeconds])
        }
    }

    public func useFactorStep(_ user: SlackUserID, step: Int64, verifiedUntil: Date) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: """
                UPDATE admin_factors SET last_step = ?, verified_until = ? WHERE slack_user = ? AND last_step < ?
                """, arguments: [step, verifiedUntil.unixSeconds, user.rawValue, step])
            return db.changesCount == 1
        }
    }
}
