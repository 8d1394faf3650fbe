import Foundation

extension MetricName {
    /// What a customer calls it (`memory use`, `slow database queries`).
    public var plainName: String {
        switch self {
        case .ttfbMs: "the time to the first byte of a page"
        case .fcpMs: "the time to the first paint"
        case .lcpMs: "the time to the largest paint"
        case .slowQueryCount: "slow database queries"
        case .slowQuery3sCount: "database queries slower than 3 seconds"
        case .activeConnections: "database connections in use"
        case .maxConnections: "the database's connection limit"
        case .tableSizeBytes: "the size of the database tables"
        case .redisHitRate: "the share of requests answered from the Redis cache"
        case .redisMemoryBytes: "the memory Redis uses"
        case .redisMemoryPercent: "the memory Redis uses against its limit"
        case .redisEvictions: "cache entries Redis dropped for lack of memory"
        case .varnishHitRate: "the share of pages answered from the Varnish cache"
        case .cpuPercent: "processor use"
        case .memoryPercent: "memory use"
        case .diskPercent: "disk space used"
        case .uptimePercent: "availability"
        case .requests: "requests"
        case .oomKills: "processes stopped for lack of memory"
        case .autoloadBytes: "the options WordPress loads on every page"
        case .invalidIndexers: "Magento indexes that need a rebuild"
        case .cacheTypesDisabled: "Magento cache types switched off"
        case .cronBacklog: "WordPress scheduled tasks that are overdue"
        case .httpStatusCode: "the status code the store's page answered with"
        case .phpFpmBusyPercent: "busy PHP workers"
        case .httpDNSMs: "the time to look up the store's address"
        case .httpConnectMs: "the time to connect to the store"
        case .httpTLSMs: "the time to set up the secure connection"
        case .httpTotalMs: "the time to load the page"
        }
    }

    /// The unit its values are shown in (`%`, `ms`, `bytes`, or none).
    public var unit: String {
        if isPercent { return "%" }
        switch self {
        case .ttfbMs, .fcpMs, .lcpMs, .httpDNSMs, .httpConnectMs, .httpTLSMs, .httpTotalMs: return "ms"
        case .tableSizeBytes, .redisMemoryBytes, .autoloadBytes: return "bytes"
        default: return ""
        }
    }
}

extension DetectionRule {
    /// The condition in plain words for a customer, with the latest value when known:
    /// `Memory use has stayed above 85% for 5 minutes; it is now 91.2%.`
    public func inPlainWords(now value: Double?) -> String {
        let bound = Wording.measure(threshold, unit: metric.unit)
        let side = comparison == .above ? "above" : "below"
        let minutes = Int(window / 60)
        let sentence: String
        switch mode {
        case .sustained:
            let subject = metric.plainName.prefix(1).uppercased() + metric.plainName.dropFirst()
            sentence = minutes > 0 ? "\(subject) has stayed \(side) \(bound) for \(minutes) minutes"
                : "\(subject) is \(side) \(bound)"
        case .sumOver:
            let span = minutes > 1 ? "the last \(minutes) minutes" : "the last minute"
            sentence = threshold == 0 && comparison == .above
                ? "There were \(metric.plainName) in \(span)"
                : "There were \(comparison == .above ? "more" : "fewer") than \(bound) \(metric.plainName) in \(span)"
        case let .percentOf(other):
            let subject = metric.plainName.prefix(1).uppercased() + metric.plainName.dropFirst()
            sentence = "\(subject) reached \(Wording.number(threshold))% of \(other.plainName)"
        }
        guard let value, mode == .sustained else { return sentence + "." }
        return sentence + "; it is now \(Wording.measure(value, unit: metric.unit))."
    }
}
