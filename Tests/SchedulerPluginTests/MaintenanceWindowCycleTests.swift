import BotCore
import BotPlaybooks
import BotStore
import Foundation
import Logging
import Testing

/// Maintenance windows silence their store while they last; jobs wait for their time, across restarts.
@Suite struct MaintenanceWindowCycleTests {
    func windowShop(_ window: String) -> Customer {
        var customer = shop("acme-store", level: .fullAuto)
        customer.maintenanceWindow = MaintenanceWindow(window)
        return customer
    }

    @Test func aWindowSilencesItsStoreAndWhatOpenedIsHandledWhenItCloses() async throws {
        // The clock starts on Friday at 08:00 UTC: inside the window.
        let bot = try await SchedulerBot(customers: [windowShop("fri 07:30-08:30"), shop("widgets-inc", level: .fullAuto)])
        try await bot.feed("acme-store", .memoryPercent, Array(repeating: 97, count: 7))
        try await bot.feed("widgets-inc", .memoryPercent, Array(repeating: 97, count: 7))
        let first = try await bot.cycle()
        #expect(first.actions.contains { $0.store.rawValue == "acme-store" && $0.what == "maintenance window fri 07:30-08:30 open until 08:30 UTC" },
                "\(first.actions)")
        #expect(first.opened.count == 4)
        // Only widgets-inc is alerted and acted on.
        let texts = try await bot.store.pendingMessages().compactMap(\.message.slackText)
        #expect(!texts.isEmpty && texts.allSatisfy { !$0.contains("acme-store") }, "\(texts)")
        #expect(bot.dockerRuns.allSatisfy { $0.contains("widgets-inc") })
        // Seen again by the next cycle, the window is not opened twice.
        bot.clock.advance(by: 60)
        #expect(!(try await bot.cycle()).actions.contains { $0.what.hasPrefix("maintenance window") })
        let silences = try await bot.store.activeSilences(at: bot.clock.now)
        #expect(silences.count == 1 && silences.first?.isMaintenanceWindow == true)
        // Closed at 08:30: announced (something is still open) and handled as if it had just opened.
        bot.clock.advance(by: 30 * 60)
        try await bot.feed("acme-store", .memoryPercent, [97])
        let after = try await bot.cycle()
        #expect(after.actions.contains { $0.what.hasPrefix("critical_memory: after the silence") }, "\(after.actions)")
        let closed = try await bot.store.pendingMessages().compactMap(\.message.slackText)
        #expect(closed.contains { $0.contains("The maintenance window of acme-store has closed") })
        #expect(bot.dockerRuns.contains { $0.contains("acme-store") })
        let audited = try await bot.store.auditEntries(store: StoreID("acme-store")!, limit: 20).map(\.action)
        #expect(audited.contains("window.start") && audited.contains("window.end"), "\(audited)")
    }

    @Test func aWindowThatClosesWithNothingOpenSaysNothing() async throws {
        let bot = try await SchedulerBot(customers: [windowShop("fri 07:30-08:30")])
        try await bot.feed("acme-store", .memoryPercent, Array(repeating: 40, count: 7))
        _ = try await bot.cycle()
        bot.clock.advance(by: 31 * 60)
        _ = try await bot.cycle()
        #expect(try await bot.store.pendingMessages().isEmpty)
        #expect(try await bot.store.activeSilences(at: bot.clock.now).isEmpty)
    }

    /// A job with a start time is not started before it, and starts once the engine sees its time has come.
    @Test func aScheduledJobRunsNoEarlierThanItsTime() async throws {
        let bot = try await SchedulerBot(customers: [shop("acme-store")])
        let acme = try #require(try await bot.store.customer(StoreID("acme-store")!))
        let playbook = try #require(bot.wiring.library.playbook("high_memory", for: acme.platform))
        let service = Task { try await bot.wiring.engine.run() }
        defer { service.cancel() }
        #expect(await bot.clock.waitForSleepers())
        let at = bot.clock.now.addingTimeInterval(3600)
        let admission = try await bot.wiring.engine.admit(ActionRequest(
            playbook, on: acme, requester: .slack(SlackUserID("U0ADM0001")!, .admin), entry: .requested,
            reason: "scheduled in Slack", notBefore: at))
        guard case let .queued(.admitted(job, _)) = admission else { Issue.record("not queued: \(admission)"); return }
        #expect(job.notBefore == at)
        // An hour less a minute: still waiting, nothing ran.
        for _ in 0..<119 { bot.clock.advance(by: 30); try await Task.sleep(for: .milliseconds(2)) }
        #expect(try await bot.store.job(job.id)?.state == .queued)
        #expect(bot.dockerRuns.isEmpty)
        let listed = await (try bot.wiring.commandRouter()).route("jobs", user: SlackUserID("U0OPS0001")!, channel: nil,
                                                                  logger: Logger(label: "t")).plainText
        #expect(listed.contains("⏰ not before Friday 15 January, 09:00"), "\(listed)")
        // Its time comes: the engine's next look starts it.
        bot.clock.advance(by: 60)
        let outcome = await bot.wiring.engine.outcome(of: job.id)
        #expect(outcome.job.state == .succeeded)
        #expect(try #require(outcome.job.startedAt) >= at)
        #expect(!bot.dockerRuns.isEmpty)
    }

    /// A job that fell due while perfbot was stopped runs when it starts again; one not yet due keeps waiting.
    @Test func aJobDueDuringARestartRunsAfterIt() async throws {
        let bot = try await SchedulerBot(customers: [shop("acme-store"), shop("widgets-inc")])
        let plan = [PlannedStep(name: "flush", argv: ["docker", "exec", "acme-store-app", "true"])]
        func draft(_ store: String, _ at: Date) -> JobDraft {
            JobDraft(store: StoreID(store)!, kind: .playbook("high_memory"), requester: .slack(SlackUserID("U0ADM0001")!, .admin),
                     plan: plan, planHash: "x", reason: "scheduled", notBefore: at)
        }
        // Written by the perfbot that stopped: one due an hour ago, one due in an hour.
        guard case let .admitted(due, _) = try await bot.store.admitJob(draft("acme-store", bot.clock.now.addingTimeInterval(-3600)),
                                                                        at: bot.clock.now.addingTimeInterval(-7200)),
              case let .admitted(later, _) = try await bot.store.admitJob(draft("widgets-inc", bot.clock.now.addingTimeInterval(3600)),
                                                                          at: bot.clock.now.addingTimeInterval(-7200))
        else { Issue.record("not admitted"); return }
        try await bot.wiring.engine.recover()
        #expect(try await bot.store.job(due.id)?.state != .queued)
        #expect(try await bot.store.job(later.id)?.state == .queued)
    }
}
