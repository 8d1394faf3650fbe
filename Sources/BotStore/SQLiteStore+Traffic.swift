import BotCore
import Foundation
import GRDB

extension SQLiteStore: TrafficStore {
    public func accessLogCursor(_ store: StoreID) async throws -> SlowLogCursor? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT path, identity, offset FROM access_log_cursors WHERE customer_id = ?",
                             arguments: [store.rawValue])
                .map { SlowLogCursor(path: $0["path"], identity: $0["identity"], offset: $0["offset"]) }
        }
    }

    public func recordTraffic(_ store: StoreID, hours: [TrafficHour], cursor: SlowLogCursor, at now: Date) async throws {
        try await pool.write { db in
            for hour in hours {
                let key = hour.hour.unixSeconds
                var merged = hour
                if let text = try String.fetchOne(db, sql: "SELECT figures FROM traffic_hours WHERE customer_id = ? AND hour = ?",
                                                  arguments: [store.rawValue, key]),
                   let stored = try? JSONDecoder().decode(TrafficHour.self, from: Data(text.utf8)) {
                    merged = stored.adding(hour)
                }
                try db.execute(sql: """
                    INSERT INTO traffic_hours (customer_id, hour, figures) VALUES (?, ?, ?)
                    ON CONFLICT (customer_id, hour) DO UPDATE SET figures = excluded.figures
                    """, arguments: [store.rawValue, key, try jsonText(merged)])
            }
            try db.execute(sql: """
                INSERT INTO access_log_cursors (customer_id, path, identity, offset, updated_at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (customer_id) DO UPDATE SET path = excluded.path, identity = excluded.identity,
                    offset = excluded.offset, updated_at = excluded.updated_at
                """, arguments: [store.rawValue, cursor.path, cursor.identity, cursor.offset, now.unixSeconds])
        }
    }

    public func trafficHours(_ store: StoreID, from: Date, to: Date) async throws -> [TrafficHour] {
        try await pool.read { db in
            try String.fetchAll(db, sql: """
                SELECT figures FROM traffic_hours WHERE customer_id = ? AND hour >= ? AND hour < ? ORDER BY hour
                """, arguments: [store.rawValue, from.unixSeconds, to.unixSeconds])
                .compactMap { try? JSONDecoder().decode(TrafficHour.self, from: Data($0.utf8)) }
        }
    }
}
