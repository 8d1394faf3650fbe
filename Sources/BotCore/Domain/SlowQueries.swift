import Foundation

/// One query class's figures for one hour of one store (ORIGINAL-DESIGN §5 `slow_queries`, per hour).
/// Only the fingerprint is kept: literals removed, never a raw statement.
public struct SlowQueryHour: Sendable, Equatable {
    /// The uppercase hex MD5 of the fingerprint (pt-query-digest's checksum).
    public var queryID: String
    public var fingerprint: String
    /// The start of the hour.
    public var hour: Date
    public var count: Int
    public var totalMs: Double
    public var maxMs: Double
    public var lockMs: Double
    public var rowsExamined: Double
    public var rowsSent: Double
    /// Counts per `SlowQueryHour.bucketBounds` (the last counts everything slower).
    public var histogram: [Int]
    public var tables: [String]
    public var firstSeen: Date
    public var lastSeen: Date

    public init(queryID: String, fingerprint: String, hour: Date, count: Int = 0, totalMs: Double = 0, maxMs: Double = 0,
                lockMs: Double = 0, rowsExamined: Double = 0, rowsSent: Double = 0,
                histogram: [Int] = Array(repeating: 0, count: SlowQueryHour.bucketBounds.count + 1), tables: [String] = [],
                firstSeen: Date, lastSeen: Date) {
        self.queryID = queryID
        self.fingerprint = fingerprint
        self.hour = hour
        self.count = count
        self.totalMs = totalMs
        self.maxMs = maxMs
        self.lockMs = lockMs
        self.rowsExamined = rowsExamined
        self.rowsSent = rowsSent
        self.histogram = histogram
        self.tables = tables
        self.firstSeen = firstSeen
        self.lastSeen = lastSeen
    }

    /// Upper bounds of the time buckets, in milliseconds: mergeable across hours for a percentile.
    public static let bucketBounds: [Double] = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 30000, 60000]

    public static func bucket(ms: Double) -> Int {
        bucketBounds.firstIndex { ms <= $0 } ?? bucketBounds.count
    }

    /// The bucket bound under which `share` of the counts fall, at most `max`.
    public static func percentile(_ share: Double, histogram: [Int], max: Double) -> Double {
        let total = histogram.reduce(0, +)
        guard total > 0 else { return 0 }
        let target = Int((Double(total) * share).rounded(.up))
        var seen = 0
        for (index, count) in histogram.enumerated() {
            seen += count
            if seen >= target { return index < bucketBounds.count ? Swift.min(bucketBounds[index], max) : max }
        }
        return max
    }
}

/// A class over a period, as `/perf slow-queries` lists it.
public struct SlowQuerySummary: Sendable, Equatable {
    public var queryID: String
    public var fingerprint: String
    public var count: Int
    public var totalMs: Double
    public var maxMs: Double
    public var p95Ms: Double
    public var rowsExamined: Double
    public var rowsSent: Double
    public var tables: [String]
    public var lastSeen: Date

    public init(queryID: String, fingerprint: String, count: Int, totalMs: Double, maxMs: Double, p95Ms: Double,
                rowsExamined: Double, rowsSent: Double, tables: [String], lastSeen: Date) {
        self.queryID = queryID
        self.fingerprint = fingerprint
        self.count = count
        self.totalMs = totalMs
        self.maxMs = maxMs
        self.p95Ms = p95Ms
        self.rowsExamined = rowsExamined
        self.rowsSent = rowsSent
        self.tables = tables
        self.lastSeen = lastSeen
    }

    public var averageMs: Double { count > 0 ? totalMs / Double(count) : 0 }
    /// Rows examined for each row sent: high means the query reads far more than it returns (a missing index).
    public var examinedPerSent: Double { rowsExamined / Swift.max(rowsSent, 1) }
}

/// Where perfbot is in a store's slow log: the file, its identity (inode) and the next byte to read.
public struct SlowLogCursor: Sendable, Equatable {
    public var path: String
    public var identity: String
    public var offset: Int64

    public init(path: String, identity: String, offset: Int64) {
        self.path = path
        self.identity = identity
        self.offset = offset
    }
}

/// Where slow-query classes are kept.
public protocol SlowQueryStore: Sendable {
    func slowLogCursor(_ store: StoreID) async throws -> SlowLogCursor?
    /// Adds the hours' figures to what is stored and moves the cursor, in one transaction.
    func recordSlowQueries(_ store: StoreID, hours: [SlowQueryHour], cursor: SlowLogCursor, at: Date) async throws
    /// The classes seen since `since`, worst total time first: one page, and how many there are.
    func slowQueryClasses(_ store: StoreID, since: Date, limit: Int, offset: Int) async throws -> (classes: [SlowQuerySummary], total: Int)
}

/// A bare MySQL identifier perfbot places into a statement (between backquotes): letters, digits, `_` and
/// `$`, 1–64 long, not only digits.
public enum SQLIdentifier {
    public static func isValid(_ text: String) -> Bool {
        (1...64).contains(text.utf8.count)
            && text.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || (($0 | 0x20) >= 97 && ($0 | 0x20) <= 122) || $0 == 95 || $0 == 36 }
            && !text.utf8.allSatisfy { $0 >= 48 && $0 <= 57 }
    }
}

/// How one of a store's readings fared: where it comes from, when it last worked, its last error.
public struct CollectorStatus: Sendable, Equatable {
    public var store: StoreID
    /// `prometheus`, `redis`, `slow_log`, …
    public var reading: String
    /// Where it is read (`http://prometheus:9090`, `docker exec acme-app`).
    public var source: String
    public var lastSuccess: Date?
    public var lastError: String?
    public var lastErrorAt: Date?

    public init(store: StoreID, reading: String, source: String, lastSuccess: Date?, lastError: String?, lastErrorAt: Date?) {
        self.store = store
        self.reading = reading
        self.source = source
        self.lastSuccess = lastSuccess
        self.lastError = lastError
        self.lastErrorAt = lastErrorAt
    }
}

/// Where collectors' outcomes are kept, for `perfbot collectors`.
public protocol CollectorStatusStore: Sendable {
    /// A success (`error` nil) or a failure of one reading.
    func recordCollector(_ store: StoreID, reading: String, source: String, error: String?, at: Date) async throws
    func collectorStatuses(store: StoreID?) async throws -> [CollectorStatus]
}
