import Foundation

/// A metric perfbot understands: its name on the wire and in the database, and what a value of it means.
///
/// The core declares the metrics every store has (ORIGINAL-DESIGN §4.1 plus what the bot needs, below); a platform
/// pack declares its own (`PlatformPlugin.metrics`), and the wiring joins both into one `MetricCatalogue`, which
/// is what turns a name that arrived from outside (a push, a playbook, a stored row) back into a metric. Two
/// metrics are the same when their names are.
public struct MetricName: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// How a value reads.
    public enum Scale: Sendable, Equatable {
        /// Any number from 0 up.
        case plain
        /// A percentage, 0–100.
        case percent
        /// A share of an allocation that a store can overrun: a container using twice its CPU allocation reads
        /// 200 %, Redis past its `maxmemory` more than 100 %. Such readings are the worst ones, so they are kept
        /// (up to `overrunBound`) for the rules and hotspots to see.
        case allocationShare
    }

    /// The name on the wire and in the database (`ttfb_ms`).
    public let rawValue: String
    public let scale: Scale
    /// The unit values are shown in: `%`, `ms`, `bytes`, or none.
    public let unit: String
    /// How long a sample stays current.
    public let freshness: TimeInterval
    /// What a customer calls it (`memory use`, `slow database queries`).
    public let plainName: String
    /// The name's FNV-1a digest, hashed in its place: metrics key the rules' hottest dictionaries.
    private let digest: UInt64

    public init(_ rawValue: String, scale: Scale = .plain, unit: String = "", freshness: TimeInterval = 15 * 60,
                plainName: String) {
        self.rawValue = rawValue
        self.scale = scale
        self.unit = scale == .plain ? unit : "%"
        self.freshness = freshness
        self.plainName = plainName
        digest = rawValue.utf8.reduce(14_695_981_039_346_656_037) { ($0 ^ UInt64($1)) &* 1_099_511_628_211 }
    }

    public static func == (lhs: MetricName, rhs: MetricName) -> Bool { lhs.digest == rhs.digest && lhs.rawValue == rhs.rawValue }
    public func hash(into hasher: inout Hasher) { hasher.combine(digest) }
    public static func < (lhs: MetricName, rhs: MetricName) -> Bool { lhs.rawValue < rhs.rawValue }
    public var description: String { rawValue }

    /// Whether a value of this metric is a percentage (0–100, or a share of an allocation).
    public var isPercent: Bool { scale != .plain }

    /// Whether a value is a share of an allocation that a store can overrun (see `Scale.allocationShare`).
    public var isAllocationShare: Bool { scale == .allocationShare }

    /// The largest share of an allocation perfbot keeps: 100 times the allocation.
    public static let overrunBound = 10_000.0

    /// Whether `value` is possible for this metric.
    public func accepts(_ value: Double) -> Bool {
        guard value.isFinite, value >= 0 else { return false }
        switch scale {
        case .plain: return true
        case .percent: return value <= 100
        case .allocationShare: return value <= Self.overrunBound
        }
    }
}

/// The metrics every store has, whatever its platform.
extension MetricName {
    /// Synthetic page loads run every few hours; their samples stay current for seven.
    private static let pageLoadFreshness: TimeInterval = 7 * 3600
    /// Sizes and limits change slowly and are read every hour or so.
    public static let slowReadingFreshness: TimeInterval = 2 * 3600

    public static let ttfbMs = MetricName("ttfb_ms", unit: "ms", plainName: "the time to the first byte of a page")
    public static let fcpMs = MetricName("fcp_ms", unit: "ms", freshness: pageLoadFreshness,
                                         plainName: "the time to the first paint")
    public static let lcpMs = MetricName("lcp_ms", unit: "ms", freshness: pageLoadFreshness,
                                         plainName: "the time to the largest paint")
    public static let slowQueryCount = MetricName("slow_query_count", plainName: "slow database queries")
    /// Queries slower than 3 s in the interval (the slow-query rule of ORIGINAL-DESIGN §2.2).
    public static let slowQuery3sCount = MetricName("slow_query_3s_count",
                                                    plainName: "database queries slower than 3 seconds")
    public static let activeConnections = MetricName("active_connections", plainName: "database connections in use")
    public static let maxConnections = MetricName("max_connections", freshness: slowReadingFreshness,
                                                  plainName: "the database's connection limit")
    public static let tableSizeBytes = MetricName("table_size_bytes", unit: "bytes", freshness: slowReadingFreshness,
                                                  plainName: "the size of the database tables")
    public static let redisHitRate = MetricName("redis_hit_rate", scale: .percent,
                                                plainName: "the share of requests answered from the Redis cache")
    public static let redisMemoryBytes = MetricName("redis_memory_bytes", unit: "bytes",
                                                    plainName: "the memory Redis uses")
    /// Redis memory used against its `maxmemory`, percent (only where a limit is set).
    public static let redisMemoryPercent = MetricName("redis_memory_percent", scale: .allocationShare,
                                                      plainName: "the memory Redis uses against its limit")
    /// Keys Redis evicted for lack of memory in the interval.
    public static let redisEvictions = MetricName("redis_evictions",
                                                  plainName: "cache entries Redis dropped for lack of memory")
    public static let varnishHitRate = MetricName("varnish_hit_rate", scale: .percent,
                                                  plainName: "the share of pages answered from the Varnish cache")
    public static let cpuPercent = MetricName("cpu_percent", scale: .allocationShare, plainName: "processor use")
    public static let memoryPercent = MetricName("memory_percent", scale: .allocationShare, plainName: "memory use")
    public static let diskPercent = MetricName("disk_percent", scale: .percent, plainName: "disk space used")
    public static let uptimePercent = MetricName("uptime_percent", scale: .percent, plainName: "availability")
    public static let requests = MetricName("requests", plainName: "requests")
    /// OOM-killer kills in the interval.
    public static let oomKills = MetricName("oom_kills", plainName: "processes stopped for lack of memory")
    /// PHP-FPM workers busy, percent of all.
    public static let phpFpmBusyPercent = MetricName("php_fpm_busy_percent", scale: .allocationShare,
                                                     plainName: "busy PHP workers")
    /// The HTTP probe's phases, milliseconds: name lookup, TCP connect, TLS handshake, the whole request.
    public static let httpDNSMs = MetricName("http_dns_ms", unit: "ms", plainName: "the time to look up the store's address")
    public static let httpConnectMs = MetricName("http_connect_ms", unit: "ms", plainName: "the time to connect to the store")
    public static let httpTLSMs = MetricName("http_tls_ms", unit: "ms",
                                             plainName: "the time to set up the secure connection")
    public static let httpTotalMs = MetricName("http_total_ms", unit: "ms", plainName: "the time to load the page")
    /// The uptime probe's HTTP status code.
    public static let httpStatusCode = MetricName("http_status_code",
                                                  plainName: "the status code the store's page answered with")

