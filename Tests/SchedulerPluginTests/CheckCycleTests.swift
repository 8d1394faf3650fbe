import BotChannels
import BotCore
import BotPlaybooks
import BotStore
import Foundation
import Logging
import PerfbotApp
import SchedulerPlugin
import Testing
import TestSupport

let start = Date(timeIntervalSince1970: 1_800_000_000)

/// perfbot over a temporary database with a stand-in `docker`, a clock the test moves, and instant waits.
struct SchedulerBot {
    /// The store the wiring runs on: an SQLite file of its own, or the PostgreSQL store given.
    let engine: any PerfbotStore
    /// The SQLite store (most tests read it directly).
    var store: SQLiteStore { engine as! SQLiteStore }
    let clock = ManualClock(start)
    let wiring: Wiring
    let dockerLog: String

    /// - Parameter dockerPrints: what the stand-in `docker` prints (a `docker stats` line, say).
    /// - Parameter metrics: what the store reads back (the wiring's packs' by default).
    init(customers: [Customer], dockerDelay: Double = 0, local: LocalExecutor = LocalExecutor(),
         extra: [String: String] = [:], dockerPrints: String? = nil, metrics: MetricCatalogue = Wiring.metricCatalogue,
         on engine: (any PerfbotStore)? = nil) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("perfbot-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let store = try engine ?? SQLiteStore(path: directory.appendingPathComponent("db.sqlite").path, metrics: metrics)
        self.engine = store
        dockerLog = directory.appendingPathComponent("docker.log").path
        let docker = directory.appendingPathComponent("docker").path
        try ("#!/bin/sh\nsleep \(dockerDelay)\necho \"$*\" >> '\(dockerLog)'\n" + (dockerPrints.map { "cat <<'EOF'\n\($0)\nEOF\n" } ?? ""))
            .write(toFile: docker, atomically: true, encoding: .utf8)
        chmod(docker, 0o755)
        try await store.upsert(customers, at: start)
        var configuration = try PerfbotConfiguration(values: ["SLACK_ALERTS_CHANNEL": "C0ALERTS", "SLACK_BOT_TOKEN": "xoxb-t",
                                                                  "PERFBOT_REPLY_DOMAIN": "fix.example.com",
                                                                  "PERFBOT_SLACK_USERS": "U0VIEW001:viewer,U0OPS0001:operator"]
                                                             .merging(extra) { _, new in new })
        if extra["PERFBOT_PLAYBOOKS"] == nil {
            configuration.playbooksPath = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().appendingPathComponent("Playbooks").path
        }
        wiring = try Wiring(configuration: configuration, store: store, clock: clock,
                            executors: ExecutorFactory(docker: docker, local: local), sleeper: InstantSleeper())
    }

    /// Adds one sample a minute for the values given, oldest first, ending at the clock's time.
    func feed(_ store: String, _ metric: MetricName, _ values: [Double]) async throws {
        let now = clock.now
        try await self.store.insert(values.enumerated().map { index, value in
            MetricSample(store: StoreID(store)!, metric: metric,
                         at: now.addingTimeInterval(TimeInterval((index - values.count + 1) * 60)), value: value)
        })
    }

    func cycle(quietPeriod: TimeInterval = 300) async throws -> CycleReport {
        try await wiring.checkCycle(quietPeriod: quietPeriod, inline: true).run()
    }

