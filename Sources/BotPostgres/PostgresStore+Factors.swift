import BotCore
import Foundation
import PostgresNIO

extension PostgresStore: FactorStore {
    public func factor(of user: SlackUserID) async throws -> FactorRecord? {
        try await database.rows("""
            SELECT secret, last_step, verified_until FROM admin_factors WHERE slack_user = \(user.rawValue)
            """).first.map {
            let (secret, step, until) = try $0.decode((String, Int64, Int64?).self)
            return FactorRecord(user: user, secret: secret, lastStep: step, verifiedUntil: until.map(Date.init(unixSeconds:)))
        }
    }

    public func enrollFactor(_ user: SlackUserID, secret: String, at: Date) async throws {
        _ = try await database.rows("""
            INSERT INTO admin_factors (slack_user, secret, enrolled_at) VALUES (\(user.rawValue), \(secret), \(at.unixSeconds))
            ON CONFLICT (slack_user) DO UPDATE SET secret = EXCLUDED.secret, enrolled_at = EXCLUDED.enrolled_at,
                last_step = -1, verified_until = NULL
            """)
    }

    public func useFactorStep(_ user: SlackUserID, step: Int64, verifiedUntil: Date) async throws -> Bool {
        try await !database.rows("""
            UPDATE admin_factors SET last_step = \(step), verified_until = \(verifiedUntil.unixSeconds)
            WHERE slack_user = \(user.rawValue) AND last_step < \(step) RETURNING 1
            """).isEmpty
    }
}
