import BotCore
import BotStore
import Foundation
import Logging
import PostgresNIO

/// The scheduler's smaller stores on PostgreSQL: silences, once-a-day runs, collected samples, the audit log and
/// the insights feed.
extension PostgresStore: SilenceStore {
    public func activeSilence(_ store: StoreID, at: Date) async throws -> Silence? {
        try await database.rows("""
            SELECT id, customer_id, ends_at, reason, created_by, starts_at FROM silences
            WHERE customer_id = \(store.rawValue) AND starts_at <= \(at.unixSeconds) AND ends_at > \(at.unixSeconds)
            ORDER BY ends_at DESC LIMIT 1
            """).first.flatMap(Self.silence(from:))
    }

    public func addSilence(_ store: StoreID, until: Date, reason: String?, by: String, at: Date) async throws -> Int64 {
        try await database.rows("""
            INSERT INTO silences (customer_id, starts_at, ends_at, reason, created_by)
            VALUES (\(store.rawValue), \(at.unixSeconds), \(until.unixSeconds), \(reason), \(by)) RETURNING id
            """).first!.decode(Int64.self)
    }

    public func startWindow(_ store: StoreID, opening: Date, until: Date, reason: String) async throws -> Int64? {
        try await database.transaction { connection in
            let logger = database.logger
            // One silence per opening of the window, however many cycles (or replicas) see it open.
            _ = try await connection.rows("SELECT pg_advisory_xact_lock(hashtext(\("window:" + store.rawValue)))", logger: logger)
            guard try await connection.rows("""
                SELECT 1 FROM silences WHERE customer_id = \(store.rawValue) AND created_by = \(Silence.windowActor)
                  AND starts_at = \(opening.unixSeconds)
                """, logger: logger).first == nil else { return nil }
            return try await connection.rows("""
                INSERT INTO silences (customer_id, starts_at, ends_at, reason, created_by)
                VALUES (\(store.rawValue), \(opening.unixSeconds), \(until.unixSeconds), \(reason), \(Silence.windowActor)) RETURNING id
                """, logger: logger).first?.decode(Int64.self)
        }
    }

    public func weeklyProfile(_ metric: MetricName, from: Date, to: Date) async throws -> [StoreID: [Int: Double]] {
        var profiles: [StoreID: [Int: Double]] = [:]
        // Hour of the week from Sunday 00:00 UTC: 1 January 1970 was a Thursday, 96 hours into its week.
        for row in try await sampleRows("""
            SELECT customer_id, (hour / 3600 + 96) % 168, SUM(sum) / SUM(count)::DOUBLE PRECISION FROM metric_rollups
            WHERE metric = \(metric.rawValue) AND hour >= \(from.unixSeconds) AND hour < \(to.unixSeconds) GROUP BY 1, 2
            """) {
            let (store, hour, mean) = try row.decode((String, Int64, Double).self)
            guard let id = StoreID(store) else { continue }
            profiles[id, default: [:]][Int(hour)] = mean
        }
        return profiles
    }

    public func endedSilences(at: Date) async throws -> [Silence] {
        try await database.rows("""
            SELECT id, customer_id, ends_at, reason, created_by, starts_at FROM silences
            WHERE ends_at <= \(at.unixSeconds) AND end_announced = 0 ORDER BY ends_at
            """).compactMap(Self.silence(from:))
    }

    public func activeSilences(at: Date) async throws -> [Silence] {
        try await database.rows("""
            SELECT id, customer_id, ends_at, reason, created_by, starts_at FROM silences
            WHERE starts_at <= \(at.unixSeconds) AND ends_at > \(at.unixSeconds) ORDER BY ends_at, id
            """).compactMap(Self.silence(from:))
    }

    public func endSilences(of store: StoreID, at: Date) async throws -> Int {
        try await database.rows("""
            UPDATE silences SET ends_at = \(at.unixSeconds)
            WHERE customer_id = \(store.rawValue) AND starts_at <= \(at.unixSeconds) AND ends_at > \(at.unixSeconds) RETURNING id
            """).count
    }

