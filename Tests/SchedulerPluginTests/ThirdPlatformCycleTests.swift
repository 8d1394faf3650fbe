import BotCore
import BotPlaybooks
import BotStore
import Foundation
import Logging
import PerfbotApp
import SchedulerPlugin
import Testing
import TestSupport

/// A store of a platform only a pack knows is stored and checked like any other: nothing in the schema or the
/// check cycle lists platforms.
@Suite struct ThirdPlatformCycleTests {
    static let shopware = Platform("shopware", displayName: "Shopware")
    /// The pack's own metric: the core has never heard of it.
    static let queueBacklog = MetricName("queue_backlog", plainName: "messages waiting in the queue")
    static let rules = StandardRules.all + [DetectionRule(name: "queue_backlog", metric: queueBacklog, .above, 100, severity: .warning,
                                                          title: "Message queue backlog")]

    @Test func aShopwareStoreIsImportedAndItsCheckCycleRuns() async throws {
        let bot = try await SchedulerBot(customers: [shop("acme-store")],
                                          metrics: MetricCatalogue(Wiring.platforms.flatMap(\.metrics) + [Self.queueBacklog]))
        let store = Customer(id: StoreID("sw-shop")!, platform: Self.shopware, plan: .premium, contactEmail: "o@sw-shop.example",
                             container: "sw-shop-app")
        try await bot.store.upsert(store, at: bot.clock.now)
        #expect(try await bot.store.customer(store.id)?.platform == Self.shopware)
        try await bot.feed("sw-shop", .memoryPercent, Array(repeating: 92, count: 7))
        try await bot.feed("sw-shop", Self.queueBacklog, [150])
        let cycle = bot.wiring.checkCycle(inline: true)
        let report = try await CheckCycle(store: bot.store,
                                          rules: { $0.platform == Self.shopware ? Self.rules : StandardRules.all },
                                          automation: cycle.automationForTesting, clock: bot.clock,
                                          settings: CheckCycle.Settings(alertsChannel: "C0ALERTS"), logger: Logger(label: "test"),
                                          tokens: Wiring.approvalToken).run()
        #expect(report.errors.isEmpty)
        #expect(Set(report.opened.filter { $0.store == store.id }.map(\.what)) == ["high_memory (warning)", "queue_backlog (warning)"])
        let alerts = try await bot.store.pendingMessages().compactMap(\.message.slackText)
        #expect(alerts.contains { $0.contains("*sw-shop* (Shopware)") && $0.contains("No playbook handles this") }, "\(alerts)")
    }
}
