import Foundation

/// The five weighted factors of the health score (ORIGINAL-DESIGN §1.1).
public enum HealthFactor: String, Sendable, CaseIterable {
    case pageSpeed = "page_speed"
    case resources = "resources"
    case database = "database"
    case cache = "cache"
    case uptime = "uptime"

    /// Weight in percent: 30/25/20/15/10.
    public var weight: Double {
        switch self {
        case .pageSpeed: 30
        case .resources: 25
        case .database: 20
        case .cache: 15
        case .uptime: 10
        }
    }

    public var title: String {
        switch self {
        case .pageSpeed: "Page speed"
        case .resources: "Resource usage"
        case .database: "Database health"
        case .cache: "Cache efficiency"
        case .uptime: "Uptime"
        }
    }
}

/// The colour band of a score: healthy ≥ 80, warning 50–79, critical < 50.
public enum HealthBand: String, Sendable, CaseIterable {
    case healthy, warning, critical

    public init(score: Int) {
        self = score >= 80 ? .healthy : score >= 50 ? .warning : .critical
    }

    /// A coloured circle for chat.
    public var emoji: String {
        switch self {
        case .healthy: "🟢"
        case .warning: "🟡"
        case .critical: "🔴"
        }
    }
}

/// What the score is computed from: the latest values plus the 24-hour uptime.
public struct HealthInputs: Sendable, Equatable {
    public var ttfbMs: Double?
    public var lcpMs: Double?
    public var fcpMs: Double?
    public var cpuPercent: Double?
    public var memoryPercent: Double?
    public var diskPercent: Double?
    /// Slow queries in the latest sample interval.
    public var slowQueryCount: Double?
    public var activeConnections: Double?
    public var maxConnections: Double?
    public var redisHitRate: Double?
    public var varnishHitRate: Double?
    /// Availability over the last 24 hours, percent.
    public var uptimePercent24h: Double?

    public init(ttfbMs: Double? = nil, lcpMs: Double? = nil, fcpMs: Double? = nil,
                cpuPercent: Double? = nil, memoryPercent: Double? = nil, diskPercent: Double? = nil,
                slowQueryCount: Double? = nil, activeConnections: Double? = nil, maxConnections: Double? = nil,
                redisHitRate: Double? = nil, varnishHitRate: Double? = nil, uptimePercent24h: Double? = nil) {
        self.ttfbMs = ttfbMs
        self.lcpMs = lcpMs
        self.fcpMs = fcpMs
        self.cpuPercent = cpuPercent
        self.memoryPercent = memoryPercent
        self.diskPercent = diskPercent
        self.slowQueryCount = slowQueryCount
        self.activeConnections = activeConnections
        self.maxConnections = maxConnections
        self.redisHitRate = redisHitRate
        self.varnishHitRate = varnishHitRate
        self.uptimePercent24h = uptimePercent24h
    }

    /// Inputs from a store's latest metric values and its 24-hour uptime.
    public init(latest: MetricSnapshot, uptime24h: Double?) {
        self.init(
            ttfbMs: latest[.ttfbMs], lcpMs: latest[.lcpMs], fcpMs: latest[.fcpMs],
            cpuPercent: latest[.cpuPercent], memoryPercent: latest[.memoryPercent], diskPercent: latest[.diskPercent],
            slowQueryCount: latest[.slowQueryCount], activeConnections: latest[.activeConnections],
            maxConnections: latest[.maxConnections], redisHitRate: latest[.redisHitRate],
            varnishHitRate: latest[.varnishHitRate], uptimePercent24h: uptime24h ?? latest[.uptimePercent])
    }
}

/// One measured input of a factor and the 0–100 score its curve gave it.
public struct HealthMeasure: Sendable, Equatable {
    public var name: String
    public var value: Double
    public var unit: String
    public var score: Double
}

/// One factor's result: its score, its share of the total, and the inputs behind it.
public struct HealthFactorResult: Sendable, Equatable {
    public var factor: HealthFactor
    /// 0–100.
    public var score: Double
    /// The factor's weight after renormalising over the factors that had data (sums to 1).
    public var effectiveWeight: Double
    /// Points this factor adds to the total score.
    public var contribution: Double { score * effectiveWeight }
    public var measures: [HealthMeasure]
}

/// A store's health: 0–100 (nil with no data at all), per-factor detail, and what was missing.
public struct HealthReport: Sendable, Equatable {
    public var score: Int?
    public var factors: [HealthFactorResult]
    public var missing: [HealthFactor]

    public var band: HealthBand? { score.map(HealthBand.init(score:)) }
}
