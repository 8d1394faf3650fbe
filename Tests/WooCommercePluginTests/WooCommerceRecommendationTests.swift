import BotCore
import WooCommercePlugin
import Foundation
import Testing
import TestSupport

@Suite struct WooCommerceRecommendationTests {
    let advice = Recommendations(packs: [WooCommercePlugin()])

    @Test func eachRuleSaysWhatHelpsAndWhy() {
        let slow = MetricSnapshot(values: [.redisHitRate: 62, .autoloadBytes: 1_240_000, .ttfbMs: 1_430, .varnishHitRate: 22,
                                           .slowQueryCount: 12])
        let tips = advice.current(slow, platform: .woocommerce)
        #expect(tips.map(\.key) == ["object_cache", "autoload", "page_cache", "database_tools"])
        #expect(tips[0].evidence == "Only 60% of object cache lookups hit (80% or more is healthy).")
        #expect(tips[1].evidence == "About 1200 kB of options load on every page (keep it under 800 kB).")
        #expect(tips[2].evidence == "The first byte takes about 1400 ms and the page cache serves only 20% of pages.")
        #expect(tips[3].evidence == "About 10 slow queries in the last interval; the database tools show which ones.")
        // A WooCommerce store without an object cache is told to get one; a healthy store is told nothing.
        #expect(advice.current(MetricSnapshot(values: [.cpuPercent: 30]), platform: .woocommerce).map(\.key) == ["object_cache"])
        let healthy = MetricSnapshot(values: [.redisHitRate: 97, .ttfbMs: 240, .slowQueryCount: 0, .autoloadBytes: 300_000])
        #expect(advice.current(healthy, platform: .woocommerce).isEmpty)
        // A small wobble is the same evidence.
        let wobble = MetricSnapshot(values: [.redisHitRate: 61, .autoloadBytes: 1_230_000, .ttfbMs: 1_410, .varnishHitRate: 24,
                                             .slowQueryCount: 11])
        #expect(advice.current(wobble, platform: .woocommerce) == tips)
    }
}
