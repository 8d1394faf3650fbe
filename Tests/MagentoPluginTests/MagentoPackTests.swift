import BotCore
import BotPlaybooks
import Foundation
import MagentoPlugin
import Testing
import TestSupport
import WooCommercePlugin

@Suite struct MagentoPackTests {
    let pack = MagentoPlugin()
    let packs: [any PlatformPlugin] = [WooCommercePlugin(), MagentoPlugin()]

    @Test func everyRuleFiresOnItsFixtureAndNotAtItsThreshold() {
        #expect(pack.rules.count == 14)
        #expect(PackChecks.misbehavingRules(of: pack).isEmpty)
        #expect(pack.rules.first { $0.name == "high_cpu" }?.condition == "cpu_percent > 90 for 15 min", "tuned for reindexing")
    }

    @Test func everyPlaybookTriggersOnARuleOfThisPack() throws {
        #expect(try PackChecks.playbooks(of: pack, packs: packs).count >= 13)
        #expect(try PackChecks.foreignTriggers(of: pack, packs: packs).isEmpty)
    }

    @Test func everyPlaybooksExactArgvForASampleStore() throws {
        let store = Customer(id: StoreID("widgets-inc")!, platform: .magento, plan: .premium, contactEmail: "o@widgets.example",
                             container: "widgets-inc-app", settings: ["varnish_url": "http://varnish:6081/"])
        let listing = try PackChecks.argvListing(try PackChecks.playbooks(of: pack, packs: packs), pack: pack, customer: store)
        #expect(listing == PackChecks.fixture("argv.txt"), "the argv changed; if that is meant, Fixtures/argv.txt becomes:\n\(listing)")
    }

    @Test func invalidIndexersAreReadFromBothOutputLayouts() throws {
        let collector = try #require(pack.collectors.first { $0.name == "magento_indexers" })
        #expect(collector.argv == ["bin/magento", "indexer:status"])
        // Magento 2.3: `sprintf('%-50s ', $title . ':') . $status` per indexer.
        let lines = """
            Design Config Grid:                                Ready
            Customer Grid:                                     Reindex required
            Category Products:                                 Ready
            Product Categories:                                Processing
            Catalog Search:                                    Reindex required

            """
        #expect(try collector.read(lines, PackChecks.now).map(\.1) == [2])
        // Magento 2.4: a table with a Status column.
        let table = """
            +----------------------+------------------+------------------+-------------+---------------------+
            | ID                   | Title            | Status           | Update On   | Schedule Status     |
            +----------------------+------------------+------------------+-------------+---------------------+
            | catalog_product_price | Product Price   | Reindex required | Schedule    | idle (0 in backlog) |
            | cataloginventory_stock | Stock          | Ready            | Schedule    | idle (0 in backlog) |
            +----------------------+------------------+------------------+-------------+---------------------+

            """
        #expect(try collector.read(table, PackChecks.now).map(\.1) == [1])
        #expect(throws: PackCollectorError.self) { try collector.read("Could not open input file: bin/magento\n", PackChecks.now) }
    }

    @Test func disabledCacheTypesAreCounted() throws {
        let collector = try #require(pack.collectors.first { $0.name == "magento_cache" })
        let output = """
            Current status:
                                    config: 1
                                    layout: 1
                                block_html: 0
                               collections: 1
                                full_page: 0
                                 translate: 1

            """
        let readings = try collector.read(output, PackChecks.now)
        #expect(readings.map(\.0) == [.cacheTypesDisabled] && readings.map(\.1) == [2])
        #expect(throws: PackCollectorError.self) { try collector.read("In Bootstrap.php line 1: cannot connect\n", PackChecks.now) }
    }
}
