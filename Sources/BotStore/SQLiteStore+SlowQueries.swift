import BotCore
import Foundation
import GRDB

extension SQLiteStore: SlowQueryStore {
    public func slowLogCursor(_ store: StoreID) async throws -> SlowLogCursor? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT path, identity, offset FROM slow_log_cursors WHERE customer_id = ?",
                             arguments: [store.rawValue])
                .map { SlowLogCursor(path: $0["path"], identity: $0["identity"], offset: $0["offset"]) }
        }
    }

    public func recordSlowQueries(_ store: StoreID, hours: [SlowQueryHour], cursor: SlowLogCursor, at now: Date) async throws {
        try await pool.write { db in
            for hour in hours {
                let key: [any DatabaseValueConvertible] = [store.rawValue, hour.queryID, hour.hour.unixSeconds]
                let existing = try Row.fetchOne(db, sql: """
                    SELECT time_histogram FROM slow_queries WHERE customer_id = ? AND query_hash = ? AND hour = ?
                    """, arguments: StatementArguments(key))
                var histogram = hour.histogram
                if let text: String = existing?["time_histogram"],
                   let stored = try? JSONDecoder().decode([Int].self, from: Data(text.utf8)), stored.count == histogram.count {
                    histogram = zip(histogram, stored).map { $0 + $1 }
                }
                try db.execute(sql: """
                    INSERT INTO slow_queries (customer_id, query_hash, hour, query_text, occurrence_count, execution_time_ms,
                        max_time_ms, lock_time_ms, rows_examined, rows_sent, time_histogram, tables, first_seen, last_seen)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (customer_id, query_hash, hour) DO UPDATE SET
                        occurrence_count = occurrence_count + excluded.occurrence_count,
                        execution_time_ms = execution_time_ms + excluded.execution_time_ms,
                        max_time_ms = max(max_time_ms, excluded.max_time_ms),
                        lock_time_ms = lock_time_ms + excluded.lock_time_ms,
                        rows_examined = rows_examined + excluded.rows_examined,
                        rows_sent = rows_sent + excluded.rows_sent,
                        time_histogram = excluded.time_histogram,
                        first_seen = min(first_seen, excluded.first_seen),
                        last_seen = max(last_seen, excluded.last_seen)
                    """, arguments: StatementArguments(key + [
                        hour.fingerprint, hour.count, hour.totalMs, hour.maxMs, hour.lockMs, hour.rowsExamined,
                        hour.rowsSent, try jsonText(histogram), try jsonText(hour.tables), hour.firstSeen.unixSeconds,
                        hour.lastSeen.unixSeconds,
                    ]))
            }
            try db.execute(sql: """
                INSERT INTO slow_log_cursors (customer_id, path, identity, offset, updated_at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (customer_id) DO UPDATE SET path = excluded.path, identity = excluded.identity,
                    offset = excluded.offset, updated_at = excluded.updated_at
                """, arguments: [store.rawValue, cursor.path, cursor.identity, cursor.offset, now.unixSeconds])
        }
    }

    public func slowQueryClasses(_ store: StoreID, since: Date, limit: Int, offset: Int) async throws
        -> (classes: [SlowQuerySummary], total: Int) {
        try await pool.read { db in
            let total = try Int.fetchOne(db, sql: """
                SELECT count(DISTINCT query_hash) FROM slow_queries WHERE customer_id = ? AND hour >= ?
                """, arguments: [store.rawValue, since.unixSeconds - since.unixSeconds % 3600]) ?? 0
            let rows = try Row.fetchAll(db, sql: """
                SELECT query_hash, max(query_text) AS fingerprint, sum(occurrence_count) AS count,
                    sum(execution_time_ms) AS total, max(max_time_ms) AS worst, sum(rows_examined) AS examined,
                    sum(rows_sent) AS sent, max(tables) AS tables, max(last_seen) AS last_seen,
                    json_group_array(json(time_histogram)) AS histograms
                FROM slow_queries WHERE customer_id = ? AND hour >= ?
                GROUP BY query_hash ORDER BY total DESC, count DESC LIMIT ? OFFSET ?
                """, arguments: [store.rawValue, since.unixSeconds - since.unixSeconds % 3600, limit, offset])
            let classes = rows.map { row -> SlowQuerySummary in
                let histograms = (try? JSONDecoder().decode([[Int]].self, from: Data((row["histograms"] as String).utf8))) ?? []
                var merged = Array(repeating: 0, count: SlowQueryHour.bucketBounds.count + 1)
                for histogram in histograms where histogram.count == merged.count {
                    for index in merged.indices { merged[index] += histogram[index] }
                }
                let worst: Double = row["worst"]
                let tables = (try? JSONDecoder().decode([String].self, from: Data((row["tables"] as String).utf8))) ?? []
                return SlowQuerySummary(
                    queryID: row["query_hash"], fingerprint: row["fingerprint"], count: row["count"], totalMs: row["total"],
                    maxMs: worst, p95Ms: SlowQueryHour.percentile(0.95, histogram: merged, max: worst),
                    rowsExamined: row["examined"], rowsSent: row["sent"], tables: tables,
                    lastSeen: Date(timeIntervalSince1970: TimeInterval(row["last_seen"] as Int64)))
            }
            return (classes, total)
        }
    }
}

extension SQLiteStore: CollectorStatusStore {
    public func recordCollector(_ store: StoreID, reading: String, source: String, error: String?, at now: Date) async throws {
        try await pool.write { db in
            if let error {
                try db.execute(sql: """
                    INSERT INTO collector_status (customer_id, reading, source, last_error, last_error_at) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT (customer_id, reading) DO UPDATE SET source = excluded.source, last_error = excluded.last_error,
                        last_error_at = excluded.last_error_at
                    """, arguments: [store.rawValue, reading, source, String(error.prefix(500)), now.unixSeconds])
            } else {
                try db.execute(sql: """
                    INSERT INTO collector_status (customer_id, reading, source, last_success_at) VALUES (?, ?, ?, ?)
                    ON CONFLICT (customer_id, reading) DO UPDATE SET source = excluded.source,
                        last_success_at = excluded.last_success_at
                    """, arguments: [store.rawValue, reading, source, now.unixSeconds])
            }
        }
    }

    public func collectorStatuses(store: StoreID?) async throws -> [CollectorStatus] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: """
                SELECT * FROM collector_status WHERE ?1 IS NULL OR customer_id = ?1 ORDER BY customer_id, reading
                """, arguments: [store?.rawValue]).compactMap { row in
                guard let id = StoreID(row["customer_id"] as String) else { return nil }
                func date(_ column: String) -> Date? { (row[column] as Int64?).map { Date(timeIntervalSince1970: TimeInterval($0)) } }
                return CollectorStatus(store: id, reading: row["reading"], source: row["source"], lastSuccess: date("last_success_at"),
                                       lastError: row["last_error"], lastErrorAt: date("last_error_at"))
            }
        }
    }
}
