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

/// The recommendation rules: each looks at a store's current readings and says what would help, and why.
public enum Recommendations {
    public static func current(_ latest: MetricSnapshot, platform: Platform) -> [Recommendation] {
        var found: [Recommendation] = []
        let redis = latest[.redisHitRate]
        if redis == nil, platform == .woocommerce {
            found.append(Recommendation(key: "object_cache", title: "Turn on a persistent object cache (Redis)",
                                        evidence: "No object cache hit rate is measured, so WordPress rebuilds its objects on every request."))
        } else if let redis, redis < 80 {
            found.append(Recommendation(key: "object_cache", title: "Give the object cache room to work",
                                        evidence: "Only \(bucket(redis, 5))% of object cache lookups hit (80% or more is healthy)."))
        }
        if let autoload = latest[.autoloadBytes], autoload > 800_000 {
            found.append(Recommendation(key: "autoload", title: "Clean up autoloaded options",
                                        evidence: "About \(Int((autoload / 100_000).rounded()) * 100) kB of options load on every page (keep it under 800 kB)."))
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
    static func bucket(_ value: Double, _ step: Double) -> Int { Int((value / step).rounded() * step) }
}
