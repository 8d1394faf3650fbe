import BotCore
import BotPlaybooks
import Foundation
import Testing
import TestSupport

/// A platform the core has never heard of: a pack declares it, its playbooks load from its own folder and
/// plan for its stores, and nothing in the core lists platforms.
@Suite struct ThirdPlatformTests {
    struct ShopwarePack: PlatformPlugin {
        let name = "shopware"
        let platform = Platform("shopware", displayName: "Shopware")
        /// Its own metric, which only it declares.
        static let queueBacklog = MetricName("queue_backlog", plainName: "messages waiting in the queue")
        var metrics: [MetricName] { [Self.queueBacklog] }
        var rules: [DetectionRule] {
            StandardRules.all + [DetectionRule(name: "queue_backlog", metric: Self.queueBacklog, .above, 100, severity: .warning,
                                               title: "Message queue backlog")]
        }
        func templateDefaults(for customer: Customer) -> [TemplateVariable: String] { [.appPath: "/var/www/shopware"] }
    }

    @Test func aPackIsAllItTakes() throws {
        let pack = ShopwarePack()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("packs-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("shopware"), withIntermediateDirectories: true)
        try """
            name: queue_backlog
            title: Work off the message queue
            platform: shopware
            trigger: queue_backlog
            actions:
              - name: Consume queued messages
                run: [bin/console, messenger:consume, --time-limit=60]
                when: queue_backlog > 100
                reversible: true
                safe: true

            """.write(to: directory.appendingPathComponent("shopware/queue_backlog.yaml"), atomically: true, encoding: .utf8)
        // Its steps may test its own metric, which the core alone does not know.
        #expect(throws: PlaybookErrors.self) {
            try PlaybookLibrary.load(directory: directory.path, knownRules: [pack.platform: Set(pack.rules.map(\.name))])
        }
        let library = try PlaybookLibrary.load(roots: [directory.path], packs: [pack])
        let playbook = try #require(library.playbook(triggeredBy: "queue_backlog", for: pack.platform))
        #expect(pack.platform.displayName == "Shopware" && Platform(rawValue: "shopware") == pack.platform)
        let store = Customer(id: StoreID("sw-shop")!, platform: pack.platform, plan: .premium, contactEmail: "o@sw.example",
                             container: "sw-shop-app")
        let plan = try JobPlanner(executors: ExecutorFactory(), platforms: [pack]).plan(playbook, for: store, held: [:])
        #expect(plan.map(\.argv) == [["docker", "exec", "-w", "/var/www/shopware", "sw-shop-app", "timeout", "-k", "5", "60",
                                      "bin/console", "messenger:consume", "--time-limit=60"]])
    }
}

@Suite struct SharedPlaybookTests {
    @Test func oneFileServesEveryPackWithItsOwnStepsWhereTheyDiffer() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("shared-\(UUID().uuidString)")
        for folder in ["shared", "magento"] {
            try FileManager.default.createDirectory(at: directory.appendingPathComponent(folder), withIntermediateDirectories: true)
        }
        try """
            name: tidy
            title: Tidy {platform}
            trigger: manual
            actions:
              - name: Everyone
                run: [true]
                reversible: true
                safe: true
              - name: WooCommerce only
                only: woocommerce
                run: [wp, cache, flush]
                reversible: true
                safe: true

            """.write(to: directory.appendingPathComponent("shared/tidy.yaml"), atomically: true, encoding: .utf8)
        let rules: [Platform: Set<String>] = [.woocommerce: [], .magento: []]
        let library = try PlaybookLibrary.load(directory: directory.path, knownRules: rules)
        #expect(library.playbook("tidy", for: .woocommerce)?.actions.map(\.name) == ["Everyone", "WooCommerce only"])
        #expect(library.playbook("tidy", for: .magento)?.actions.map(\.name) == ["Everyone"])
        #expect(library.playbook("tidy", for: .magento)?.title == "Tidy Magento")
        // A platform's own file of the same name wins over the shared one.
        try """
            name: tidy
            title: Tidy Magento its own way
            platform: magento
            trigger: manual
            actions:
              - name: Magento's own
                run: [bin/magento, cache:clean]
                reversible: true
                safe: true

            """.write(to: directory.appendingPathComponent("magento/tidy.yaml"), atomically: true, encoding: .utf8)
        let overridden = try PlaybookLibrary.load(directory: directory.path, knownRules: rules)
        #expect(overridden.playbook("tidy", for: .magento)?.actions.map(\.name) == ["Magento's own"])
        #expect(overridden.playbook("tidy", for: .woocommerce)?.actions.count == 2)
    }
}
