import BotCore
import BotPlaybooks
import Foundation

extension OperationsPlugin {
    /// Decides a proposed fix from Slack (a button or `/perf approve|reject <id>`); an approval runs it.
    func decide(_ id: String, approve: Bool, context: CommandContext) async throws -> BotReply {
        guard Approval.isValidID(id) else {
            throw BotError.invalid("`\(id.prefix(40))` is not an approval id (they look like `fix_abcdefgh23`).")
        }
        let who = "<@\(context.invoker.user)>"
        switch try await store.decideApproval(id, approve: approve, by: context.invoker.user.rawValue, channel: .slack,
                                              at: clock.now) {
        case .unknown:
            return .text("There is no approval `\(id)`.")
        case let .alreadyDecided(approval):
            let by = approval.decidedBy.map { SlackUserID($0) != nil ? "<@\($0)>" : $0 } ?? "someone"
            return .text("`\(id)` was already \(approval.status.rawValue) by \(by)"
                + (approval.channel.map { " by \($0.rawValue)" } ?? "") + "; nothing more runs.")
        case let .expired(approval):
            return .text("`\(id)` expired at \(Wording.clockTime(approval.expiresAt)); nothing runs. "
                + "A new proposal comes with the next occurrence, or run it by hand: `/perf run \(approval.playbook) \(approval.store)`.")
        case let .issueResolved(approval):
            return .text("The issue behind `\(id)` was resolved meanwhile, so `\(approval.playbook)` does not run.")
        case let .decided(approval):
            guard approve else {
                return BotReply([.text("❌ Rejected by \(who): `\(approval.playbook)` will not run on \(approval.store). "
                    + "The decision is in the audit log.")], visibility: .inChannel)
            }
            let customer = try await customer(approval.store)
            guard let platform = platforms[customer.platform],
                  let playbook = library.playbook(approval.playbook, for: customer.platform) else {
                return .text("Approved, but the playbook `\(approval.playbook)` no longer exists; nothing ran.")
            }
            let approved = BotReply.text("✅ Approved by \(who).")
            guard let late = context.replyLater else {
                let result = try await run(playbook, on: customer, platform: platform, dryRun: false, battery: true,
                                           context: context)
                return BotReply(approved.blocks + result.blocks, visibility: .inChannel)
            }
            // Slack wants its answer within 3 s: a longer run reports when it is done.
            let finished = await jobs.run(patience: patience, work: {
                do {
                    return try await run(playbook, on: customer, platform: platform, dryRun: false, battery: true,
                                         context: context)
                } catch {
                    return .text((error as? BotError)?.userMessage ?? "Sorry, `\(playbook.name)` failed on my side.")
                }
            }, late: late)
            guard let finished else {
                return BotReply([.text("✅ Approved by \(who). ⏳ Running *\(playbook.title)* on \(customer.id); "
                    + "the result will follow here.")], visibility: .inChannel)
            }
            return BotReply(approved.blocks + finished.blocks, visibility: .inChannel)
        }
    }

    /// `/perf audit [<store>]`: who did what, through which channel, with what result.
    func audit(_ id: StoreID?) async throws -> BotReply {
        if let id { _ = try await customer(id) }
        let entries = try await store.auditEntries(store: id, limit: 20)
        let scope = id.map { "\($0)" } ?? "all stores"
        guard !entries.isEmpty else { return .text("Nothing in the audit log for \(scope) yet.") }
        let now = clock.now
        let lines = entries.map { entry -> String in
            let who = SlackUserID(entry.actor) != nil ? "<@\(entry.actor)>" : entry.actor
            let what = entry.details.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
            return "\(Wording.ago(entry.at, now: now)) · \(who) via \(entry.channel) · *\(entry.action)*"
                + (id == nil ? (entry.store.map { " on \($0)" } ?? "") : "")
                + (what.isEmpty ? "" : " (\(what))") + (entry.result.map { " → \($0)" } ?? "")
        }
        return BotReply([.header("Audit · \(scope)"), .text(lines.joined(separator: "\n"))])
    }

}
