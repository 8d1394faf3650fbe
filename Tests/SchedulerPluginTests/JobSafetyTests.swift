import BotChannels
import BotCore
import BotStore
import Foundation
import Logging
import PerfbotApp
import Testing
import TestSupport

/// Every way of approving a held fix goes through the same gate as running it, and approves the plan shown.
@Suite struct JobSafetyTests {
    let operatorUser = SlackUserID("U0OPS0001")!
    let adminUser = SlackUserID("U0ADM0001")!
    static let users = ["PERFBOT_SLACK_USERS": "U0VIEW001:viewer,U0OPS0001:operator,U0ADM0001:admin"]

    func ask(_ bot: SchedulerBot, _ text: String, as user: SlackUserID) async throws -> String {
        try await bot.wiring.commandRouter().route(text, user: user, channel: nil, logger: Logger(label: "t")).plainText
    }

    func proposalID(_ bot: SchedulerBot) async throws -> String {
        let buttons = try await bot.store.pendingMessages().flatMap(\.message.buttons)
        return try #require(buttons.first { $0.actionID == "fix_approve" }?.value)
    }

    @Test func anOperatorCannotApproveWhatOnlyAnAdminMayRun() async throws {
        // Slow queries kill queries: at level 2 the fix is held, and only an admin may run it, or approve it.
        let bot = try await SchedulerBot(customers: [shop("acme-store")], extra: Self.users)
        try await bot.feed("acme-store", .slowQuery3sCount, Array(repeating: 2, count: 7))
        _ = try await bot.cycle()
        let id = try await proposalID(bot)
        let refused = try await ask(bot, "approve \(id)", as: operatorUser)
        #expect(refused == "Not approved: `slow_queries` kills running queries ('Kill queries running longer than 30 s' is "
            + "neither safe nor reversible): approving it needs an admin, and you are an operator. `\(id)` still waits for a decision.")
        #expect(bot.dockerRuns.isEmpty)
        #expect(try await bot.store.approval(id: id)?.status == .pending)
        let approved = try await ask(bot, "approve \(id)", as: adminUser)
        #expect(approved.hasPrefix("✅ Approved by <@U0ADM0001>. It runs as job 1."), "\(approved)")
        #expect(!bot.dockerRuns.isEmpty)
        let job = try #require(try await bot.store.job(1))
        #expect(job.state == .succeeded && job.requestedBy == "U0ADM0001" && job.channel == "slack" && job.approvalID == id)
        // Written from the job: the steps, the intervention, the audit entry.
        #expect(try await bot.store.actions(of: StoreID("acme-store")!).count == job.steps.filter { $0.status != .skipped }.count)
        #expect(try await bot.store.interventions().map(\.admin) == ["U0ADM0001"])
        #expect(try await bot.store.auditEntries().map(\.action).suffix(2) == ["approval.decide", "job.succeeded"])
    }

    @Test func aPlaybookEditedAfterItsProposalVoidsTheApprovalAndProposesAgain() async throws {
        let playbooks = FileManager.default.temporaryDirectory.appendingPathComponent("perfbot-\(UUID().uuidString)")
        try FileManager.default.copyItem(atPath: repositoryPath("Playbooks"), toPath: playbooks.path)
        var extra = Self.users
        extra["PERFBOT_PLAYBOOKS"] = playbooks.path
        let (bot, id) = try await heldFix(extra: extra)
        // The playbook changes after the customer was shown its steps.
        // The operator's directory overrides the shipped playbook with an edited copy.
        try FileManager.default.createDirectory(at: playbooks.appendingPathComponent("woocommerce"), withIntermediateDirectories: true)
        let file = playbooks.appendingPathComponent("woocommerce/high_memory.yaml").path
        let edited = try String(contentsOfFile: repositoryPath("Plugins/WooCommerce/Playbooks/woocommerce/high_memory.yaml"), encoding: .utf8).replacingOccurrences(of: "timeout: 60s", with: "timeout: 90s")
            .replacingOccurrences(of: "name: Flush the object cache", with: "name: Flush the whole object cache")
        try edited.write(toFile: file, atomically: true, encoding: .utf8)
        var configuration = bot.wiring.configuration
        configuration.playbooksPath = playbooks.path
        let later = try Wiring(configuration: configuration, store: bot.store, clock: bot.clock,
                               executors: bot.wiring.executors, sleeper: InstantSleeper())
        let reply = try await later.commandRouter().route("approve \(id)", user: operatorUser, channel: nil,
                                                            logger: Logger(label: "t")).plainText
        #expect(reply.hasPrefix("Not approved: `high_memory` changed after `\(id)` was proposed, so what was shown is not what would run."),
                "\(reply)")
        #expect(reply.contains("`Flush the whole object cache`"))
        #expect(bot.dockerRuns.isEmpty)
        #expect(try await bot.store.approval(id: id)?.status == .cancelled)
        let ids = try NSRegularExpression(pattern: "fix_[a-z2-7]{10}")
            .matches(in: reply, range: NSRange(reply.startIndex..., in: reply)).compactMap { Range($0.range, in: reply).map { String(reply[$0]) } }
        let fresh = try #require(ids.first { $0 != id }, "\(reply)")
        #expect(fresh != id)
        #expect(try await bot.store.approval(id: fresh)?.status == .pending)
        // The new proposal is mailed to the customer with the current steps.
        let mails = try await bot.store.pendingMessages().filter { $0.channel == "email" }.map(\.message.mail)
        #expect(mails.count == 2 && rendered(mails.last ?? nil)?.text.contains("Flush the whole object cache") == true)
        // …and approving it runs the new plan.
        let approved = try await later.commandRouter().route("approve \(fresh)", user: operatorUser, channel: nil,
                                                               logger: Logger(label: "t")).plainText
        #expect(approved.contains("✅ Flush the whole object cache"), "\(approved)")
    }

    @Test func aSilencedStoreIsNotChangedByAnApproval() async throws {
        let (bot, id) = try await heldFix()
        _ = try await bot.store.addSilence(StoreID("acme-store")!, until: bot.clock.now.addingTimeInterval(3600),
                                           reason: "migration", by: "U0OPS0001", at: bot.clock.now)
        let reply = try await ask(bot, "approve \(id)", as: operatorUser)
        #expect(reply.hasPrefix("Not approved: acme-store is silenced until"), "\(reply)")
        #expect(reply.contains("(migration); decide again once the silence ends"))
        #expect(bot.dockerRuns.isEmpty)
        #expect(try await bot.store.approval(id: id)?.status == .pending)
    }

    @Test func anAutomaticFixCountsInTheReport() async throws {
        let bot = try await SchedulerBot(customers: [shop("acme-store"), shop("calm-shop", level: .notifyOnly)], extra: Self.users)
        try await bot.feed("acme-store", .memoryPercent, Array(repeating: 90, count: 7))
        try await bot.feed("calm-shop", .memoryPercent, Array(repeating: 90, count: 7))
        _ = try await bot.cycle()
        let job = try #require(try await bot.store.jobs(store: StoreID("acme-store")!, limit: 5).first)
        #expect(job.channel == "policy" && job.state == .succeeded && job.issueID != nil)
        for _ in 0..<7 {
            bot.clock.advance(by: 60)
            try await bot.feed("acme-store", .memoryPercent, [40])
            try await bot.feed("calm-shop", .memoryPercent, [40])
            _ = try await bot.cycle()
        }
        let report = try await ask(bot, "report --days 7", as: SlackUserID("U0VIEW001")!)
        #expect(report.contains("Issues: 2 opened · 2 resolved"), "\(report)")
        #expect(report.contains("Auto-fix rate: 50 % (1 of 2 resolved by automation)"))
        #expect(report.contains("Median time to resolve: 6 min"))
        #expect(report.contains("Median time to detect: 5 min"))
        #expect(report.contains("Fixes proposed: 1: 0 approved, 0 rejected, 0 expired, 1 cancelled, 0 pending"))
        #expect(report.contains("Jobs: 1 succeeded, 0 failed, 0 interrupted, 0 cancelled"))
        #expect(report.contains("• acme-store: 1\n• calm-shop: 1"))
        let refused = try await ask(bot, "report --days 0", as: SlackUserID("U0VIEW001")!)
        #expect(refused == "`--days 0` is not a number of days from 1 to 365.")
    }
}

/// A path inside the repository.
func repositoryPath(_ relative: String) -> String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent(relative).path
}
