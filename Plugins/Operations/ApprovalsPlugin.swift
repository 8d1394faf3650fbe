import BotCore
import BotPlaybooks
import Foundation

/// Proposed fixes and who decided them: `approvals`, `approve`, `reject` (decided through `Approvals`, like a
/// button, an e-mail reply or the status page) and `audit`.
public struct ApprovalsPlugin: BotPlugin {
    public let name = "approvals"
    let operations: OperationsPlugin
    let approvals: Approvals

    public init(operations: OperationsPlugin, approvals: Approvals) {
        self.operations = operations
        self.approvals = approvals
    }

    var store: any OperationsStore { operations.store }
    var clock: any BotClock { operations.clock }
    var engine: JobEngine { operations.engine }
    var work: any BackgroundWork { operations.work }
    var patience: Duration { operations.patience }
    func customer(_ id: StoreID) async throws -> Customer { try await operations.customer(id) }

    public var commands: [CommandSpec] {
        [
            CommandSpec("audit", arguments: [ArgumentSpec("store", .store, optional: true)], readOnly: true,
                        summary: "The latest audit entries (runs, approvals, setting changes), newest first.",
                        examples: ["audit", "audit acme-store"]),
            CommandSpec("approvals", arguments: [ArgumentSpec("store", .store, optional: true)], readOnly: true,
                        summary: "Proposed fixes waiting for a decision, and those of the last 24 h with their outcome.",
                        examples: ["approvals", "approvals acme-store"]),
            CommandSpec("approve", arguments: [ArgumentSpec("approval", .word)], role: .operator,
                        summary: "Approve a proposed fix: it runs, and the alert shows who decided.",
                        examples: ["approve fix_abcdefgh23"]),
            CommandSpec("reject", arguments: [ArgumentSpec("approval", .word)], role: .operator,
                        summary: "Reject a proposed fix: nothing runs, and the decision is recorded.",
                        examples: ["reject fix_abcdefgh23"]),
        ]
    }

    public func handle(_ command: ParsedCommand, context: CommandContext) async throws -> BotReply {
        switch command.name {
        case "audit": return try await audit(command.store())
        case "approvals": return try await approvals(command.store())
        case "approve", "reject":
            return try await decide(command.value("approval") ?? "", approve: command.name == "approve", context: context)
        default: throw BotError.unsupported(command.name)
        }
    }
}

extension ApprovalsPlugin {
    /// Decides a proposed fix from Slack (a button or `/perf approve|reject <id>`). An approval needs what running
    /// it needs (role, plan, no silence) and approves the plan that was shown; its job then runs.
    func decide(_ id: String, approve: Bool, context: CommandContext) async throws -> BotReply {
        guard Approval.isValidID(id) else {
            throw BotError.invalid("`\(id.prefix(40))` is not an approval id (they look like `fix_abcdefgh23`).")
        }
        let member = try context.member()
        let who = "<@\(member.user)>"
        let late = context.replyLater
        let decider = Approvals.Decider(requester: Requester(member), channel: .slack, shownAs: who)
        // A click's own reply replaces the alert in full; a run's end that outlasts the answer follows through `late`.
        var onEnd: (@Sendable (Approval, JobOutcome) async -> Void)?
        if let late {
            let store = self.store
            onEnd = { approval, outcome in
                guard let customer = try? await store.customer(approval.store) else { return }
                await late(OperationsPlugin.render(outcome, customer: customer))
            }
        }
        switch try await approvals.decide(id, approve: approve, by: decider,
                                          explanation: "The fix we proposed earlier has changed since, so we ask again with the current steps.",
                                          onEnd: onEnd) {
        case let .refused(_, reason):
            return .text("Not approved: \(reason). `\(id)` still waits for a decision.")
        case let .gone(_, reason):
            return .text("`\(id)` cannot run any more: \(reason). Nothing ran; the proposal still waits and expires on its own.")
        case let .superseded(_, replacement, playbook, plan):
            return .text("Not approved: `\(playbook.name)` changed after `\(id)` was proposed, so what was shown is not "
                + "what would run. A new proposal `\(replacement.id)` shows the current steps: "
                + plan.map { "`\($0.name)`" }.joined(separator: ", ")
                + ". `/perf run \(playbook.name) \(replacement.store) --dry-run` lists them with their commands; "
                + "`/perf approve \(replacement.id)` approves them.")
        case .unknown:
            return .text("There is no approval `\(id)`.")
        case let .alreadyDecided(approval):
            let by = approval.decidedBy.map { SlackUserID($0) != nil ? "<@\($0)>" : Wording.escapedForSlack($0) } ?? "someone"
            return .text("`\(id)` was already \(approval.status.rawValue) by \(by)"
                + (approval.channel.map { " by \($0.rawValue)" } ?? "") + "; nothing more runs.")
        case let .expired(approval):
            return .text("`\(id)` expired at \(Wording.clockTime(approval.expiresAt)); nothing runs. "
                + "A new proposal comes with the next occurrence, or run it by hand: `/perf run \(approval.playbook) \(approval.store)`.")
        case let .issueResolved(approval):
            return .text("The issue behind `\(id)` was resolved meanwhile, so `\(approval.playbook)` does not run.")
        case let .rejected(approval):
            return BotReply([.text("❌ Rejected by \(who): `\(approval.playbook)` will not run on \(approval.store). "
                + "The decision is in the audit log.")], visibility: .inChannel)
        case let .approved(approval):
            let customer = try await customer(approval.store)
            guard let jobID = approval.jobID else { return .text("✅ Approved by \(who).") }
            let approved = BotReply.text("✅ Approved by \(who). It runs as job \(jobID).")
            let engine = self.engine
            guard late != nil else {
                let result = OperationsPlugin.render(await engine.outcome(of: jobID), customer: customer)
                return BotReply(approved.blocks + result.blocks, visibility: .inChannel)
            }
            // Slack wants its answer within 3 s: a longer run (or one waiting its turn) reports when it is done.
            let finished = await work.run(patience: patience, work: {
                OperationsPlugin.render(await engine.outcome(of: jobID), customer: customer)
            }, late: { _ in })
            guard let finished else {
                return BotReply([.text("✅ Approved by \(who). ⏳ `\(approval.playbook)` runs on \(customer.id) as job \(jobID); "
                    + "the result will follow here.")], visibility: .inChannel)
            }
            return BotReply(approved.blocks + finished.blocks, visibility: .inChannel)
        }
    }