    /// The core's metrics, in the order they are listed.
    public static let core: [MetricName] = [
        .ttfbMs, .fcpMs, .lcpMs, .slowQueryCount, .slowQuery3sCount, .activeConnections, .maxConnections,
        .tableSizeBytes, .redisHitRate, .redisMemoryBytes, .redisMemoryPercent, .redisEvictions, .varnishHitRate,
        .cpuPercent, .memoryPercent, .diskPercent, .uptimePercent, .requests, .oomKills, .phpFpmBusyPercent,
        .httpDNSMs, .httpConnectMs, .httpTLSMs, .httpTotalMs, .httpStatusCode,
    ]
}

/// The metrics one process knows: the core's and its packs'. Names that arrive from outside (a push, a playbook,
/// a stored row) become metrics only through it, so a name no pack declared is refused, never guessed.
public struct MetricCatalogue: Sendable {
    public private(set) var all: [MetricName]
    private var byName: [String: MetricName]

    /// The core's metrics and `more` (a pack's own); a pack cannot redeclare a name.
    public init(_ more: [MetricName] = []) {
        all = []
        byName = [:]
        for metric in MetricName.core + more where byName[metric.rawValue] == nil {
            all.append(metric)
            byName[metric.rawValue] = metric
        }
    }

    /// The core's metrics alone.
    public static let core = MetricCatalogue()

    /// The metric called `name`, when the core or a pack declares it.
    public func metric(named name: String) -> MetricName? { byName[name] }

    /// The longest freshness of any metric: how far back to look for a store's current state.
    public var longestFreshness: TimeInterval { all.map(\.freshness).max() ?? 900 }
}

/// One measured value of one metric of one store.
public struct MetricSample: Sendable, Equatable {
    public var store: StoreID
    public var metric: MetricName
    public var at: Date
    public var value: Double

    public init(store: StoreID, metric: MetricName, at: Date, value: Double) {
        self.store = store
        self.metric = metric
        self.at = at
        self.value = value
    }
}

/// The latest known value of each metric of a store, with when each was measured.
public struct MetricSnapshot: Sendable, Equatable {
    public var values: [MetricName: Double]
    public var times: [MetricName: Date]

    public init(values: [MetricName: Double] = [:], times: [MetricName: Date] = [:]) {
        self.values = values
        self.times = times
    }

    public subscript(_ metric: MetricName) -> Double? { values[metric] }

    /// When the newest of the values was measured.
    public var lastSampleAt: Date? { times.values.max() }

    /// Records `value` measured at `at` if it is newer than what is held.
    public mutating func record(_ metric: MetricName, _ value: Double, at: Date) {
        if let held = times[metric], held > at { return }
        values[metric] = value
        times[metric] = at
    }

    /// Only the values still current at `asOf` (see `MetricName.freshness`), none from after it.
    public func fresh(asOf: Date) -> MetricSnapshot {
        func current(_ metric: MetricName, _ at: Date) -> Bool { at <= asOf && asOf.timeIntervalSince(at) <= metric.freshness }
        // The common case, everything current: the snapshot as it is, shared rather than rebuilt.
        if values.count == times.count, times.allSatisfy({ values[$0.key] != nil && current($0.key, $0.value) }) { return self }
        var kept = MetricSnapshot()
        for (metric, at) in times where current(metric, at) {
            if let value = values[metric] { kept.record(metric, value, at: at) }
        }
        return kept
    }
}

/// How bad an issue is.
public enum Severity: String, Sendable, CaseIterable, Comparable, Codable {
    case info, warning, critical

    private var rank: Int { self == .info ? 0 : self == .warning ? 1 : 2 }
    public static func < (lhs: Severity, rhs: Severity) -> Bool { lhs.rank < rhs.rank }
}

/// A detected performance issue as the views show it.
public struct IssueSummary: Sendable, Equatable {
    public var id: Int64
    public var store: StoreID
    public var type: String
    public var severity: Severity
    public var detectedAt: Date
    public var resolvedAt: Date?
    public var summary: String

    public init(id: Int64, store: StoreID, type: String, severity: Severity,
                detectedAt: Date, resolvedAt: Date? = nil, summary: String) {
        self.id = id
        self.store = store
        self.type = type
        self.severity = severity
        self.detectedAt = detectedAt
        self.resolvedAt = resolvedAt
        self.summary = summary
    }
}
