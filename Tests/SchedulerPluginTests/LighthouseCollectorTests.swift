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