    public func markSilenceAnnounced(_ id: Int64) async throws {
        try await database.execute("UPDATE silences SET end_announced = 1 WHERE id = \(id)")
    }

    static func silence(from row: PostgresRow) throws -> Silence? {
        let (id, store, endsAt, reason, createdBy, startsAt) = try row.decode((Int64, String, Int64, String?, String, Int64).self)
        return StoreID(store).map {
            Silence(id: id, store: $0, startsAt: Date(unixSeconds: startsAt), endsAt: Date(unixSeconds: endsAt), reason: reason,
                    createdBy: createdBy)
        }
    }
}

extension PostgresStore: DailyRuns {
    /// One replica wins the claim: the row is updated only when the last run is at least `interval` old, in one
    /// statement.
    public func claimDailyRun(_ name: String, at: Date, interval: TimeInterval) async throws -> Bool {
        try await !database.rows("""
            INSERT INTO daily_runs AS d (name, last_run_at) VALUES (\(name), \(at.unixSeconds))
            ON CONFLICT (name) DO UPDATE SET last_run_at = EXCLUDED.last_run_at
            WHERE d.last_run_at + \(Int64(interval.rounded(.up))) <= EXCLUDED.last_run_at
            RETURNING name
            """).isEmpty
    }
}

extension PostgresStore: SampleWriter {
    @discardableResult
    public func insert(_ samples: [MetricSample]) async throws -> Int {
        guard !samples.isEmpty else { return 0 }
        // After what was pushed before it, so a sample pushed and then written here is counted once, as a duplicate.
        await inbox.settled()
        return try await database.transaction { try await Self.insert($0, samples, logger: database.logger) }
    }
}

extension PostgresStore: AuditLog {
    public func audit(actor: String, channel: String, action: String, store: StoreID?, details: [String: String],
                      result: String?, at: Date) async throws {
        try await database.execute("""
            INSERT INTO audit_log (at, actor, channel, action, customer_id, details, result)
            VALUES (\(at.unixSeconds), \(actor), \(channel), \(action), \(store?.rawValue), \(try jsonText(details)), \(result))
            """)
    }
}

extension PostgresStore: InsightStore {
    public func record(_ insight: InsightEntry, for store: StoreID, messages: [Addressed], at: Date) async throws {
        try await database.transaction { connection in
            _ = try await connection.rows("""
                INSERT INTO insights (customer_id, at, kind, title, body)
                VALUES (\(store.rawValue), \(at.unixSeconds), \(insight.kind), \(insight.title), \(insight.body))
                """, logger: database.logger)
            for message in messages { _ = try await Self.enqueue(connection, message, thread: nil, at: at, logger: database.logger) }
        }
    }

    public func addInsight(_ store: StoreID, at: Date, kind: String, title: String, body: String) async throws {
        try await record(InsightEntry(kind: kind, title: title, body: body), for: store, messages: [], at: at)
    }

    public func shownRecommendations(of stores: [StoreID]) async throws -> [StoreID: [String: String]] {
        var shown: [StoreID: [String: String]] = [:]
        for row in try await database.rows("""
            SELECT customer_id, title, body FROM insights
            WHERE kind = 'recommendation' AND customer_id = ANY(\(stores.map(\.rawValue))::text[]) ORDER BY id
            """) {
            let (name, title, body) = try row.decode((String, String, String).self)
            if let id = StoreID(name) { shown[id, default: [:]][title] = body }
        }
        return shown
    }

    public func shownRecommendations(of store: StoreID) async throws -> [String: String] {
        var shown: [String: String] = [:]
        for row in try await database.rows("""
            SELECT title, body FROM insights WHERE customer_id = \(store.rawValue) AND kind = 'recommendation' ORDER BY id
            """) {
            let (title, body) = try row.decode((String, String).self)
            shown[title] = body
        }
        return shown
    }
}
