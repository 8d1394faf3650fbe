import BotCore
import BotPlaybooks
import BotStore
import Foundation
import Logging
import Testing

/// Every action goes through the engine's admission, which asks the gate with the store's silence itself: no
/// entry point can leave the silence out.
@Suite struct ActionAdmissionTests {
    @Test func aSilencedStoreIsTouchedOnlyWhenAPersonAsksInSlack() async throws {
        let bot = try await SchedulerBot(customers: [shop("acme-store")])
        let acme = try #require(try await bot.store.customer(StoreID("acme-store")!))
        _ = try await bot.store.addSilence(acme.id, until: bot.clock.now.addingTimeInterval(3600), reason: "migration",
                                           by: "U0OPS0001", at: bot.clock.now)
        let playbook = try #require(bot.wiring.library.playbook("high_memory", for: acme.platform))
        // The automation policy is refused, with the silence in words.
        let automatic = try await bot.wiring.engine.admit(ActionRequest(playbook, on: acme, requester: .policy, entry: .automatic,
                                                                        reason: "test"))
        guard case let .refused(reason) = automatic else { Issue.record("not refused: \(automatic)"); return }
        #expect(reason.contains("acme-store is silenced until") && reason.contains("(migration)"))
        // The contact's one-click optimize by e-mail is refused too (it was not gated on the silence before).
        let contact = Contact(email: acme.contactEmail, stores: [acme.id])
        let mailed = try await bot.wiring.commandRouter().route("optimize acme-store", contact: contact, logger: Logger(label: "t"))
        #expect(mailed.plainText.contains("We cannot run it: acme-store is silenced until"), "\(mailed.plainText)")
        #expect(try await bot.store.approvals(store: acme.id, since: .distantPast, limit: 10).isEmpty)
        // An operator who asks in Slack may act during a silence; the job says so.
        let requested = try await bot.wiring.engine.admit(ActionRequest(playbook, on: acme, requester: .slack(SlackUserID("U0ADM0001")!, .admin),
                                                                        entry: .requested, reason: "requested in Slack"))
        guard case let .queued(.admitted(job, _)) = requested else { Issue.record("not queued: \(requested)"); return }
        #expect(job.reason == "requested in Slack during a silence")
    }
}
