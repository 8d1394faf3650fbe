import BotCore
import BotPlaybooks
import Foundation
import Testing
import TestSupport

@Suite struct BatteryArgvTests {
    let inWoo = ["exec", "-w", "/var/www/html", "acme-store-app", "timeout", "-k", "5"]
    let inMagento = ["exec", "-w", "/var/www/html", "widgets-inc-app", "timeout", "-k", "5"]

    @Test func wooCommerceBatteryRunsExactlyTheseCommands() async throws {
        let bot = try await OperationsBot(customers: [woo()])
        let reply = await bot.ask("optimize acme-store")
        #expect(bot.docker.runs() == [
            inWoo + ["60", "wp", "cache", "flush", "--path=/var/www/html"],
            inWoo + ["60", "wp", "transient", "delete", "--expired", "--path=/var/www/html"],
            inWoo + ["60", "wp", "option", "list", "--autoload=on", "--format=total_bytes", "--path=/var/www/html"],
            inWoo + ["60", "wp", "rewrite", "flush", "--path=/var/www/html"],
        ])
        #expect(reply.contains("✅ Flush the object cache"))
        #expect(reply.contains("⏭️ Reload PHP-FPM skipped: memory_percent is 61%, not > 85%"))
        #expect(reply.contains("Done in"))
    }

    @Test func magentoBatteryCleansReindexesOnlyWhenStaleAndPurges() async throws {
        let bot = try await OperationsBot(customers: [magento()], metrics: [.memoryPercent: 91, .invalidIndexers: 2])
        _ = await bot.ask("optimize widgets-inc")
        #expect(bot.docker.runs() == [
            inMagento + ["60", "bin/magento", "cache:clean", "config", "layout", "block_html", "full_page"],
            inMagento + ["1800", "bin/magento", "indexer:reindex"],
            inMagento + ["60", "find", "/var/www/html/var/view_preprocessed", "-mindepth", "1", "-delete"],
            inMagento + ["30", "curl", "-fsS", "-X", "PURGE", "-H", "X-Magento-Tags-Pattern: .*", "http://varnish:6081/"],
            inMagento + ["30", "pkill", "-USR2", "-o", "php-fpm"],
        ])
    }

    /// A store's own settings from the customers file replace the platform's defaults in every argv.
    @Test func aStoresOwnSettingsReachTheArgv() async throws {
        var store = magento(plan: .premium)
        store.settings = ["app_path": "/srv/widgets/current", "varnish_url": "http://10.0.4.7:6081/"]
        let bot = try await OperationsBot(customers: [store], metrics: [.memoryPercent: 40, .invalidIndexers: 0])
        _ = await bot.ask("optimize widgets-inc")
        let inWidgets = ["exec", "-w", "/srv/widgets/current", "widgets-inc-app", "timeout", "-k", "5"]
        #expect(bot.docker.runs() == [
            inWidgets + ["60", "bin/magento", "cache:clean", "config", "layout", "block_html", "full_page"],
            inWidgets + ["60", "find", "/srv/widgets/current/var/view_preprocessed", "-mindepth", "1", "-delete"],
            inWidgets + ["30", "curl", "-fsS", "-X", "PURGE", "-H", "X-Magento-Tags-Pattern: .*", "http://10.0.4.7:6081/"],
        ])
    }

    /// A job's step starts under the fixed stop wrapper: its values are positional parameters, never script text,
    /// and the pid file is perfbot's own name.
    @Test func aJobStepRecordsItsPidForAStop() async throws {
        let bot = try await OperationsBot(customers: [woo()])
        _ = await bot.ask("optimize acme-store")
        let first = try #require(bot.docker.rawRuns().first)
        #expect(Array(first.prefix(7)) == ["exec", "-w", "/var/www/html", "acme-store-app", "sh", "-c", RemoteStep.runScript])
        let pidFile = first[7]
        #expect(pidFile.hasPrefix("/tmp/perfbot-step-") && pidFile.hasSuffix(".pid")
                && pidFile.dropFirst(18).dropLast(4).allSatisfy { $0.isHexDigit || $0 == "-" })
        #expect(Array(first.dropFirst(8)) == ["60", "wp", "cache", "flush", "--path=/var/www/html"])
        #expect(!RemoteStep.runScript.contains("'") && !RemoteStep.runScript.contains("`"))
    }

    @Test func aDryRunListsTheExactArgvAndRunsNothing() async throws {
        let bot = try await OperationsBot(customers: [woo()])
        let reply = await bot.ask("optimize acme-store --dry-run")
        #expect(bot.docker.runs().isEmpty)
        #expect(reply.contains("Dry run: nothing was changed. 5 steps via docker exec acme-store-app."))
        #expect(reply.contains("`\(bot.docker.path) exec -w /var/www/html acme-store-app timeout -k 5 30 pkill -USR2 -o php-fpm`"))
        #expect(reply.contains("app · reversible · only if memory_percent > 85"))
    }

    /// A job's steps as lines, failed ones marked as the run's reply marks them.
    static func render(_ outcome: JobOutcome) -> String {
        (outcome.report?.steps ?? []).map { ($0.status.recorded.state == .failed ? "❌ " : "✅ ") + $0.action.name }
            .joined(separator: "\n") + (outcome.job.state == .succeeded ? "" : "\n❌ \(outcome.job.state.rawValue)")
    }

    /// Every shipped playbook, run with every condition true, starts exactly the commands its dry run lists.
    @Test(arguments: [Platform.woocommerce, .magento])
    func everyPlaybookRunsWhatItsDryRunShows(_ platform: Platform) async throws {
        var customer = platform == .woocommerce ? woo() : magento(plan: .premium)
        // In its maintenance window now (Friday 08:00 UTC), so the scheduled maintenance starts at once.
        customer.maintenanceWindow = MaintenanceWindow("fri 07:00-09:00")
        let bot = try await OperationsBot(customers: [customer], metrics: [
            .memoryPercent: 99, .cpuPercent: 99, .diskPercent: 99, .invalidIndexers: 1])
        let library = bot.wiring.library
        // Interventions run for admins who typed a good second-factor code a moment ago.
        let second = SlackUserID("U0ADMIN02")!
        for user in [admin, second] {
            try await bot.store.enrollFactor(user, secret: "JBSWY3DPEHPK3PXP", at: .now)
            #expect(try await bot.store.useFactorStep(user, step: 1, verifiedUntil: .distantFuture))
        }
        // The hosting changes run the hosting company's tools on perfbot's host, not through docker: InterventionTests.
        for playbook in library.list(platform) where playbook.changes == nil {
            let before = bot.docker.runs().count
            let plan = await bot.ask("run \(playbook.name) \(customer.id) --dry-run", as: admin)
            let lines = plan.split(separator: "\n").filter { $0.hasPrefix("• ") }
            #expect(lines.count == playbook.actions.count, "\(playbook.name): \(plan)")
            let reply: String
            if let intervention = playbook.intervention {
                let asked = await bot.ask("intervene \(playbook.name) \(customer.id) --reason \"every step checked\"", as: admin)
                let job = try #require(try await bot.store.jobs(store: customer.id, limit: 1).first, "\(asked)")
                if intervention.twoPerson { _ = await bot.ask("confirm \(job.id)", as: second) }
                reply = Self.render(await bot.wiring.engine.outcome(of: job.id))
            } else {
                reply = await bot.ask("run \(playbook.name) \(customer.id)", as: admin)
            }
            #expect(!reply.contains("❌"), "\(playbook.name): \(reply)")
            let runs = Array(bot.docker.runs().dropFirst(before))
            #expect(runs.count == playbook.actions.count, "\(playbook.name) ran \(runs.count) commands")
            for (line, run) in zip(lines, runs) {
                #expect(line.contains("`\(bot.docker.path) \(run.joined(separator: " "))`"), "\(playbook.name): \(line)")
            }
        }
    }

    @Test func sshRunsQuoteEachElementForTheRemoteShell() async throws {
        let remote = Customer(id: StoreID("remote-shop")!, platform: .woocommerce, plan: .premium, contactEmail: "o@r.example",
                              host: "web-1.hosting.example", executor: .ssh)
        let bot = try await OperationsBot(customers: [remote])
        _ = await bot.ask("run cache_miss_storm remote-shop")
        #expect(bot.ssh.runs().first == ["-o", "BatchMode=yes", "-o", "ConnectTimeout=10", "--", "web-1.hosting.example",
                                         "'cd' '/var/www/html' && 'timeout' '-k' '5' '60' 'wp' 'redis' 'status' '--path=/var/www/html'"])
    }
}