    var dockerRuns: [String] {
        ((try? String(contentsOfFile: dockerLog, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }
}

func shop(_ name: String, level: AutomationLevel = .safeAutoFix) -> Customer {
    Customer(id: StoreID(name)!, platform: .woocommerce, plan: .premium, contactEmail: "o@\(name).example",
             container: "\(name)-app", automationLevel: level)
}

@Suite struct CheckCycleTests {
    @Test func aSustainedBreachOpensOneIssueActsAndAlertsOnce() async throws {
        let bot = try await SchedulerBot(customers: [shop("acme-store"), shop("calm-shop")])
        try await bot.feed("acme-store", .memoryPercent, Array(repeating: 90, count: 7))
        try await bot.feed("calm-shop", .memoryPercent, Array(repeating: 40, count: 7))
        let first = try await bot.cycle()
        #expect(first.opened.map(\.what) == ["high_memory (warning)"])
        #expect(first.actions.first?.what.hasPrefix("high_memory: perfbot ran `high_memory`: 3 ok") == true, "\(first.actions)")
        #expect(bot.dockerRuns.count == 3)
        bot.clock.advance(by: 60)
        try await bot.feed("acme-store", .memoryPercent, [91])
        let second = try await bot.cycle()
        #expect(second.opened.isEmpty)
        #expect(try await bot.store.openIssues(store: nil).map(\.type) == ["high_memory"])
        let all = try await bot.store.pendingMessages()
        let queued = all.filter { $0.channel == "slack" }
        #expect(queued.count == 2)
        let alert = try #require(queued.first?.message.slackText)
        #expect(alert.contains("🟠 *High memory* on *acme-store* (WooCommerce) — warning"))
        #expect(alert.contains("memory_percent > 85 for 5 min · now 90%"))
        #expect(alert.contains("perfbot is running `high_memory` (3 steps); the result follows in this thread."))
        #expect(queued.last?.message.slackText?.contains("perfbot ran `high_memory`: 3 ok.") == true)
        #expect(try await bot.store.actions(of: StoreID("acme-store")!).count == 3)
        // The store's contact hears of the automatic fix in the playbook's own e-mail, once.
        let mails = all.filter { $0.channel == "email" }
        #expect(mails.count == 1 && mails.first?.destination == "o@acme-store.example")
        let mail = try #require(rendered(mails.first?.message.mail, now: bot.clock.now))
        #expect(mail.subject == "[acme-store] We freed memory on your store")
        #expect(mail.text.contains("Memory use has stayed above 85% for 5 minutes; it is now 90%."))
        #expect(mail.text.contains("we fixed it right away (\"High memory usage\"):\n  • Flush the object cache: done"))
        #expect(mail.replyTo == nil)
        let insights = try await bot.store.insights(of: StoreID("acme-store")!)
        #expect(insights.contains { $0.kind == "action" && $0.title == "Memory optimization applied automatically" })
    }

    /// An automatic fix that cannot reach the store (its container is stopped) stops at its first step, and the
    /// store's feed says it could not be applied, not "Done"; the contact gets no "we fixed it" mail.
    @Test func anAutomaticFixThatCannotReachTheStoreIsNoDone() async throws {
        let bot = try await SchedulerBot(customers: [shop("acme-store")])
        let docker = URL(fileURLWithPath: bot.dockerLog).deletingLastPathComponent().appendingPathComponent("docker").path
        try "#!/bin/sh\necho \"$*\" >> '\(bot.dockerLog)'\necho 'Error response from daemon: container acme-store-app is not running' >&2\nexit 1\n"
            .write(toFile: docker, atomically: true, encoding: .utf8)
        chmod(docker, 0o755)
        try await bot.feed("acme-store", .memoryPercent, Array(repeating: 90, count: 7))
        _ = try await bot.cycle()
        #expect(bot.dockerRuns.count == 1, "\(bot.dockerRuns)")
        let insights = try await bot.store.insights(of: StoreID("acme-store")!)
        #expect(insights.contains { $0.kind == "issue" && $0.title == "High memory usage could not be applied"
                && $0.body.contains("could not reach the store") }, "\(insights)")
        #expect(!insights.contains { $0.kind == "action" })
        #expect(try await bot.store.pendingMessages().filter { $0.channel == "email" }.isEmpty)
    }

    /// A container at 2.5 times its CPU allocation reads 250 %: the reading is kept, and it is the worst
    /// case of `high_cpu`, not an invalid sample.
    @Test func aReadingAboveTheAllocationIsKeptAndFiresHighCPU() async throws {
        let bot = try await SchedulerBot(customers: [shop("hot-shop", level: .notifyOnly)])
        let sample = MetricSample(store: StoreID("hot-shop")!, metric: .cpuPercent, at: bot.clock.now, value: 250)
        #expect(MetricName.cpuPercent.accepts(250) && !MetricName.cpuPercent.accepts(10_001))
        try await bot.feed("hot-shop", .cpuPercent, Array(repeating: sample.value, count: 12))
        let report = try await bot.cycle()
        #expect(report.opened.map(\.what) == ["high_cpu (warning)"])
        #expect(try await bot.store.openIssues(store: nil).map(\.type) == ["high_cpu"])
    }

    /// A playbook whose notifications say `slack: false` runs without its result in the thread; the alert still goes.
    @Test func aQuietPlaybookLeavesItsResultOutOfTheThread() async throws {
        let playbooks = FileManager.default.temporaryDirectory.appendingPathComponent("playbooks-\(UUID().uuidString)")
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Playbooks")
        try FileManager.default.copyItem(at: source, to: playbooks)
        // The operator's directory overrides the shipped playbook with its own copy.
        try FileManager.default.createDirectory(at: playbooks.appendingPathComponent("woocommerce"), withIntermediateDirectories: true)
        let file = playbooks.appendingPathComponent("woocommerce/high_memory.yaml")
        let shipped = source.deletingLastPathComponent().appendingPathComponent("Plugins/WooCommerce/Playbooks/woocommerce/high_memory.yaml")
        let text = try String(contentsOf: shipped, encoding: .utf8)
        try (text + "  slack: false\n").write(to: file, atomically: true, encoding: .utf8)
        let bot = try await SchedulerBot(customers: [shop("acme-store")], extra: ["PERFBOT_PLAYBOOKS": playbooks.path])
        try await bot.feed("acme-store", .memoryPercent, Array(repeating: 90, count: 7))
        _ = try await bot.cycle()
        #expect(bot.dockerRuns.count == 3)
        let slack = try await bot.store.pendingMessages().filter { $0.channel == "slack" }.compactMap(\.message.slackText)
        #expect(slack.count == 1 && slack[0].contains("perfbot is running `high_memory`"))
    }

    @Test func aFlappingMetricOpensNothing() async throws {
        let bot = try await SchedulerBot(customers: [shop("acme-store")])
        for minute in 0..<20 {
            try await bot.feed("acme-store", .memoryPercent, [minute % 3 == 2 ? 50 : 92])
            let report = try await bot.cycle()
            #expect(report.opened.isEmpty, "minute \(minute)")
            bot.clock.advance(by: 60)
        }
    }

    @Test func clearingResolvesOnlyAfterTheQuietPeriodInTheSameThread() async throws {
        let bot = try await SchedulerBot(customers: [shop("acme-store", level: .notifyOnly)])
        try await bot.feed("acme-store", .memoryPercent, Array(repeating: 90, count: 7))
        #expect(try await bot.cycle().opened.count == 1)
        #expect(bot.dockerRuns.isEmpty)  // level 1: proposed, not run
        var resolvedAt: Int?
        for minute in 1...8 {
            bot.clock.advance(by: 60)
            try await bot.feed("acme-store", .memoryPercent, [minute == 3 ? 88 : 60])
            if try await bot.cycle().resolved.map(\.what) == ["high_memory"] { resolvedAt = minute }
        }
        // Clear from minute 1, over 85 again at 3 (which restarts the quiet period), clear from 4: not resolved by 8.
        #expect(resolvedAt == nil)
        bot.clock.advance(by: 60)
        try await bot.feed("acme-store", .memoryPercent, [60])
        #expect(try await bot.cycle().resolved.map(\.what) == ["high_memory"])
        let poster = RecordingPoster()
        try await bot.wiring.outbox(poster: poster).deliverDue()
        try await bot.wiring.outbox(poster: poster).deliverDue()
        let messages = poster.messages
        #expect(messages.count == 2)
        #expect(messages[0].contains("held for approval: acme-store is on level 1 (notify only)"))
        let reply = try #require(try JSONSerialization.jsonObject(with: Data(messages[1].utf8)) as? [String: Any])
        #expect(reply["thread_ts"] as? String == "1800000000.000001")
        #expect(messages[1].contains("✅ Resolved: *High memory* on acme-store"))
    }

    @Test func aSilenceMutesAlertsAndAutomationAndItsEndIsAnnounced() async throws {
        let bot = try await SchedulerBot(customers: [shop("acme-store", level: .fullAuto)])
        _ = try await bot.store.addSilence(StoreID("acme-store")!, until: start.addingTimeInterval(600), reason: "migration",
                                           by: "U0OPS0001", at: start)
        try await bot.feed("acme-store", .memoryPercent, Array(repeating: 97, count: 7))
        let report = try await bot.cycle()
        #expect(report.opened.count == 2)
        #expect(bot.dockerRuns.isEmpty)
        #expect(try await bot.store.pendingMessages().isEmpty)
        bot.clock.advance(by: 601)
        let after = try await bot.cycle()
        let messages = try await bot.store.pendingMessages().map(\.message)
        let ended = messages.first?.slackText ?? ""
        #expect(ended.contains("The silence on acme-store has ended"))
        #expect(ended.contains("Still open:\n🔴 Critical memory — since 10 min ago\n🟠 High memory — since 10 min ago"), "\(ended)")
        // What opened while it was silenced is alerted now, once, and handled as the store's level says (full auto: run).
        let alerts = messages.dropFirst().compactMap(\.slackText).filter { $0.contains("Opened during the silence.") }
        #expect(alerts.count == 2, "\(messages.map(\.slackText))")
        #expect(alerts.contains { $0.contains("*Critical memory* on *acme-store*") && $0.contains("since \(Wording.clockTime(start))") })
        #expect(after.actions.contains { $0.what.hasPrefix("critical_memory: after the silence") }, "\(after.actions)")
        #expect(!bot.dockerRuns.isEmpty)
        // The next cycle does not alert or run them again.
        let runs = bot.dockerRuns.count
        bot.clock.advance(by: 60)
        let next = try await bot.cycle()
        #expect(!next.actions.contains { $0.what.contains("after the silence") })
        #expect(bot.dockerRuns.count == runs)
    }

    /// At level 1 an issue opened during a silence becomes a proposal when the silence ends, with its buttons.
    @Test func anIssueOpenedDuringASilenceIsProposedWhenItEnds() async throws {
        let bot = try await SchedulerBot(customers: [shop("acme-store", level: .notifyOnly)])
        _ = try await bot.store.addSilence(StoreID("acme-store")!, until: start.addingTimeInterval(600), reason: nil,
                                           by: "U0OPS0001", at: start)
        try await bot.feed("acme-store", .memoryPercent, Array(repeating: 88, count: 7))
        #expect(try await bot.cycle().opened.map(\.what) == ["high_memory (warning)"])
        #expect(try await bot.store.pendingMessages().isEmpty)
        bot.clock.advance(by: 601)
        try await bot.feed("acme-store", .memoryPercent, [88])
        _ = try await bot.cycle()
        let texts = try await bot.store.pendingMessages().compactMap(\.message.slackText)
        let alert = try #require(texts.first { $0.contains("Opened during the silence.") })
        #expect(alert.contains("held for approval"), "\(alert)")
        let pending = try await bot.store.approvals(store: StoreID("acme-store")!, since: start, limit: 5)
        #expect(pending.count == 1 && pending.first?.issueID != nil)
        #expect(bot.dockerRuns.isEmpty)
    }

    /// `/perf silences` lists what is in force; `/perf unsilence` ends one now; both silence and its end are audited.
    @Test func silencesAreListedEndedByHandAndAudited() async throws {
        let bot = try await SchedulerBot(customers: [shop("acme-store"), shop("widgets-inc")])
        let router = try bot.wiring.commandRouter()
        func say(_ text: String) async -> String {
            await router.route(text, user: SlackUserID("U0OPS0001")!, channel: nil, logger: Logger(label: "t")).plainText
        }
        #expect(await say("silences").contains("No store is silenced."))
        #expect(await say("silence acme-store 2h planned migration").contains("acme-store is silenced until"))
        let listed = await say("silences")
        #expect(listed.contains("🔕 *acme-store* until ") && listed.contains("by <@U0OPS0001>: planned migration"), "\(listed)")
        #expect(!listed.contains("widgets-inc"))
        #expect(await say("unsilence widgets-inc").contains("widgets-inc is not silenced."))
        #expect(await say("unsilence acme-store").contains("acme-store's silence is over"))
        #expect(await say("silences").contains("No store is silenced."))
        // Its end is announced by the next cycle, as a silence that ran out.
        _ = try await bot.cycle()
        #expect(try await bot.store.pendingMessages().compactMap(\.message.slackText)
            .contains { $0.contains("The silence on acme-store has ended") })
        let audited = try await bot.store.auditEntries(store: StoreID("acme-store")!, limit: 10).map { "\($0.action) \($0.result ?? "")" }
        #expect(audited.contains("silence.add silenced") && audited.contains("silence.end ended"), "\(audited)")
        let viewer = await router.route("unsilence acme-store", user: SlackUserID("U0VIEW001")!, channel: nil,
                                        logger: Logger(label: "t")).plainText
        #expect(viewer.contains("needs the operator role"))
    }

