import Foundation

/// A metric perfbot understands (ORIGINAL-DESIGN §4.1 plus what the bot needs).
public enum MetricName: String, Sendable, CaseIterable, Codable {
    case ttfbMs = "ttfb_ms"
    case fcpMs = "fcp_ms"
    case lcpMs = "lcp_ms"
    case slowQueryCount = "slow_query_count"
    /// Queries slower than 3 s in the interval (the slow-query rule of ORIGINAL-DESIGN §2.2).
    case slowQuery3sCount = "slow_query_3s_count"
    case activeConnections = "active_connections"
    case maxConnections = "max_connections"
    case tableSizeBytes = "table_size_bytes"
    case redisHitRate = "redis_hit_rate"
    case redisMemoryBytes = "redis_memory_bytes"
    /// Redis memory used against its `maxmemory`, percent (only where a limit is set).
    case redisMemoryPercent = "redis_memory_percent"
    /// Keys Redis evicted for lack of memory in the interval.
    case redisEvictions = "redis_evictions"
    case varnishHitRate = "varnish_hit_rate"
    case cpuPercent = "cpu_percent"
    case memoryPercent = "memory_percent"
    case diskPercent = "disk_percent"
    case uptimePercent = "uptime_percent"
    case requests = "requests"
    /// OOM-killer kills in the interval.
    case oomKills = "oom_kills"
    /// WordPress autoloaded options, bytes (Site Health warns at 800,000).
    case autoloadBytes = "autoload_bytes"
    /// Magento indexers marked invalid (need a reindex).
    case invalidIndexers = "invalid_indexers"
    /// Magento cache types switched off.
    case cacheTypesDisabled = "cache_types_disabled"
    /// WP-Cron events overdue by more than 10 minutes.
    case cronBacklog = "cron_backlog"
    /// PHP-FPM workers busy, percent of all.
    case phpFpmBusyPercent = "php_fpm_busy_percent"
    /// The HTTP probe's phases, milliseconds: name lookup, TCP connect, TLS handshake, the whole request.
    case httpDNSMs = "http_dns_ms"
    case httpConnectMs = "http_connect_ms"
    case httpTLSMs = "http_tls_ms"
    case httpTotalMs = "http_total_ms"
    /// The uptime probe's HTTP status code.
    case httpStatusCode = "http_status_code"

    /// Whether a value of this metric is a percentage (0–100).
    public var isPercent: Bool {
        switch self {
        case .redisHitRate, .varnishHitRate, .cpuPercent, .memoryPercent, .diskPercent, .uptimePercent,
             .phpFpmBusyPercent, .redisMemoryPercent: true
        default: false
        }
    }

    /// Whether a value is a share of an allocation that a store can overrun: a container using twice its CPU
    /// allocation reads 200 %, Redis past its `maxmemory` more than 100 %. Such readings are the worst ones, so
    /// they are kept (up to `overrunBound`) for the rules and hotspots to see.
    public var isAllocationShare: Bool {
        switch self {
        case .cpuPercent, .memoryPercent, .redisMemoryPercent, .phpFpmBusyPercent: true
        default: false
        }
    }

    /// The largest share of an allocation perfbot keeps: 100 times the allocation.
    public static let overrunBound = 10_000.0

    /// Whether `value` is possible for this metric.
    public func accepts(_ value: Double) -> Bool {
        guard value.isFinite, value >= 0 else { return false }
        if isAllocationShare { return value <= Self.overrunBound }
        return isPercent ? value <= 100 : true
    }
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
        var kept = MetricSnapshot()
        for (metric, at) in times where at <= asOf && asOf.timeIntervalSince(at) <= metric.freshness {
            if let value = values[metric] { kept.record(metric, value, at: at) }
        }
        return kept
    }
}

extension MetricName {
    /// How long a sample stays current: synthetic page loads run every few hours, the rest every minute.
    public var freshness: TimeInterval {
        switch self {
        case .fcpMs, .lcpMs: 7 * 3600
        case .tableSizeBytes, .maxConnections, .autoloadBytes, .invalidIndexers: 2 * 3600
        default: 15 * 60
        }
    }

    /// The longest freshness of any metric: how far back to look for a store's current state.
    public static let longestFreshness: TimeInterval = allCases.map(\.freshness).max() ?? 900
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
