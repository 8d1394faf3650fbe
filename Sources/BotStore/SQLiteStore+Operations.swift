import BotCore
import Foundation
import GRDB

extension SQLiteStore: OperationsStore {
    public func setAutomation(_ store: StoreID, level: AutomationLevel, exceptions: [String], at: Date) async throws {
        try await pool.write { db in
            try db.execute(sql: """
                UPDATE customers SET automation_level = ?, automation_exceptions = ?, updated_at = ? WHERE id = ?
                """, arguments: [level.rawValue, try jsonText(exceptions), at.unixSeconds, store.rawValue])
        }
    }

    /// Executed actions of `store`, newest first: (playbook, action, argv JSON, exit code, success).
    public func actions(of store: StoreID) async throws -> [(playbook: String, action: String, argv: String, exitCode: Int?, success: Bool)] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: """
                SELECT playbook_name, action_name, argv, exit_code, success FROM automation_actions
                WHERE customer_id = ? ORDER BY id
                """, arguments: [store.rawValue]).map { ($0[0], $0[1], $0[2], $0[3], $0[4]) }
        }
    }

    /// Audit entries, oldest first: (actor, action, store, result).
    public func auditEntries() async throws -> [(actor: String, action: String, store: String?, result: String?)] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT actor, action, customer_id, result FROM audit_log ORDER BY id")
                .map { ($0[0], $0[1], $0[2], $0[3]) }
        }
    }

    /// Interventions, oldest first: (store, admin, playbook).
    public func interventions() async throws -> [(store: String, admin: String, playbook: String)] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT customer_id, admin_user_id, playbook_name FROM admin_interventions ORDER BY id")
                .map { ($0[0], $0[1], $0[2]) }
        }
    }

    public func auditEntries(store: StoreID?, limit: Int) async throws -> [AuditEntry] {
        try await pool.read { db in
            let filter = store == nil ? "" : "WHERE customer_id = ?"
            var arguments: StatementArguments = store.map { [$0.rawValue] } ?? []
            arguments += [limit]
            return try Row.fetchAll(db, sql: """
                SELECT at, actor, channel, action, customer_id, result, details FROM audit_log \(filter)
                ORDER BY at DESC, id DESC LIMIT ?
                """, arguments: arguments).map { row in
                let details: String = row[6]
                let customer: String? = row[4]
                return AuditEntry(at: Date(unixSeconds: row[0]), actor: row[1], channel: row[2], action: row[3],
                                  store: customer.flatMap(StoreID.init), result: row[5],
                                  details: (try? JSONDecoder().decode([String: String].self, from: Data(details.utf8))) ?? [:])
            }
        }
    }
}
