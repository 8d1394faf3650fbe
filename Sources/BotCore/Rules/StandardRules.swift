import Foundation

/// The eleven detection rules of ORIGINAL-DESIGN §2.2, which both platform plugins adopt.
public enum StandardRules {
    public static let all: [DetectionRule] = [
        DetectionRule(name: "high_memory", metric: .memoryPercent, .above, 85, for: 300, severity: .warning,
                      title: "High memory"),
        DetectionRule(name: "critical_memory", metric: .memoryPercent, .above, 95, for: 120, severity: .critical,
                      title: "Critical memory"),
        DetectionRule(name: "high_cpu", metric: .cpuPercent, .above, 90, for: 600, severity: .warning, title: "High CPU"),
        DetectionRule(name: "slow_queries", metric: .slowQuery3sCount, .above, 5, for: 300, mode: .sumOver,
                      severity: .warning, title: "Slow queries"),
        DetectionRule(name: "query_explosion", metric: .slowQueryCount, .above, 100, for: 60, mode: .sumOver,
                      severity: .critical, title: "Query explosion"),
        DetectionRule(name: "cache_miss_storm", metric: .redisHitRate, .below, 50, for: 600, severity: .warning,
                      title: "Cache miss storm"),
        DetectionRule(name: "disk_filling", metric: .diskPercent, .above, 90, severity: .warning, title: "Disk filling"),
        DetectionRule(name: "disk_critical", metric: .diskPercent, .above, 95, severity: .critical, title: "Disk critical"),
        DetectionRule(name: "connection_exhaustion", metric: .activeConnections, .above, 80, mode: .percentOf(.maxConnections),
                      severity: .warning, title: "Connection exhaustion"),
        DetectionRule(name: "container_oom", metric: .oomKills, .above, 0, for: 60, mode: .sumOver, severity: .critical,
                      title: "Container OOM"),
        DetectionRule(name: "response_time_degradation", metric: .ttfbMs, .above, 3000, for: 300, severity: .warning,
                      title: "Response time degradation"),
    ]
}
