import BotCore
import BotStore
import ConsolePlugin
import Foundation
import Logging
import Testing
import TestSupport

let now = Date(timeIntervalSince1970: 1_800_000_000)

/// A console over a real SQLite file holding the given stores and samples.
func console(_ customers: [Customer], samples: [MetricSample], issues: [(String, String, Severity)] = []) async throws
    -> (ConsolePlugin, CommandRouter) {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("perfbot-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    let store = try SQLiteStore(path: directory.appendingPathComponent("db.sqlite").path)
    try await store.upsert(customers, at: now)
    try await store.insert(samples)
    for (name, type, severity) in issues {
        try await store.openIssue(store: StoreID(name)!, type: type, severity: severity, title: type.replacingOccurrences(of: "_", with: " ").capitalized,
                                  at: now.addingTimeInterval(-600))
    }
    let plugin = ConsolePlugin(reader: store, clock: ManualClock(now), platforms: [.woocommerce, .magento])
    let router = try CommandRouter(plugins: [plugin], access: AccessList([SlackUserID("U0VIEWER1")!: .viewer]))
    return (plugin, router)
}

func customer(_ name: String, _ platform: Platform) -> Customer {
    Customer(id: StoreID(name)!, platform: platform, plan: .premium, contactEmail: "o@\(name).example", container: "c")
}

/// Samples of several metrics for one store at `minutesAgo`.
func at(_ store: String, _ minutesAgo: Int, _ values: [MetricName: Double]) -> [MetricSample] {
    values.map { MetricSample(store: StoreID(store)!, metric: $0.key, at: now.addingTimeInterval(TimeInterval(-minutesAgo * 60)), value: $0.value) }
}

func ask(_ router: CommandRouter, _ text: String) async -> String {
    await router.route(text, user: SlackUserID("U0VIEWER1")!, channel: nil, logger: Logger(label: "test")).plainText
}

@Suite struct ConsolePluginTests {
    let customers = [customer("acme-store", .woocommerce), customer("widgets-inc", .magento), customer("quiet-shop", .woocommerce)]
    var samples: [MetricSample] {
        at("acme-store", 1, [.cpuPercent: 94, .memoryPercent: 88, .diskPercent: 40])
            + at("widgets-inc", 1, [.cpuPercent: 30, .memoryPercent: 50, .diskPercent: 40, .ttfbMs: 150])
            + at("quiet-shop", 120, [.cpuPercent: 10])
    }

    @Test func fleetShowsTotalsDistributionAndWorstFirst() async throws {
        let (_, router) = try await console(customers, samples: samples, issues: [("acme-store", "high_cpu", .warning),
                                                                                   ("acme-store", "critical_memory", .critical)])
        let text = await ask(router, "fleet")
        #expect(text.contains("Customers: 3"))
        #expect(text.contains("Open issues: 2"))
        #expect(text.contains("Critical: 1"))
        // acme: resources alone, worst of cpu 94 → 50 − 9/15·50 = 20 (critical); widgets 100 (healthy).
        #expect(text.contains("50% 🟢 Healthy (≥80) (1)"))
        #expect(text.contains("50% 🔴 Critical (<50) (1)"))
        let rows = text.split(separator: "\n").filter { $0.hasPrefix("acme-store") || $0.hasPrefix("widgets-inc") || $0.hasPrefix("quiet-shop") }
        #expect(rows.map { String($0.prefix(11)) } == ["acme-store ", "widgets-inc", "quiet-shop "])
        #expect(text.contains("1 without recent data"))
    }

    @Test func fleetSortsAndFilters() async throws {
        let (_, router) = try await console(customers, samples: samples)
        let byMemory = await ask(router, "fleet --sort memory --platform woocommerce")
        #expect(byMemory.contains("Fleet overview · WooCommerce"))
        #expect(!byMemory.contains("widgets-inc"))
        #expect(byMemory.contains("Sorted by memory."))
        let usage = await ask(router, "fleet --platform shopify")
        #expect(usage.contains("Usage: `/perf fleet"))
    }

    @Test func storeShowsScoreFactorsMissingDataAndIssues() async throws {
        let (_, router) = try await console(customers, samples: samples + at("acme-store", 1440, [.cpuPercent: 50]),
                                            issues: [("acme-store", "high_cpu", .warning)])
        let text = await ask(router, "store acme-store")
        #expect(text.contains("acme-store · WooCommerce · premium plan"))
        #expect(text.contains("🔴 *20 / 100* · critical · ↓ 80 vs 24 h ago"))
        #expect(text.contains("Resource usage (100%): CPU 94% · Memory 88% · Disk 40%"))
        #expect(text.contains("No data for Page speed, Database health, Cache efficiency, Uptime"))
        #expect(text.contains("🟠 High Cpu — warning, since 10 min ago"))
    }

    @Test func unknownStoreSuggestsTheClosestNames() async throws {
        let (_, router) = try await console(customers, samples: samples)
        #expect(await ask(router, "store acme") == "No store named `acme`. Did you mean `acme-store`?")
        #expect(await ask(router, "store widget-inc") == "No store named `widget-inc`. Did you mean `widgets-inc`?")
    }

    @Test func aStoreWithoutRecentDataSaysSo() async throws {
        let (_, router) = try await console(customers, samples: samples)
        let text = await ask(router, "store quiet-shop")
        #expect(text.contains("No recent metrics for this store"))
        #expect(text.contains("No open issues"))
    }

    @Test func anEmptyFleetSaysHowToAddStores() async throws {
        let (_, router) = try await console([], samples: [])
        #expect(await ask(router, "fleet").contains("perfbot customers import FILE"))
    }
}
