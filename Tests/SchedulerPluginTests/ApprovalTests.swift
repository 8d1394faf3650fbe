import BotChannels
import BotCore
import BotStore
import Foundation
import Logging
import PerfbotApp
import TestSupport
import Testing

/// A level-1 store whose memory has been high for seven minutes: its fix waits for a yes.
/// - Returns: the bot and the approval's id.
func heldFix(extra: [String: String] = [:]) async throws -> (SchedulerBot, String) {
    let bot = try await SchedulerBot(customers: [shop("acme-store", level: .notifyOnly)], extra: extra)
    try await bot.feed("acme-store", .memoryPercent, Array(repeating: 90, count: 7))
    _ = try await bot.cycle()
    let alert = try #require(try await bot.store.pendingMessages().first { $0.channel == "slack" }?.message)
    let id = try #require(alert.buttons.first { $0.actionID == "fix_approve" }?.value, "\(alert)")
    return (bot, id)
}

@Suite struct ApprovalTests {
    let operatorUser = SlackUserID("U0OPS0001")!
    let viewer = SlackUserID("U0VIEW001")!

    func ask(_ bot: SchedulerBot, _ text: String, as user: SlackUserID) async throws -> String {
        try await bot.wiring.commandRouter().route(text, user: user, channel: nil, logger: Logger(label: "t")).plainText
    }

    @Test func aHeldFixCarriesButtonsAProposalAndAnApproval() async throws {
        let (bot, id) = try await heldFix()
        let messages = try await bot.store.pendingMessages()
        let alert = try #require(messages.first { $0.channel == "slack" }?.message)
        #expect(alert.buttons.map(\.actionID) == ["fix_approve", "fix_reject"] && alert.buttons.allSatisfy { $0.value == id })
        #expect(alert.slackText?.contains("held for approval: acme-store is on level 1 (notify only)") == true)
        let mail = try #require(messages.first { $0.channel == "email" })
        #expect(mail.destination == "o@acme-store.example")
        let replyTo = try #require(mail.message.mail?.replyTo)
        #expect(replyTo.range(of: #"^approve\+[a-z2-7]{32}@fix\.example\.com$"#, options: .regularExpression) != nil)
        let approval = try #require(try await bot.store.approval(id: id))
        #expect(approval.status == .pending && approval.playbook == "high_memory")
        #expect(approval.steps.count == 3)
        #expect(bot.dockerRuns.isEmpty)
    }

    @Test func approvingRunsTheFixOnceAndOnlyOnce() async throws {
        let (bot, id) = try await heldFix()
        let approved = try await ask(bot, "approve \(id)", as: operatorUser)
        #expect(approved.hasPrefix("✅ Approved by <@U0OPS0001>."))
        #expect(approved.contains("✅ Flush the object cache"))
        #expect(bot.dockerRuns.count == 3)
        let again = try await ask(bot, "approve \(id)", as: operatorUser)
        #expect(again == "`\(id)` was already approved by <@U0OPS0001> by slack; nothing more runs.")
        #expect(bot.dockerRuns.count == 3)
        #expect(try await bot.store.approval(id: id)?.decidedBy == "U0OPS0001")
    }

    @Test func theApprovalsListShowsWhatWaitsAndWhatBecameOfTheRest() async throws {
        let (bot, id) = try await heldFix()
        let waiting = try await ask(bot, "approvals", as: viewer)
        #expect(waiting.contains("Waiting for a decision (1)"))
        #expect(waiting.contains("⏳ `\(id)` *acme-store* · `high_memory` · proposed just now · stands until "))
        #expect(try await ask(bot, "reject \(id)", as: operatorUser).hasPrefix("❌ Rejected"))
        let closed = try await ask(bot, "approvals acme-store", as: viewer)
        #expect(closed.contains("Nothing waits for a decision."))
        #expect(closed.contains("❌ `\(id)` `high_memory` rejected by <@U0OPS0001> in Slack · just now"))
        #expect(try await ask(bot, "approvals acme-stor", as: viewer).contains("acme-store"))  // the closest name
    }

