import BotCore
import BotPlaybooks
import BotStore
import Foundation
import Testing
import TestSupport

@Suite struct OperationsCommandTests {
    @Test func aRunIsRecordedStepByStepWithWhoAskedForIt() async throws {
        let bot = try await OperationsBot(customers: [woo()])
        _ = await bot.ask("optimize acme-store")
        let actions = try await bot.store.actions(of: StoreID("acme-store")!)
        #expect(actions.map(\.action) == ["Flush the object cache", "Delete expired transients",
                                          "Measure autoloaded options", "Rebuild permalinks"])
        #expect(actions.allSatisfy { $0.success && $0.exitCode == 0 })
        #expect(actions.first?.argv.contains(#""wp","cache","flush""#) == true)
        #expect(try await bot.store.interventions().map(\.admin) == ["U0OPS0001"])
        #expect(try await bot.store.auditEntries().map(\.action) == ["job.succeeded"])
    }

    @Test func aFailingStepIsReportedWithItsReason() async throws {
        let directory = try temporaryDirectory()
        let bot = try await OperationsBot(customers: [woo()])
        // Replace the docker stand-in with one that fails.
        let failing = try StandIn(name: "docker", in: directory, exitCode: 4)
        try FileManager.default.removeItem(atPath: bot.docker.path)
        try FileManager.default.copyItem(atPath: failing.path, toPath: bot.docker.path)
        let reply = await bot.ask("run cache_miss_storm acme-store")
        #expect(reply.contains("❌ Check the Redis object cache — exit 4"))
        #expect(reply.contains("2 of 2 steps failed"))
    }

    @Test func riskyPlaybooksNeedAnAdminButAnyoneMayDryRun() async throws {
        let bot = try await OperationsBot(customers: [woo()])
        let refused = await bot.ask("run slow_queries acme-store")
        #expect(refused.contains("`slow_queries` kills running queries ('Kill queries running longer than 30 s' is neither "
            + "safe nor reversible): running it needs an admin, and you are an operator"))
        #expect(await bot.ask("run slow_queries acme-store --dry-run").contains("Dry run"))
        #expect(bot.docker.runs().isEmpty)
        #expect(await bot.ask("run slow_queries acme-store", as: admin).contains("Done in"))
        #expect(bot.docker.runs().count == 2)
        #expect(await bot.ask("optimize acme-store", as: viewer).contains("needs the operator role"))
    }

    @Test func exceptionsSkipTheTaggedActionsOfARequestedRun() async throws {
        let bot = try await OperationsBot(customers: [woo(exceptions: ["skip_restarts"])], metrics: [.memoryPercent: 97])
        let reply = await bot.ask("run critical_memory acme-store")
        #expect(reply.contains("⏭️ Reload PHP-FPM skipped: acme-store excludes restarts a service (skip_restarts)"))
        #expect(bot.docker.runs().count == 1)
    }

    @Test func automationIsShownToAllAndChangedByAdminsOnly() async throws {
        let bot = try await OperationsBot(customers: [woo()])
        #expect(await bot.ask("automation acme-store", as: viewer).contains("Level 2 — safe auto-fix"))
        #expect(await bot.ask("automation acme-store level 3").contains("needs the admin role"))
        let changed = await bot.ask("automation acme-store level 3", as: admin)
        #expect(changed.contains("Level 3 — full auto"))
        _ = await bot.ask("automation acme-store skip restarts purge", as: admin)
        var customer = try #require(try await bot.store.customer(StoreID("acme-store")!))
        #expect(customer.automationLevel == .fullAuto)
        #expect(customer.automationExceptions == ["skip_restarts", "skip_purges"])
        _ = await bot.ask("automation acme-store unskip skip_restarts", as: admin)
        customer = try #require(try await bot.store.customer(StoreID("acme-store")!))
        #expect(customer.automationExceptions == ["skip_purges"])
        #expect(await bot.ask("automation acme-store skip naps", as: admin).contains("`naps` is not an exception"))
        #expect(try await bot.store.auditEntries().filter { $0.action == "automation.change" }.count == 3)
    }

    @Test func premiumOnlyPlaybooksRefuseBasicPlans() async throws {
        let directory = try temporaryDirectory()
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("magento"), withIntermediateDirectories: true)
        try """
            name: optimize_tables
            title: Optimize fragmented tables
            platform: magento
            trigger: manual
            premium_only: true
            actions:
              - name: Optimize tables
                run: [mysqlcheck, --optimize, "{db_name}"]
                target: db
                tags: [optimize_tables]
                reversible: true
                safe: true
            """.write(to: directory.appendingPathComponent("magento/optimize_tables.yaml"), atomically: true, encoding: .utf8)
        let library = try PlaybookLibrary.load(directory: directory.path, knownRules: [.magento: []])
        let playbook = try #require(library.playbook("optimize_tables", for: .magento))
        let decision = AutomationPolicy().requested(playbook.actions.map(\.traits), playbookPremiumOnly: true,
                                                    customer: magento(plan: .basic))
        #expect(decision == .refuse("this is for premium plans and widgets-inc is on the basic plan"))
    }

    @Test func playbooksAreListedWithTriggerAndSafety() async throws {
        let bot = try await OperationsBot(customers: [woo()])
        let listing = await bot.ask("playbooks magento", as: viewer)
        #expect(listing.contains("flush_cache_storage"))
        #expect(listing.contains("disk_filling"))
        #expect(!listing.contains("WooCommerce"))
        #expect(listing.contains("risky"))
    }

    @Test func unknownStoresAndPlaybooksSuggestTheClosest() async throws {
        let bot = try await OperationsBot(customers: [woo()])
        #expect(await bot.ask("optimize acme") == "No store named `acme`. Did you mean `acme-store`?")
        #expect(await bot.ask("run disk_filing acme-store").contains("Did you mean `disk_filling`?"))
    }
}