    @Test func oneSlowStoreDoesNotHoldUpTheOthers() async throws {
        let bot = try await SchedulerBot(customers: [shop("slow-shop"), shop("quick-shop", level: .notifyOnly)], dockerDelay: 30)
        try await bot.feed("slow-shop", .memoryPercent, Array(repeating: 90, count: 7))
        try await bot.feed("quick-shop", .memoryPercent, Array(repeating: 90, count: 7))
        var settings = CheckCycle.Settings(alertsChannel: "C0ALERTS")
        settings.perStoreTimeout = .seconds(3)
        let cycle = bot.wiring.checkCycle(inline: true)
        let started = Date()
        let report = try await CheckCycle(store: bot.store, rules: { _ in StandardRules.all },
                                          automation: cycle.automationForTesting, clock: bot.clock, settings: settings,
                                          logger: Logger(label: "test"),
                                          tokens: Wiring.approvalToken).run()
        // The slow store's commands take 30 s: a cycle well short of that was not held up by it (3 s alone; the bound
        // leaves room for a machine busy with the whole suite's real servers).
        #expect(Date().timeIntervalSince(started) < 20)
        #expect(report.errors.map(\.store.rawValue) == ["slow-shop"])
        #expect(report.opened.map(\.store.rawValue).contains("quick-shop"))
    }
}