    @Test func rejectingRunsNothingAndExpiredOrResolvedFixesDoNotRun() async throws {
        let (bot, id) = try await heldFix()
        #expect(try await ask(bot, "approve \(id)", as: viewer).contains("needs the operator role"))
        let rejected = try await ask(bot, "reject \(id)", as: operatorUser)
        #expect(rejected.hasPrefix("❌ Rejected by <@U0OPS0001>: `high_memory` will not run on acme-store."))
        #expect(bot.dockerRuns.isEmpty)
        // A typed decision updates the alert too: its buttons give way to the outcome.
        #expect(try await bot.store.pendingMessages().contains {
            $0.message.outcome?.hasPrefix("❌ Rejected by <@U0OPS0001> in Slack at ") == true
        })

        let (late, lateID) = try await heldFix()
        late.clock.advance(by: 86401)
        #expect(try await ask(late, "approve \(lateID)", as: operatorUser).contains("expired at"))
        #expect(late.dockerRuns.isEmpty)

        let (calm, calmID) = try await heldFix()
        let issue = try #require(try await calm.store.approval(id: calmID)?.issueID)
        try await calm.store.resolveIssue(issue, at: Date(), autoFixed: false)
        #expect(try await ask(calm, "approve \(calmID)", as: operatorUser).contains("was resolved meanwhile"))
        #expect(try await ask(calm, "approve fix_nonesuch23", as: operatorUser) == "There is no approval `fix_nonesuch23`.")
        #expect(try await ask(calm, "approve ../etc", as: operatorUser).contains("is not"))
    }
}

@Suite struct LapsedProposalTests {
    let operatorUser = SlackUserID("U0OPS0001")!

