import BotCore
import Foundation
import GRDB

extension SQLiteStore: IssueReader {
    /// Opens an issue of `type` for `store`, unless one of that type is already open.
    /// - Returns: the id of the new issue, or nil when one was already open.
    @discardableResult
    public func openIssue(store: StoreID, type: String, severity: Severity, title: String,
                          details: [String: String] = [:], at: Date) async throws -> Int64? {
        try await openIssue(store: store, type: type, severity: severity, title: title, details: details,
                            source: "rule", at: at)
    }

    /// Opens an issue raised by `source` (`rule`, `alertmanager`, `grafana`) unless one of that type is open.
    @discardableResult
    public func openIssue(store: StoreID, type: String, severity: Severity, title: String,
                          details: [String: String], source: String, at: Date) async throws -> Int64? {
        try await pool.write { db in
            try db.execute(sql: """
                INSERT OR IGNORE INTO performance_issues
                    (customer_id, issue_type, severity, title, detected_at, last_seen_at, details, source)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [store.rawValue, type, severity.rawValue, title, at.unixSeconds, at.unixSeconds,
                                 try jsonText(details), source])
            return db.changesCount > 0 ? db.lastInsertedRowID : nil
        }
    }

    public func openIssues(store: StoreID?) async throws -> [IssueSummary] {
        try await pool.read { db in try Self.openIssues(db, store: store) }
    }

    static func openIssues(_ db: Database, store: StoreID?) throws -> [IssueSummary] {
        let filter = store == nil ? "" : "AND customer_id = ?"
        let arguments: StatementArguments = store.map { [$0.rawValue] } ?? []
        return try Row.fetchAll(db.cachedStatement(sql: """
            SELECT id, customer_id, issue_type, severity, detected_at, title FROM performance_issues
            WHERE resolved_at IS NULL \(filter)
            ORDER BY CASE severity WHEN 'critical' THEN 0 WHEN 'warning' THEN 1 ELSE 2 END, detected_at DESC
            """), arguments: arguments).compactMap { row in
            guard let store = StoreID(row[1]), let severity = Severity(rawValue: row[3]) else { return nil }
            return IssueSummary(id: row[0], store: store, type: row[2], severity: severity,
                                detectedAt: Date(unixSeconds: row[4]), summary: row[5])
        }
    }
}