@Suite struct IssueCommandTests {
    @Test func issuesListsOpenAndRecentlyResolved() async throws {
        let bot = try await SchedulerBot(customers: [shop("acme-store", level: .notifyOnly)])
        try await bot.feed("acme-store", .memoryPercent, Array(repeating: 97, count: 7))
        _ = try await bot.cycle()
        for _ in 0..<7 {
            bot.clock.advance(by: 60)
            try await bot.feed("acme-store", .memoryPercent, [90])
            _ = try await bot.cycle()
        }
        let router = try bot.wiring.commandRouter()
        let text = await router.route("issues acme-store", user: SlackUserID("U0VIEW001")!, channel: nil,
                                      logger: Logger(label: "t")).plainText
        #expect(text.contains("*Open (1)*\n🟠 High memory — since 7 min ago"))
        #expect(text.contains("*Resolved in the last 24 h (1)*\n✅ Critical memory — resolved"))
        let silence = await router.route("silence acme-store 2h deploy", user: SlackUserID("U0VIEW001")!, channel: nil,
                                         logger: Logger(label: "t")).plainText
        #expect(silence.contains("needs the operator role"))
    }
}

@Suite struct RecommendationFeedTests {
    /// A recommendation reaches the store's feed once, again only when its evidence changes, and not again
    /// after a restart.
    @Test func eachRecommendationIsShownOnceUntilItsEvidenceChanges() async throws {
        let bot = try await SchedulerBot(customers: [shop("acme-store")])
        func tips() async throws -> [String] {
            try await bot.store.insights(of: StoreID("acme-store")!).filter { $0.kind == "recommendation" }.map(\.body)
        }
        try await bot.feed("acme-store", .redisHitRate, [62])
        _ = try await bot.cycle()
        bot.clock.advance(by: 60)
        try await bot.feed("acme-store", .redisHitRate, [61])
        _ = try await bot.cycle()
        #expect(try await tips() == ["Only 60% of object cache lookups hit (80% or more is healthy)."])
        // perfbot restarts: a new cycle remembers what the feed shows.
        bot.clock.advance(by: 60)
        try await bot.feed("acme-store", .redisHitRate, [62])
        _ = try await bot.wiring.checkCycle(inline: true).run()
        #expect(try await tips().count == 1)
        bot.clock.advance(by: 60)
        try await bot.feed("acme-store", .redisHitRate, [41])
        _ = try await bot.cycle()
        #expect(try await tips() == ["Only 40% of object cache lookups hit (80% or more is healthy).",
                                     "Only 60% of object cache lookups hit (80% or more is healthy)."])
    }
}
