import BotCore
import BotStore
import Foundation
import Logging
import PostgresNIO

extension PostgresStore: TrafficStore {
    public func accessLogCursor(_ store: StoreID) async throws -> SlowLogCursor? {
        try await database.rows("""
            SELECT path, identity, "offset" FROM access_log_cursors WHERE customer_id = \(store.rawValue)
            """).first.map {
            let (path, identity, offset) = try $0.decode((String, String, Int64).self)
            return SlowLogCursor(path: path, identity: identity, offset: offset)
        }
    }

    /// Adds each hour's figures to the stored ones (read under a row lock, so two replicas reading the same log
    /// never lose a count) and moves the cursor, in one transaction.
    public func recordTraffic(_ store: StoreID, hours: [TrafficHour], cursor: SlowLogCursor, at now: Date) async throws {
        try await database.transaction { connection in
            let logger = database.logger
            for hour in hours {
                let key = hour.hour.unixSeconds
                var merged = hour
                if let text = try await connection.rows("""
                    SELECT figures FROM traffic_hours WHERE customer_id = \(store.rawValue) AND hour = \(key) FOR UPDATE
                    """, logger: logger).first?.decode(String.self),
                    let stored = try? JSONDecoder().decode(TrafficHour.self, from: Data(text.utf8)) {
                    merged = stored.adding(hour)
                }
                _ = try await connection.rows("""
                    INSERT INTO traffic_hours (customer_id, hour, figures) VALUES (\(store.rawValue), \(key), \(try jsonText(merged)))
                    ON CONFLICT (customer_id, hour) DO UPDATE SET figures = EXCLUDED.figures
                    """, logger: logger)
            }
            _ = try await connection.rows("""
                INSERT INTO access_log_cursors (customer_id, path, identity, "offset", updated_at)
                VALUES (\(store.rawValue), \(cursor.path), \(cursor.identity), \(cursor.offset), \(now.unixSeconds))
                ON CONFLICT (customer_id) DO UPDATE SET path = EXCLUDED.path, identity = EXCLUDED.identity,
                    "offset" = EXCLUDED."offset", updated_at = EXCLUDED.updated_at
                """, logger: logger)
        }
    }

    public func trafficHours(_ store: StoreID, from: Date, to: Date) async throws -> [TrafficHour] {
        try await database.rows("""
            SELECT figures FROM traffic_hours WHERE customer_id = \(store.rawValue)
                AND hour >= \(from.unixSeconds) AND hour < \(to.unixSeconds) ORDER BY hour
            """).compactMap { row in
            try? JSONDecoder().decode(TrafficHour.self, from: Data(try row.decode(String.self).utf8))
        }
    }
}
