import BotCore
import BotStore
import Foundation
import MagentoPlugin
import WooCommercePlugin

/// The demo's platforms, as their packs declare them.
private extension Platform {
    static let woocommerce = WooCommercePlugin().platform
    static let magento = MagentoPlugin().platform
}

/// A simulated fleet of WooCommerce and Magento stores with minute-level metrics, for trying perfbot.
public struct DemoFleet: Sendable {
    /// How a simulated store behaves.
    struct Profile {
        var name: String
        var platform: Platform
        var plan: Plan
        var cpu: Double
        var memory: Double
        var disk: Double
        var ttfb: Double
        var redis: Double
        var varnish: Double
        var slowQueries: Double
        /// Memory growth per day, percentage points (a leak or a growing catalogue).
        var memoryDrift: Double = 0
        /// Minutes of downtime in the last day.
        var downtimeMinutes: Int = 0
        var issues: [(type: String, severity: Severity, title: String, minutesAgo: Int)] = []
    }

    static let profiles: [Profile] = [
        Profile(name: "acme-store", platform: .woocommerce, plan: .premium, cpu: 94, memory: 88, disk: 61, ttfb: 2100,
                redis: 71, varnish: 0, slowQueries: 9, memoryDrift: 6, downtimeMinutes: 12,
                issues: [("high_cpu", .warning, "High CPU", 42), ("slow_queries", .warning, "Slow queries", 18),
                         ("response_time_degradation", .warning, "Response time degradation", 25)]),
        Profile(name: "widgets-inc", platform: .magento, plan: .premium, cpu: 45, memory: 72, disk: 55, ttfb: 780,
                redis: 88, varnish: 74, slowQueries: 2, issues: [("cache_miss_storm", .warning, "Cache miss storm", 35)]),
        Profile(name: "northwind-outfitters", platform: .magento, plan: .premium, cpu: 38, memory: 96.5, disk: 48,
                ttfb: 640, redis: 93, varnish: 90, slowQueries: 1, memoryDrift: 9,
                issues: [("critical_memory", .critical, "Critical memory", 6)]),
        Profile(name: "bluebird-books", platform: .woocommerce, plan: .basic, cpu: 22, memory: 51, disk: 96.4,
                ttfb: 310, redis: 97, varnish: 0, slowQueries: 0,
                issues: [("disk_critical", .critical, "Disk critical", 55)]),
        Profile(name: "copper-kettle", platform: .woocommerce, plan: .basic, cpu: 31, memory: 58, disk: 44, ttfb: 260,
                redis: 96, varnish: 0, slowQueries: 0),
        Profile(name: "driftwood-decor", platform: .woocommerce, plan: .premium, cpu: 27, memory: 63, disk: 52,
                ttfb: 220, redis: 98, varnish: 0, slowQueries: 0),
        Profile(name: "evergreen-garden", platform: .magento, plan: .premium, cpu: 41, memory: 66, disk: 58, ttfb: 350,
                redis: 95, varnish: 93, slowQueries: 1),
        Profile(name: "foxglove-tea", platform: .woocommerce, plan: .basic, cpu: 18, memory: 47, disk: 39, ttfb: 190,
                redis: 99, varnish: 0, slowQueries: 0),
        Profile(name: "granite-tools", platform: .magento, plan: .premium, cpu: 57, memory: 74, disk: 67, ttfb: 520,
                redis: 91, varnish: 88, slowQueries: 3),
        Profile(name: "harbor-coffee", platform: .woocommerce, plan: .basic, cpu: 25, memory: 55, disk: 41, ttfb: 240,
                redis: 97, varnish: 0, slowQueries: 0),
        Profile(name: "indigo-threads", platform: .woocommerce, plan: .premium, cpu: 35, memory: 61, disk: 63, ttfb: 280,
                redis: 96, varnish: 0, slowQueries: 1),
        Profile(name: "juniper-pets", platform: .woocommerce, plan: .basic, cpu: 29, memory: 69, disk: 71, ttfb: 330,
                redis: 94, varnish: 0, slowQueries: 0, memoryDrift: 3),
        Profile(name: "kestrel-cycles", platform: .magento, plan: .premium, cpu: 48, memory: 70, disk: 49, ttfb: 410,
                redis: 94, varnish: 91, slowQueries: 2),
        Profile(name: "lumen-lighting", platform: .magento, plan: .basic, cpu: 52, memory: 79, disk: 57, ttfb: 1250,
                redis: 85, varnish: 81, slowQueries: 4, downtimeMinutes: 4),
        Profile(name: "maple-market", platform: .woocommerce, plan: .premium, cpu: 33, memory: 57, disk: 45, ttfb: 210,
                redis: 98, varnish: 0, slowQueries: 0),
        Profile(name: "nimbus-audio", platform: .magento, plan: .premium, cpu: 44, memory: 68, disk: 62, ttfb: 380,
                redis: 96, varnish: 94, slowQueries: 1),
        Profile(name: "orchard-organics", platform: .woocommerce, plan: .basic, cpu: 24, memory: 53, disk: 36, ttfb: 230,
                redis: 97, varnish: 0, slowQueries: 0),
        Profile(name: "pebble-jewelry", platform: .woocommerce, plan: .premium, cpu: 39, memory: 84, disk: 50, ttfb: 450,
                redis: 90, varnish: 0, slowQueries: 2, memoryDrift: 4),
        Profile(name: "quartz-electronics", platform: .magento, plan: .premium, cpu: 61, memory: 77, disk: 91.5,
                ttfb: 560, redis: 92, varnish: 89, slowQueries: 3,
                issues: [("disk_filling", .warning, "Disk filling", 80)]),
        Profile(name: "riverbend-wines", platform: .woocommerce, plan: .basic, cpu: 21, memory: 49, disk: 33, ttfb: 200,
                redis: 99, varnish: 0, slowQueries: 0),
    ]

