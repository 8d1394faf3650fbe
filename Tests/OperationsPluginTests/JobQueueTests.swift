import BotCore
import BotPlaybooks
import BotStore
import Foundation
import Testing
import TestSupport

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

    @Test func operatorsCancelAWaitingJobOrStopARunningOne() async throws {
        let bot = try await OperationsBot(customers: [woo()], dockerDelay: 1.0)
        let first = Task { await bot.ask("optimize acme-store") }
        try await wait(bot, job: 1, .running)
        _ = await bot.ask("run cache_miss_storm acme-store")
        #expect(await bot.ask("cancel 2", as: viewer).contains("needs the operator role"))
        #expect(await bot.ask("cancel 2") == "🚫 Job 2 cancelled by <@U0OPS0001> before it started; nothing of it ran.")
        #expect(await bot.ask("cancel 2") == "Job 2 has already ended (cancelled); there is nothing to cancel.")
        #expect(await bot.ask("cancel 99") == "There is no job 99. `/perf jobs` lists them.")
        let stopping = await bot.ask("cancel 1")
        #expect(stopping.hasPrefix("🛑 Job 1 is stopping (<@U0OPS0001> asked): the step under way is being ended"))
        let result = await first.value
        #expect(result.contains("🚫 Job 1 cancelled: stopped after"), "\(result)")
        #expect(result.contains("not run: cancelled by U0OPS0001"))
        let job = try #require(try await bot.store.job(1))
        #expect(job.state == .cancelled && job.steps.count < 5)
        // A step under way when the cancel came was ended in its container: the stand-in was asked to stop the recorded
        // process group once for it (on a busy machine the cancel may instead fall between two steps: then none ran on).
        // `aCancelledStepsRemoteProcessIsGone` checks the stop itself, with a step that cannot end on its own.
        let runs = bot.docker.rawRuns()
        let stops = runs.filter { Array($0.prefix(4)) == ["exec", "acme-store-app", "sh", "-c"] && $0.dropFirst(4).first == RemoteStep.stopScript }
        let stopped = job.steps.filter { $0.reason?.hasPrefix("stopped: cancelled by U0OPS0001; its process was ended") == true }
        #expect(stops.count == stopped.count && stopped.count <= 1, "\(runs)")
        #expect(try await bot.store.job(2)?.state == .cancelled)
    }

    /// A cancel ends the step's process in the container (or on the host), not only the local client, and the job is
    /// recorded once it is gone. Without the stop (or with only the client killed), `wp` would sleep on for five minutes.
    @Test(arguments: ["docker", "ssh"])
    func aCancelledStepsRemoteProcessIsGone(_ way: String) async throws {
        var customer = woo()
        if way == "ssh" {
            customer = Customer(id: StoreID("acme-store")!, platform: .woocommerce, plan: .premium, contactEmail: "o@acme-store.example",
                                host: "web-1.hosting.example", executor: .ssh)
        }
        let bot = try await OperationsBot(customers: [customer], container: way == "docker", remoteHost: way == "ssh")
        let first = Task { await bot.ask("optimize acme-store") }
        var pid: pid_t?
        for _ in 0..<200 where pid == nil {
            pid = bot.wpPids.first
            if pid == nil { try await Task.sleep(for: .milliseconds(50)) }
        }
        let step = try #require(pid, "the first step never started on the far side")
        #expect(isAlive(step))
        #expect(await bot.ask("cancel 1").hasPrefix("🛑 Job 1 is stopping"))
        try await wait(bot, job: 1, .cancelled)
        #expect(!isAlive(step), "the step's process outlived the cancel")
        let job = try #require(try await bot.store.job(1))
        #expect(job.state == .cancelled && job.steps.count == 1, "\(job.state) \(job.steps)")
        #expect(job.steps.first?.reason?.hasPrefix("stopped: cancelled by U0OPS0001; its process was ended") == true,
                "\(job.steps.first?.reason ?? "")")
        #expect(bot.wpPids.count == 1)
        _ = await first.value
    }

    /// When the first step cannot reach the store (the container is stopped), the job stops there and says so:
    /// no other step is tried.
    @Test func aJobWhoseFirstStepCannotReachTheStoreStopsThere() async throws {
        let bot = try await OperationsBot(customers: [woo()])
        try "#!/bin/sh\necho x >> '\(bot.docker.log)'\necho 'Error response from daemon: container 5f3a is not running' >&2\nexit 1\n"
            .write(toFile: bot.docker.path, atomically: true, encoding: .utf8)
        chmod(bot.docker.path, 0o755)
        let reply = await bot.ask("optimize acme-store")
        let job = try #require(try await bot.store.job(1))
        #expect(job.state == .failed)
        #expect(job.summary == "could not reach the store at step 1 of 5 (docker could not reach acme-store-app: "
            + "Error response from daemon: container 5f3a is not running); nothing after it ran", "\(job.summary ?? "")")
        #expect(job.steps.count == 1)
        #expect(((try? String(contentsOfFile: bot.docker.log, encoding: .utf8)) ?? "").split(separator: "\n").count == 1)
        #expect(reply.contains("could not reach acme-store-app"), "\(reply)")
    }
}
