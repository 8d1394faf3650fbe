import BotCore
import Foundation
import GRDB

extension SQLiteStore {
    /// Records a delivery's alerts and opens or resolves the stores' issues for them, in one transaction with the
    /// Slack messages that report the changes (`notify(alert, true)` on opening, `notify(alert, false)` on resolving).
    public func ingest(_ alerts: [ExternalAlert], at: Date,
                       notify: @escaping @Sendable (_ alert: ExternalAlert, _ opened: Bool) -> Addressed? = { _, _ in nil })
        async throws -> [AlertEffect] {
        try await pool.write { db in
            let labelled = Array(Set(alerts.compactMap(\.store)))
            let (filter, arguments) = Self.storeFilter(labelled, column: "id")
            let known = Set(try String.fetchAll(db, sql: "SELECT id FROM customers WHERE 1 \(filter)", arguments: arguments))
            return try alerts.map { alert in
                try Self.ingest(db, alert, known: alert.store.map { known.contains($0.rawValue) } ?? false, at: at) { notify(alert, $0) }
            }
        }
    }

    static func ingest(_ db: Database, _ alert: ExternalAlert, known: Bool, at: Date,
                       notify: (_ opened: Bool) -> Addressed?) throws -> AlertEffect {
        try db.cachedStatement(sql: """
            INSERT OR IGNORE INTO external_alerts (source, identity, status, starts_at, store_label, customer_id, name,
                severity, summary, received_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """).execute(arguments: [alert.source, alert.identity, alert.firing ? "firing" : "resolved", alert.startsAt,
                                     alert.storeLabel, known ? alert.store?.rawValue : nil, alert.name,
                                     alert.severity.rawValue, alert.summary, at.unixSeconds])
        guard db.changesCount > 0 else { return .duplicate }
        guard known, let store = alert.store else { return .unknownStore }
        let type = "alert:\(alert.name)"
        if alert.firing {
            try db.cachedStatement(sql: """
                INSERT OR IGNORE INTO performance_issues
                    (customer_id, issue_type, severity, title, detected_at, last_seen_at, details, source)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """).execute(arguments: [store.rawValue, type, alert.severity.rawValue, alert.summary, at.unixSeconds,
                                         at.unixSeconds, try jsonText(["fingerprint": alert.identity]), alert.source])
            guard db.changesCount > 0 else { return .alreadyOpen }
            let id = db.lastInsertedRowID
            try Self.queue(db, notify(true), thread: .issue(id), at: at)
            return .opened(id)
        }
        guard let id = try Int64.fetchOne(db.cachedStatement(sql: """
            SELECT id FROM performance_issues WHERE customer_id = ? AND issue_type = ? AND resolved_at IS NULL
            """), arguments: [store.rawValue, type]) else { return .nothingToResolve }
        try db.cachedStatement(sql: "UPDATE performance_issues SET resolved_at = ? WHERE id = ?").execute(arguments: [at.unixSeconds, id])
        try Self.queue(db, notify(false), thread: .issue(id), at: at)
        return .resolved(id)
    }

    /// Queues `alert` in the outbox inside the caller's transaction.
    static func queue(_ db: Database, _ alert: Addressed?, thread: ThreadKey, at: Date) throws {
        guard let alert else { return }
        try enqueue(db, alert, thread: thread, at: at)
    }

    /// Alerts kept for stores perfbot does not know, newest first: (source, store label, name).
    public func unmatchedAlerts() async throws -> [(source: String, label: String?, name: String)] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: """
                SELECT source, store_label, name FROM external_alerts WHERE customer_id IS NULL ORDER BY id DESC LIMIT 100
                """).map { ($0[0], $0[1], $0[2]) }
        }
    }

    /// Stores a Lighthouse report and its figures as metric samples, in one transaction.
    public func recordLighthouse(store: StoreID, at: Date, score: Int?, fcp: Double?, lcp: Double?, cls: Double?,
                                 tbt: Double?, ttfb: Double?, report: String?) async throws {
        try await pool.write { db in
            try db.execute(sql: """
                INSERT INTO lighthouse_probes (customer_id, probed_at, performance_score, fcp_ms, lcp_ms, cls, tbt_ms,
                    ttfb_ms, full_report)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [store.rawValue, at.unixSeconds, score, fcp.map { Int($0.rounded()) },
                                 lcp.map { Int($0.rounded()) }, cls, tbt.map { Int($0.rounded()) },
                                 ttfb.map { Int($0.rounded()) }, report])
            let samples = [(MetricName.fcpMs, fcp), (.lcpMs, lcp), (.ttfbMs, ttfb)].compactMap { metric, value in
                value.map { MetricSample(store: store, metric: metric, at: at, value: $0) }
            }
            _ = try Self.insert(db, samples)
        }
    }

    /// Lighthouse probes of a store, newest first: (score, lcp ms).
    public func lighthouseProbes(of store: StoreID) async throws -> [(score: Int?, lcp: Int?)] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: """
                SELECT performance_score, lcp_ms FROM lighthouse_probes WHERE customer_id = ? ORDER BY probed_at DESC
                """, arguments: [store.rawValue]).map { ($0[0], $0[1]) }
        }
    }

    /// The store whose URL has `host`, if any.
    public func store(forHost host: String) async throws -> StoreID? {
        try await pool.read { db in
            for row in try Row.fetchAll(db, sql: "SELECT id, url FROM customers WHERE url IS NOT NULL") {
                let url: String = row[1]
                if URL(string: url)?.host?.lowercased() == host.lowercased() { return StoreID(row[0]) }
            }
            return nil
        }
    }
}