    public let storeCount: Int
    /// How much history to create, in minutes.
    public let minutes: Int

    public init(storeCount: Int = 20, days: Int = 2) {
        self.init(storeCount: storeCount, minutes: days * 1440)
    }

    public init(storeCount: Int, minutes: Int) {
        self.storeCount = min(storeCount, Self.profiles.count)
        self.minutes = max(1, minutes)
    }

    /// Writes the customers, `minutes` of minute samples ending at `now`, and the open issues.
    /// - Returns: the number of samples written.
    @discardableResult
    public func populate(_ store: SQLiteStore, now: Date) async throws -> Int {
        let end = Date(timeIntervalSince1970: (now.timeIntervalSince1970 / 60).rounded(.down) * 60)
        let profiles = Array(Self.profiles.prefix(storeCount))
        try await store.upsert(profiles.map(customer), at: now)
        var written = 0
        for (index, profile) in profiles.enumerated() {
            var random = SplitMix64(seed: UInt64(index + 1) &* 0x9E37_79B9)
            var samples: [MetricSample] = []
            samples.reserveCapacity(minutes * 11)
            for minute in stride(from: minutes - 1, through: 0, by: -1) {
                let at = end.addingTimeInterval(-TimeInterval(minute * 60))
                samples += self.samples(profile, at: at, minutesAgo: minute, random: &random)
            }
            written += try await store.insert(samples)
        }
        for profile in profiles where profile.plan.isPremium {
            guard let id = StoreID(profile.name) else { continue }
            try await store.recordTraffic(id, hours: Self.traffic(end: end, seed: UInt64(profile.name.utf8.count)),
                                          cursor: SlowLogCursor(path: "/var/log/nginx/\(profile.name).access.log", identity: "demo", offset: 0),
                                          at: now)
        }
        for profile in profiles {
            guard let id = StoreID(profile.name) else { continue }
            for issue in profile.issues {
                try await store.openIssue(store: id, type: issue.type, severity: issue.severity, title: issue.title,
                                          at: now.addingTimeInterval(-TimeInterval(issue.minutesAgo * 60)))
            }
        }
        return written
    }