    /// `/perf approvals [<store>]`: what waits for a yes (with the ids `/perf approve` takes), and what
    /// became of the proposals of the last 24 hours.
    func approvals(_ id: StoreID?) async throws -> BotReply {
        if let id { _ = try await customer(id) }
        let now = clock.now
        let all = try await store.approvals(store: id, since: now.addingTimeInterval(-86400), limit: 40)
        let scope = id.map { "\($0)" } ?? "all stores"
        let waiting = all.filter { $0.status == .pending && $0.expiresAt > now }
        let closed = all.filter { !($0.status == .pending && $0.expiresAt > now) }
        guard !all.isEmpty else { return .text("No proposed fixes for \(scope) in the last 24 h.") }
        func what(_ approval: Approval) -> String {
            (id == nil ? "*\(approval.store)* · " : "") + "`\(approval.playbook)`"
        }
        var blocks: [ReplyBlock] = [.header("Proposed fixes · \(scope)")]
        if waiting.isEmpty {
            blocks.append(.text("Nothing waits for a decision."))
        } else {
            blocks.append(.text("*Waiting for a decision (\(waiting.count))*\n" + waiting.map { approval in
                "⏳ `\(approval.id)` \(what(approval)) · proposed \(Wording.ago(approval.createdAt, now: now)) · "
                    + "stands until \(Wording.dayAndTime(approval.expiresAt))"
            }.joined(separator: "\n")))
            blocks.append(.context("Decide with the alert's buttons or `/perf approve <id>` / `/perf reject <id>`; "
                + "the store's contact can also reply to the proposal e-mail."))
        }
        if !closed.isEmpty {
            blocks.append(.text("*Closed in the last 24 h (\(closed.count))*\n" + closed.map { approval in
                let by = approval.decidedBy.map { SlackUserID($0) != nil ? "<@\($0)>" : Wording.escapedForSlack($0) } ?? "someone"
                let via = approval.channel.map { $0 == .email ? " by e-mail" : " in Slack" } ?? ""
                let when = approval.decidedAt.map { " · \(Wording.ago($0, now: now))" } ?? ""
                switch approval.status {
                case .approved: return "✅ `\(approval.id)` \(what(approval)) approved by \(by)\(via)\(when)"
                case .rejected: return "❌ `\(approval.id)` \(what(approval)) rejected by \(by)\(via)\(when)"
                case .cancelled: return "↩️ `\(approval.id)` \(what(approval)) withdrawn: the issue resolved itself"
                case .expired, .pending: return "⌛ `\(approval.id)` \(what(approval)) expired without an answer"
                }
            }.joined(separator: "\n")))
        }
        return BotReply(blocks)
    }

    /// `/perf audit [<store>]`: who did what, through which channel, with what result.
    func audit(_ id: StoreID?) async throws -> BotReply {
        if let id { _ = try await customer(id) }
        let entries = try await store.auditEntries(store: id, limit: 20)
        let scope = id.map { "\($0)" } ?? "all stores"
        guard !entries.isEmpty else { return .text("Nothing in the audit log for \(scope) yet.") }
        let now = clock.now
        let lines = entries.map { entry -> String in
            let who = SlackUserID(entry.actor) != nil ? "<@\(entry.actor)>" : Wording.escapedForSlack(entry.actor)
            let what = Wording.escapedForSlack(entry.details.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
                .joined(separator: ", "))
            return "\(Wording.ago(entry.at, now: now)) · \(who) via \(entry.channel) · *\(entry.action)*"
                + (id == nil ? (entry.store.map { " on \($0)" } ?? "") : "")
                + (what.isEmpty ? "" : " (\(what))") + (entry.result.map { " → \(Wording.escapedForSlack($0))" } ?? "")
        }
        return BotReply([.header("Audit · \(scope)"), .text(lines.joined(separator: "\n"))])
    }

}