    @Test func theProposalsLifetimeIsConfigurable() async throws {
        let (bot, id) = try await heldFix(extra: ["PERFBOT_APPROVAL_HOURS": "2"])
        let approval = try #require(try await bot.store.approval(id: id))
        #expect(approval.expiresAt.timeIntervalSince(approval.createdAt) == 7200)
        #expect(try await bot.store.pendingMessages().contains { $0.message.slackText?.contains("The proposal stands for 2 h") == true })
        bot.clock.advance(by: 7201)
        #expect(try await bot.cycle().proposalsClosed == 1)
        #expect(throws: ConfigurationError.invalid(key: "PERFBOT_APPROVAL_HOURS", reason: "expected a number from 1 to 168")) {
            try PerfbotConfiguration(values: ["PERFBOT_APPROVAL_HOURS": "0"])
        }
    }

    /// The proposal the customer reads: the problem in plain words, each step with its effect, a readable deadline.
    @Test func theProposalExplainsTheProblemAndEachStepsEffect() async throws {
        let (bot, _) = try await heldFix()
        let proposal = try #require(try await bot.store.pendingMessages().first { $0.channel == "email" }?.message.mail)
        let mail = MailTemplates.message(proposal, from: "perfbot <perfbot@fix.example.com>", domain: "fix.example.com",
                                         now: bot.clock.now)
        #expect(mail.subject == "[acme-store] High memory: may we fix it?")
        #expect(mail.text.contains("Memory use has stayed above 85% for 5 minutes; it is now 90%."))
        #expect(mail.text.contains("  • Flush the object cache: empties a cache; pages may load a little slower"))
        #expect(mail.text.range(of: #"This proposal stands until [A-Z][a-z]+day \d{1,2} [A-Z][a-z]+, \d\d:\d\d UTC\."#,
                                options: .regularExpression) != nil, "\(mail.text)")
        #expect(mail.text.contains("  • Reload PHP-FPM if memory is still high: restarts a service; visitors may see an error"))
        #expect(!mail.text.contains("memory_percent") && !mail.text.contains("cannot be undone"))
        #expect(mail.html.contains("<ul><li>Flush the object cache: empties a cache;"))
        #expect(mail.html.contains("</li></ul><p>This proposal stands until "))
    }

    @Test func anUnansweredProposalExpiresAndTheCustomerAndAdminsAreTold() async throws {
        let (bot, id) = try await heldFix()
        bot.clock.advance(by: 86400 + 60)
        let report = try await bot.cycle()
        #expect(report.proposalsClosed == 1)
        #expect(try await bot.store.approval(id: id)?.status == .expired)
        let messages = try await bot.store.pendingMessages()
        let notice = try #require(messages.first { $0.message.mail?.kind.name == "proposalExpired" })
        #expect(notice.destination == "o@acme-store.example")
        let mail = MailTemplates.message(try #require(notice.message.mail), from: "perfbot <perfbot@fix.example.com>",
                                         domain: "fix.example.com", now: bot.clock.now)
        #expect(mail.subject == "[acme-store] Our proposal has expired; nothing was changed")
        #expect(mail.text.contains("we proposed a fix for \"High memory usage\" on your store acme-store"))
        #expect(messages.contains { $0.message.slackText?.contains("expired without an answer; nothing ran") == true })
        // The alert's buttons give way to the outcome.
        #expect(messages.contains { $0.message.outcome?.hasPrefix("⌛ No decision by ") == true })
        // The next cycle closes nothing more, and a late decision is answered, not acted on.
        #expect(try await bot.cycle().proposalsClosed == 0)
        #expect(try await ask(bot, "approve \(id)").contains("expired at"))
        #expect(bot.dockerRuns.isEmpty)
    }

    @Test func withoutProposalMailsTheCustomerHearsNothingOfTheirEnd() async throws {
        let (bot, id) = try await heldFix(extra: ["PERFBOT_REPLY_DOMAIN": ""])
        bot.clock.advance(by: 86400 + 60)
        #expect(try await bot.cycle().proposalsClosed == 1)
        #expect(try await bot.store.approval(id: id)?.status == .expired)
        let messages = try await bot.store.pendingMessages()
        #expect(!messages.contains { $0.channel == "email" })
        #expect(messages.contains { $0.channel == "slack" && $0.message.slackText?.contains("expired without an answer") == true })
    }

    @Test func aProposalIsWithdrawnWhenItsIssueResolvesItself() async throws {
        let (bot, id) = try await heldFix()
        let issue = try #require(try await bot.store.approval(id: id)?.issueID)
        try await bot.store.resolveIssue(issue, at: bot.clock.now, autoFixed: false)
        #expect(try await bot.cycle().proposalsClosed == 1)
        #expect(try await bot.store.approval(id: id)?.status == .cancelled)
        let notice = try #require(try await bot.store.pendingMessages().first { $0.message.mail?.kind.name == "proposalClosed" })
        guard case let .proposalClosed(reason)? = notice.message.mail?.kind else { return }
        #expect(reason.contains("you do not need to reply"))
        #expect(try await ask(bot, "approve \(id)").contains("was resolved meanwhile"))
        #expect(bot.dockerRuns.isEmpty)
    }

    func ask(_ bot: SchedulerBot, _ text: String) async throws -> String {
        try await bot.wiring.commandRouter().route(text, user: operatorUser, channel: nil, logger: Logger(label: "t")).plainText
    }
}

@Suite struct AuditCommandTests {
    @Test func auditShowsDecisionsAndChangesNewestFirst() async throws {
        let bot = try await SchedulerBot(customers: [shop("acme-store", level: .notifyOnly)])
        try await bot.feed("acme-store", .memoryPercent, Array(repeating: 90, count: 7))
        _ = try await bot.cycle()
        let alert = try #require(try await bot.store.pendingMessages().first { $0.channel == "slack" }?.message)
        let id = try #require(alert.buttons.first { $0.actionID == "fix_approve" }?.value)
        let router = try bot.wiring.commandRouter()
        let operatorUser = SlackUserID("U0OPS0001")!
        _ = await router.route("reject \(id)", user: operatorUser, channel: nil, logger: .init(label: "t"))
        bot.clock.advance(by: 60)
        _ = await router.route("run cache_miss_storm acme-store", user: operatorUser, channel: nil, logger: .init(label: "t"))
        let text = await router.route("audit acme-store", user: SlackUserID("U0VIEW001")!, channel: nil,
                                      logger: .init(label: "t")).plainText
        let lines = text.split(separator: "\n").dropFirst()
        #expect(lines.first?.contains("*job.succeeded* (job 2, playbook cache_miss_storm) → 2 of 2 steps done") == true)
        #expect(lines.dropFirst().first?.contains("<@U0OPS0001> via slack · *approval.decide* (approval \(id), playbook high_memory) → rejected") == true)
    }
}
