import BotCore
import BotPlaybooks
import BotStore
import Foundation
import Testing

/// At most one job runs per store: the rest wait in order, an identical one is refused, and operators can
/// see and cancel what waits.
@Suite struct JobQueueTests {
    /// Waits until job `id` is in `state`.
    func wait(_ bot: OperationsBot, job id: Int64, _ state: JobState) async throws {
        for _ in 0..<200 {
            if try await bot.store.job(id)?.state == state { return }
            try await Task.sleep(for: .milliseconds(25))
        }
        Issue.record("job \(id) never became \(state)")
    }

    @Test func aSecondRunOnABusyStoreIsQueuedAndAnIdenticalOneRefused() async throws {
        // Each docker step takes 1.5 s: the first run holds the store for about 6 s, long enough for the rest
        // of the test even on a busy machine.
        let bot = try await OperationsBot(customers: [woo(), woo("other-store", container: "other-store-app")], dockerDelay: 1.5)
        let first = Task { await bot.ask("optimize acme-store") }
        try await wait(bot, job: 1, .running)
        let second = await bot.ask("run cache_miss_storm acme-store")
        #expect(second.hasPrefix("⏳ Queued *Cache miss storm* on acme-store as job 2: 1 job for this store runs or waits ahead of it (place 2)."),
                "\(second)")
        let third = await bot.ask("run cache_miss_storm acme-store")
        #expect(third == "`cache_miss_storm` is already queued for acme-store as job 2; nothing new was queued. "
            + "`/perf jobs acme-store` shows the queue.")
        // Another store is not held up by this one.
        let elsewhere = await bot.ask("run cache_miss_storm other-store")
        #expect(elsewhere.contains("Done in"), "\(elsewhere)")
        let listing = await bot.ask("jobs acme-store", as: viewer)
        #expect(listing.contains("*Running*\n▶️ *1* `optimize` · running · by <@U0OPS0001>"), "\(listing)")
        #expect(listing.contains("*Waiting, in order*\n⏳ *2* `cache_miss_storm` · queued · by <@U0OPS0001>"))
        #expect(await first.value.contains("Done in"))
        try await wait(bot, job: 2, .succeeded)
        // The store ran one job at a time: job 2's first step began after job 1's last ended.
        let one = try #require(try await bot.store.job(1)), two = try #require(try await bot.store.job(2))
        #expect(one.state == .succeeded && two.state == .succeeded)
        #expect((two.startedAt ?? .distantPast) >= (one.endedAt ?? .distantFuture))
        let all = await bot.ask("jobs", as: viewer)
        #expect(all.contains("Recent") && all.contains("`cache_miss_storm` on other-store"))
    }

    @Test func operatorsCancelAWaitingJobOrStopARunningOneBetweenSteps() async throws {
        let bot = try await OperationsBot(customers: [woo()], dockerDelay: 1.0)
        let first = Task { await bot.ask("optimize acme-store") }
        try await wait(bot, job: 1, .running)
        _ = await bot.ask("run cache_miss_storm acme-store")
        #expect(await bot.ask("cancel 2", as: viewer).contains("needs the operator role"))
        #expect(await bot.ask("cancel 2") == "🚫 Job 2 cancelled by <@U0OPS0001> before it started; nothing of it ran.")
        #expect(await bot.ask("cancel 2") == "Job 2 has already ended (cancelled); there is nothing to cancel.")
        #expect(await bot.ask("cancel 99") == "There is no job 99. `/perf jobs` lists them.")
        let stopping = await bot.ask("cancel 1")
        #expect(stopping.hasPrefix("🛑 Job 1 stops before its next step"))
        let result = await first.value
        #expect(result.contains("🚫 Job 1 cancelled: stopped after"), "\(result)")
        #expect(result.contains("not run: cancelled by U0OPS0001"))
        let job = try #require(try await bot.store.job(1))
        #expect(job.state == .cancelled && job.steps.count < 5)
        #expect(bot.docker.runs().count == job.steps.filter { $0.status == "succeeded" }.count)
        #expect(try await bot.store.job(2)?.state == .cancelled)
    }
}
