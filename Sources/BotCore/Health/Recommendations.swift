import Foundation

/// A 💡 recommendation (ORIGINAL-DESIGN §1.2) with its evidence in plain words.
public struct Recommendation: Sendable, Equatable {
    /// Stable per kind (`object_cache`, `autoload`, `page_cache`, `database_tools`).
    public var key: String
    public var title: String
    /// What the measurements show, rounded so that a small wobble is not new evidence.
    public var evidence: String

    public init(key: String, title: String, evidence: String) {
        self.key = key
        self.title = title
        self.evidence = evidence
    }
}

/// The recommendation rules: each looks at a store's current readings and says what would help, and why. The rules
/// every store shares are here; a platform's own (WordPress's object cache and autoloaded options) come from its pack.
public struct Recommendations: Sendable {
    /// Each platform's own rules, from its pack.
    let platformRules: [Platform: @Sendable (MetricSnapshot) -> [Recommendation]]

    public init(platformRules: [Platform: @Sendable (MetricSnapshot) -> [Recommendation]] = [:]) {
        self.platformRules = platformRules
    }

    /// The order recommendations are shown in: the cheapest fixes first.
    static let order = ["object_cache", "autoload", "page_cache", "database_tools"]

    public func current(_ latest: MetricSnapshot, platform: Platform) -> [Recommendation] {
        let found = (platformRules[platform]?(latest) ?? []) + Self.shared(latest)
        return found.enumerated().sorted { left, right in
            let (a, b) = (Self.order.firstIndex(of: left.element.key) ?? Self.order.count,
                          Self.order.firstIndex(of: right.element.key) ?? Self.order.count)
            return a == b ? left.offset < right.offset : a < b
        }.map(\.element)
    }

    /// The rules every store shares.
    static func shared(_ latest: MetricSnapshot) -> [Recommendation] {
        var found: [Recommendation] = []
        if let redis = latest[.redisHitRate], redis < 80 {
            found.append(Recommendation(key: "object_cache", title: "Give the object cache room to work",
                                        evidence: "Only \(bucket(redis, 5))% of object cache lookups hit (80% or more is healthy)."))
        }
        if let ttfb = latest[.ttfbMs], ttfb > 800, (latest[.varnishHitRate] ?? 0) < 50 {
            let cache = latest[.varnishHitRate].map { "the page cache serves only \(bucket($0, 10))% of pages" } ?? "no page cache is measured"
            found.append(Recommendation(key: "page_cache", title: "Serve pages from a full-page cache",
                                        evidence: "The first byte takes about \(bucket(ttfb, 100)) ms and \(cache)."))
        }
        if let slow = latest[.slowQueryCount], slow >= 5 {
            found.append(Recommendation(key: "database_tools", title: "Look at the slowest database queries",
                                        evidence: "About \(bucket(slow, 5)) slow queries in the last interval; the database tools show which ones."))
        }
        return found
    }

    /// `value` rounded to a multiple of `step`.
    public static func bucket(_ value: Double, _ step: Double) -> Int { Int((value / step).rounded() * step) }
}
