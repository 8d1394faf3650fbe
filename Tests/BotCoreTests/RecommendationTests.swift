import BotCore
import Foundation
import Testing

@Suite struct RecommendationTests {
    /// The rules every store shares; a platform's own come from its pack (WordPress's: the pack's tests).
    @Test func theSharedRulesSayWhatHelpsAndWhy() throws {
        let platform = try #require(Platform(rawValue: "shopware"))
        let slow = MetricSnapshot(values: [.redisHitRate: 62, .ttfbMs: 1_430, .varnishHitRate: 22,
                                           .slowQueryCount: 12])
        let tips = Recommendations().current(slow, platform: platform)
        #expect(tips.map(\.key) == ["object_cache", "page_cache", "database_tools"])
        #expect(tips[0].evidence == "Only 60% of object cache lookups hit (80% or more is healthy).")
        // Without a platform rule, a store measuring no object cache is not told to get one.
        #expect(Recommendations().current(MetricSnapshot(values: [.cpuPercent: 30]), platform: platform).isEmpty)
        // A platform's own rules come first where the order says so.
        let own = Recommendations(platformRules: [platform: { _ in [Recommendation(key: "autoload", title: "A", evidence: "B")] }])
        #expect(own.current(slow, platform: platform).map(\.key) == ["object_cache", "autoload", "page_cache", "database_tools"])
    }
}