    /// A week of a shop's hourly traffic: busier in the evening and at the weekend, a fifth of it crawlers.
    static func traffic(end: Date, seed: UInt64) -> [TrafficHour] {
        var random = SplitMix64(seed: seed &* 0x9E37_79B9_7F4A_7C15)
        let last = Int(end.timeIntervalSince1970) / 3600
        return (last - 7 * 24 + 1...last).map { hour in
            let clock = hour % 24, weekday = ((hour / 24 + 3) % 7)
            let curve = 0.25 + (8...23 ~= clock ? 0.6 : 0) + (18...22 ~= clock ? 0.9 : 0) + (weekday >= 5 ? 0.3 : 0)
            let requests = Int(400 * curve * Double.random(in: 0.9...1.1, using: &random))
            let bots = requests / 5
            let notFound = requests / 40
            let bytes = requests * 58_000
            return TrafficHour(
                hour: Date(timeIntervalSince1970: TimeInterval(hour * 3600)), requests: requests, bots: bots, bytes: bytes,
                statusClasses: [0, 0, requests - notFound - requests / 200, requests / 200, notFound, 0], notFound: notFound,
                bytesByKind: ["images": bytes * 55 / 100, "html": bytes * 22 / 100, "scripts": bytes * 12 / 100,
                              "styles": bytes * 5 / 100, "fonts": bytes * 3 / 100, "api": bytes * 3 / 100],
                crawlers: ["Googlebot": .init(requests: bots * 40 / 100, kind: .search, abusive: false, evidence: "user agent"),
                           "AhrefsBot": .init(requests: bots * 30 / 100, kind: .seo, abusive: false, evidence: "user agent"),
                           "Bingbot": .init(requests: bots * 15 / 100, kind: .search, abusive: false, evidence: "user agent"),
                           "MJ12bot": .init(requests: bots * 15 / 100, kind: .seo, abusive: true, evidence: "user agent")],
                paths: ["/": requests / 6, "/product-category/tea/": requests / 12, "/cart/": requests / 20, "/checkout/": requests / 40],
                countries: ["DE": requests / 2, "AT": requests / 5, "CH": requests / 8, "NL": requests / 10])
        }
    }

    func customer(_ profile: Profile) -> Customer {
        // The names above are valid store ids; the fallback is never taken.
        let id = StoreID(profile.name) ?? StoreID("demo-store")!
        return Customer(
            id: id, platform: profile.platform, plan: profile.plan,
            contactEmail: "owner@\(profile.name).example", url: "https://\(profile.name).example",
            container: "\(profile.name)-app", executor: .docker,
            automationLevel: profile.plan == .premium ? .safeAutoFix : .notifyOnly,
            limits: ResourceLimits(memoryMB: profile.plan == .premium ? 4096 : 2048,
                                   cpuCores: profile.plan == .premium ? 2 : 1, diskGB: profile.plan == .premium ? 80 : 40),
            catalogSize: 500 + profile.name.count * 137, ordersPerDay: 20 + profile.name.count * 9)
    }

    /// One minute of samples: a daily traffic wave, noise, drift towards today's level, downtime in the last day.
    func samples(_ profile: Profile, at: Date, minutesAgo: Int, random: inout SplitMix64) -> [MetricSample] {
        guard let id = StoreID(profile.name) else { return [] }
        let hour = at.timeIntervalSince1970.truncatingRemainder(dividingBy: 86400) / 3600
        let wave = sin((hour - 8) / 24 * 2 * .pi)  // busiest in the afternoon (UTC)
        let daysAgo = Double(minutesAgo) / 1440
        func noise(_ spread: Double) -> Double { (random.nextUnit() - 0.5) * 2 * spread }
        func percent(_ value: Double) -> Double { min(100, max(0, value)) }
        let recent = minutesAgo < 60  // the current state is as profiled; earlier it wobbles around it
        let cpu = percent(profile.cpu + (recent ? 0 : wave * 8) + noise(2))
        let memory = percent(profile.memory - profile.memoryDrift * daysAgo + noise(0.6))
        let disk = percent(profile.disk - 0.3 * daysAgo + noise(0.05))
        let ttfb = max(60, profile.ttfb * (1 + (recent ? 0 : wave * 0.15)) + noise(profile.ttfb * 0.05))
        let down = minutesAgo < profile.downtimeMinutes * 20 && minutesAgo % 20 == 0
        var values: [(MetricName, Double)] = [
            (.cpuPercent, cpu), (.memoryPercent, memory), (.diskPercent, disk), (.ttfbMs, ttfb),
            (.redisHitRate, percent(profile.redis + noise(1))),
            (.slowQueryCount, max(0, (profile.slowQueries + noise(1.5)).rounded())),
            (.activeConnections, max(1, (40 + cpu * 0.8 + noise(5)).rounded())),
            (.uptimePercent, down ? 0 : 100),
            (.requests, max(0, (300 + wave * 200 + noise(40)).rounded())),
        ]
        if profile.platform == .magento { values.append((.varnishHitRate, percent(profile.varnish + noise(1.5)))) }
        if minutesAgo % 15 == 0 { values.append((.maxConnections, 151)) }
        if minutesAgo % 360 == 0 {
            values.append((.lcpMs, profile.ttfb * 2.4 + 900 + noise(100)))
            values.append((.fcpMs, profile.ttfb * 1.3 + 500 + noise(60)))
        }
        return values.map { MetricSample(store: id, metric: $0.0, at: at, value: $0.1) }
    }
}
