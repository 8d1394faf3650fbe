import BotCore
import BotPlaybooks
import MagentoPlugin
import Testing
import TestSupport
import WooCommercePlugin

/// The playbooks perfbot ships, loaded as `serve` loads them: the shared ones, then each pack's, each checked
/// against its pack's rules and metrics.
@Suite struct ShippedPlaybookTests {
    static func shipped() throws -> PlaybookLibrary {
        let packs: [any PlatformPlugin] = [WooCommercePlugin(), MagentoPlugin()]
        return try PlaybookLibrary.load(roots: [PlaybookLibrary.sharedRoot!] + packs.compactMap(\.playbookRoot), packs: packs)
    }

    @Test func theShippedPlaybooksAreValidAndComplete() throws {
        let library = try Self.shipped()
        let required = ["high_memory", "critical_memory", "slow_queries", "query_explosion", "disk_filling", "disk_critical",
                        "cache_miss_storm", "connection_exhaustion", "container_oom", "response_time_degradation", "optimize"]
        for platform in [Platform.woocommerce, .magento] {
            for name in required {
                #expect(library.playbook(name, for: platform) != nil, "\(platform) lacks \(name)")
            }
        }
        // Every rule of the design has a playbook on both platforms.
        for rule in StandardRules.all {
            for platform in [Platform.woocommerce, .magento] {
                #expect(library.playbook(triggeredBy: rule.name, for: platform) != nil, "\(platform): nothing for \(rule.name)")
            }
        }
    }

    @Test func magentoCleansByDefaultAndPurgingIsIrreversible() throws {
        let library = try Self.shipped()
        for playbook in library.list(.magento) where playbook.name != "flush_cache_storage" {
            #expect(!playbook.actions.contains { $0.run.contains("cache:flush") }, "\(playbook.name) flushes shared storage")
        }
        let purge = try #require(library.playbook("optimize", for: .magento)?.actions.first { $0.tags.contains(.purge) })
        #expect(!purge.reversible && !purge.safe)
        #expect(library.playbook("flush_cache_storage", for: .magento)?.isRisky == true)
    }

    @Test func aStepMayTestOnlyItsOwnPlatformsMetrics() {
        let step = "name: tidy\ntitle: Tidy\nplatform: magento\ntrigger: manual\nactions:\n  - name: C\n"
            + "    run: [bin/magento, indexer:reindex]\n    when: %@ > 0\n    reversible: true\n    safe: true\n"
        let magento = PlaybookParser(knownRules: [], metrics: MetricCatalogue(MagentoPlugin().metrics))
        func parses(_ metric: String) -> Bool {
            if case .success = magento.parse(step.replacingOccurrences(of: "%@", with: metric), file: "tidy.yaml", platform: nil) { return true }
            return false
        }
        #expect(parses("invalid_indexers") && parses("memory_percent"))
        #expect(!parses("autoload_bytes"), "a WordPress metric in a Magento playbook")
    }
}
