import BotCore
import BotPlaybooks
import Foundation
import MagentoPlugin
import Testing
import TestSupport
import WooCommercePlugin

@Suite struct WooCommercePackTests {
    let pack = WooCommercePlugin()
    let packs: [any PlatformPlugin] = [WooCommercePlugin(), MagentoPlugin()]

    @Test func everyRuleFiresOnItsFixtureAndNotAtItsThreshold() {
        #expect(pack.rules.count == 13)
        #expect(PackChecks.misbehavingRules(of: pack).isEmpty)
    }

    @Test func everyPlaybookTriggersOnARuleOfThisPack() throws {
        #expect(try PackChecks.playbooks(of: pack, packs: packs).count >= 13)
        #expect(try PackChecks.foreignTriggers(of: pack, packs: packs).isEmpty)
        #expect(try PackChecks.playbooks(of: pack, packs: packs).contains { $0.name == pack.batteryPlaybook && $0.trigger == .manual })
    }

    @Test func everyPlaybooksExactArgvForASampleStore() throws {
        let store = Customer(id: StoreID("acme-store")!, platform: .woocommerce, plan: .premium, contactEmail: "o@acme.example",
                             container: "acme-store-app", settings: ["db_name": "acme_wp"])
        let listing = try PackChecks.argvListing(try PackChecks.playbooks(of: pack, packs: packs), pack: pack, customer: store)
        #expect(listing == PackChecks.fixture("argv.txt"), "the argv changed; if that is meant, Fixtures/argv.txt becomes:\n\(listing)")
    }

    @Test func autoloadIsReadFromWPCLIsTotal() throws {
        let collector = try #require(pack.collectors.first { $0.name == "wp_autoload" })
        var values = TemplateValues()
        try values.set(.appPath, "/var/www/html")
        #expect(try collector.render(values) == ["wp", "option", "list", "--autoload=on", "--format=total_bytes", "--path=/var/www/html"])
        let readings = try collector.read("1048576\n", PackChecks.now)
        #expect(readings.map(\.0) == [.autoloadBytes] && readings.map(\.1) == [1_048_576])
        #expect(throws: PackCollectorError.self) { try collector.read("Error: This does not seem to be a WordPress installation.\n", PackChecks.now) }
    }

    @Test func theCronBacklogCountsEventsOverdueByTenMinutes() throws {
        let collector = try #require(pack.collectors.first { $0.name == "wp_cron" })
        // `wp cron event list --fields=hook,next_run_gmt --format=csv`; now is 2027-01-15 08:00:00 UTC.
        let output = """
            hook,next_run_gmt
            wp_version_check,"2027-01-15 07:10:00"
            woocommerce_cleanup_sessions,2027-01-15 07:40:00
            action_scheduler_run_queue,2027-01-15 07:55:00
            wp_scheduled_delete,2027-01-16 00:00:00

            """
        let readings = try collector.read(output.replacingOccurrences(of: "\"", with: ""), PackChecks.now)
        #expect(readings.map(\.0) == [.cronBacklog] && readings.map(\.1) == [2])
        #expect(throws: PackCollectorError.self) { try collector.read("Error: no such command\n", PackChecks.now) }
    }
}
