import BotCore
import BotPlaybooks
import BotStore
import Foundation
import PerfbotApp
import Testing
import TestSupport

/// Lighthouse run by perfbot itself every 6 hours per store, through the configured command (a stand-in here
/// that prints a real Lighthouse report, `webhooks/lighthouse-report.json`, after checking its argv).
@Suite struct LighthouseCollectorTests {
    @Test func runsEverySixHoursThroughTheCommandAndRecordsTheReport() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lighthouse-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let report = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("webhooks/lighthouse-report.json").path
        let runs = folder.appendingPathComponent("runs.log").path
        try """
            #!/bin/sh
            echo "$*" >> '\(runs)'
            [ "$2" = "--output=json" ] || exit 2
            cat '\(report)'
            """.write(toFile: folder.appendingPathComponent("lighthouse").path, atomically: true, encoding: .utf8)
        chmod(folder.appendingPathComponent("lighthouse").path, 0o755)
        let customer = Customer(id: StoreID("lh-shop")!, platform: .woocommerce, plan: .premium, contactEmail: "o@lh.example",
                                url: "https://shop.example/", probes: [.lighthouse])
        let bot = try await SchedulerBot(customers: [customer], local: LocalExecutor(searchPath: [folder.path, "/usr/bin", "/bin"]))
        func invocations() -> [String] {
            ((try? String(contentsOfFile: runs, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
        }
        func waitForRuns(_ count: Int) async throws {
            for _ in 0..<100 where invocations().count < count { try await Task.sleep(for: .milliseconds(50)) }
        }
        _ = try await bot.cycle()
        let first = invocations().count
        #expect(first <= 1, "at most one run in the first slot")
        // The next slot comes within six hours: one run, whatever the store's offset.
        bot.clock.advance(by: 6 * 3600)
        _ = try await bot.cycle()
        try await waitForRuns(first + 1)
        #expect(invocations().count == first + 1)
        #expect(invocations().last == "https://shop.example/ --output=json --quiet --only-categories=performance "
            + "--chrome-flags=--headless=new --no-sandbox")
        for _ in 0..<100 where try await bot.store.latestMetrics(stores: nil)[customer.id]?[.lcpMs] == nil {
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(try await bot.store.latestMetrics(stores: nil)[customer.id]?[.lcpMs] != nil)
        // Minutes later: not again.
        bot.clock.advance(by: 60)
        _ = try await bot.cycle()
        try await Task.sleep(for: .milliseconds(200))
        #expect(invocations().count == first + 1)
        let status = try await bot.store.collectorStatuses(store: customer.id).first { $0.reading == "lighthouse" }
        #expect(status?.lastSuccess != nil && status?.source.hasSuffix("/lighthouse") == true)
    }

    @Test func aMissingCommandIsACollectorErrorNotARunPerCycle() async throws {
        let customer = Customer(id: StoreID("lh-shop")!, platform: .woocommerce, plan: .premium, contactEmail: "o@lh.example",
                                url: "https://shop.example/", probes: [.lighthouse])
        let bot = try await SchedulerBot(customers: [customer], extra: ["PERFBOT_LIGHTHOUSE_COMMAND": "/nonexistent/lighthouse"])
        let report = try await bot.cycle()
        #expect(report.errors.isEmpty)
        let status = try #require(try await bot.store.collectorStatuses(store: customer.id).first)
        #expect(status.reading == "lighthouse" && status.lastError == "the Lighthouse command was not found when perfbot started")
    }
}

@Suite struct UptimeRecordTests {
    @Test func aStoreThatRefusesConnectionsIsDownWithTheKindOfFailure() async throws {
        let customer = Customer(id: StoreID("down-shop")!, platform: .woocommerce, plan: .premium, contactEmail: "o@down.example",
                                url: "http://127.0.0.1:\(freePort())/", probes: [.http])
        let bot = try await SchedulerBot(customers: [customer])
        _ = try await bot.cycle()
        #expect(try await bot.store.latestMetrics(stores: nil)[customer.id]?[.uptimePercent] == 0)
        let status = try #require(try await bot.store.collectorStatuses(store: customer.id).first)
        #expect(status.reading == "http" && status.lastError?.hasPrefix("connect: ") == true, "\(status.lastError ?? "")")
    }
}

@Suite struct ContainerCollectorTests {
    @Test func dockerStatsAndCgroupFilesBecomeMemoryCPUOOMAndDisk() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("cgroup-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        func script(_ name: String, _ body: String) throws {
            try ("#!/bin/sh\n" + body).write(toFile: folder.appendingPathComponent(name).path, atomically: true, encoding: .utf8)
            chmod(folder.appendingPathComponent(name).path, 0o755)
        }
        let counter = folder.appendingPathComponent("reading").path
        try "1\n".write(toFile: counter, atomically: true, encoding: .utf8)
        // Stand-ins for what cannot run here: the Docker CLI (its `docker stats` line), and a container's cgroup v2
        // files (read with `cat`).
        try script("cat", """
            case "$1" in
            /sys/fs/cgroup/memory.current)
              n=$(/bin/cat '\(counter)')
              printf '536870912\\n1073741824\\nlow 0\\nhigh 0\\nmax 0\\noom 0\\noom_kill %s\\n' $((n * 2 - 2))
              printf 'usage_usec %s\\nuser_usec 1\\nsystem_usec 1\\n' $((n * 30000000)) ;;
            *) exec /bin/cat "$@" ;;
            esac
            """)
        let local = LocalExecutor(searchPath: [folder.path, "/usr/bin", "/bin"])
        let docker = Customer(id: StoreID("dock-shop")!, platform: .woocommerce, plan: .premium, contactEmail: "o@d.example",
                              container: "dock-shop-app", executor: .local, limits: ResourceLimits(cpuCores: 2), probes: [.docker])
        let cgroup = Customer(id: StoreID("cg-shop")!, platform: .woocommerce, plan: .premium, contactEmail: "o@c.example",
                              executor: .local, limits: ResourceLimits(cpuCores: 1), probes: [.cgroup], settings: ["app_path": "/tmp"])
        let bot = try await SchedulerBot(customers: [docker, cgroup], local: local,
                                         dockerPrints: #"{"CPUPerc":"50.00%","MemPerc":"40.00%","Name":"dock-shop-app"}"#)
        _ = try await bot.cycle()
        try "2\n".write(toFile: counter, atomically: true, encoding: .utf8)
        bot.clock.advance(by: 60)
        _ = try await bot.cycle()
        let latest = try await bot.store.latestMetrics(stores: nil)
        #expect(latest[docker.id]?[.memoryPercent] == 40 && latest[docker.id]?[.cpuPercent] == 25)
        #expect(bot.dockerRuns.last == "stats --no-stream --format {{json .}} dock-shop-app")
        let c = try #require(latest[cgroup.id])
        #expect(c[.memoryPercent] == 50)
        #expect(c[.cpuPercent] == 50, "30 s of CPU in 60 s on one core")
        #expect(c[.oomKills] == 2, "two OOM kills between the readings")
        #expect((c[.diskPercent] ?? 0) > 0, "df of the app path")
    }
}
