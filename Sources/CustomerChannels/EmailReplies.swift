import BotChannels
import BotCore
import BotPlaybooks
import Foundation
import Logging

/// Acts on a customer's reply to a proposal: checks who sent it and how, reads the decision, decides
/// the approval once, runs the fix on a yes, and answers by e-mail (never answering robots).
public struct EmailReplies: Sendable {
    let store: any ApprovalStore
    let library: PlaybookLibrary
    let approvals: Approvals
    let clock: any BotClock
    let alertsChannel: String?
    let logger: Logger
    /// E-mail commands: the router (its customer grammar), the address they go to, the authserv-ids
    /// trusted for an authentication pass, and a counter of what became of each.
    public var commands: CommandRouter?
    public var commandAddress: String?
    public var authservIDs: Set<String> = []
    public var count: @Sendable (String) -> Void = { _ in }

    public init(store: any ApprovalStore, library: PlaybookLibrary, approvals: Approvals, clock: any BotClock,
                alertsChannel: String?, logger: Logger) {
        self.store = store
        self.library = library
        self.approvals = approvals
        self.clock = clock
        self.alertsChannel = alertsChannel
        self.logger = logger
    }

    /// What a reply led to (the HTTP answer to the mail provider, and the tests).
    public enum Outcome: Equatable, Sendable, CustomStringConvertible {
        /// An auto-reply, ignored without an answer.
        case ignored(String)
        /// Not acted on: unknown token, wrong sender, failed authentication.
        case refused(String)
        case approved, rejected
        /// Decided before, expired, or its issue resolved: answered, nothing runs.
        case closed(String)
        case notUnderstood
        /// An e-mail command, answered to the contact's address on file.
        case answered(String)

        public var description: String {
            switch self {
            case let .ignored(reason): "ignored: \(reason)"
            case let .refused(reason): "refused: \(reason)"
            case .approved: "approved"
            case .rejected: "rejected"
            case let .closed(reason): "closed: \(reason)"
            case .notUnderstood: "not understood"
            case let .answered(command): "answered: \(command)"
            }
        }
    }

    public func handle(_ mail: InboundMail) async throws -> Outcome {
        if mail.isAutomatic { return .ignored("auto-reply") }
        if mail.token == nil, let address = commandAddress, MailAddress.same(mail.recipient, address) {
            return try await command(mail)
        }
        guard let token = mail.token, let approval = try await store.approval(tokenHash: ApprovalToken.hash(token)) else {
            try await passOn(mail)
            return .refused("no proposal matches the reply address")
        }
        guard let from = mail.fromAddress else {
            try await refused(approval, from: mail, reason: "the From line is not exactly one plain address")
            return .refused("the From line is not exactly one plain address")
        }
        guard let customer = try await store.customer(approval.store),
              MailAddress.same(from, customer.contactEmail) else {
            logger.notice("reply from someone else refused", metadata: ["approval": "\(approval.id)"])
            try await refused(approval, from: mail, reason: "the sender is not the store's contact")
            return .refused("the sender is not the store's contact")
        }
        if mail.failedAuthentication {
            logger.notice("reply failing SPF, DKIM or DMARC refused", metadata: ["approval": "\(approval.id)"])
            try await refused(approval, from: mail, reason: "SPF, DKIM or DMARC failed (fail, softfail or permerror)")
            return .refused("SPF, DKIM or DMARC failed")
        }
        let (text, decision) = ReplyReader.read(mail.text)
        switch decision {
        case .notUnderstood, .forwarded:
            // The answer quotes what was read and why it is no clear yes or no, and asks for one word.
            let why = decision == .forwarded ? "it forwards another message" : ReplyReader.explain(text).reason
            try await send(CustomerMail(customer, .replyNotUnderstood(read: String(text.prefix(400)), why: why)))
            return .notUnderstood
        case .approve, .reject:
            let approve = decision == .approve
            switch try await decide(approval, approve: approve, customer: customer, sender: from, channel: .email) {
            case .unknown: return .refused("no such proposal")
            case let .refused(_, reason): return .refused(reason)
            case let .gone(_, reason): return .closed("cannot run: \(reason)")
            case let .superseded(_, replacement, _, _): return .closed("the playbook changed; proposed again as \(replacement.id)")
            case let .alreadyDecided(decided): return .closed("already \(decided.status.rawValue)")
            case .expired: return .closed("expired")
            case .issueResolved: return .closed("issue resolved")
            case .approved: return .approved
            case .rejected: return .rejected
            }
        }
    }

    /// A command mailed to the command address: only from a store's contact, only with an authentication
    /// pass from a trusted authserv-id; the answer goes to the address on file, never to the From line.
    /// Strangers and unauthenticated mail get nothing (they are counted and logged).
    func command(_ mail: InboundMail) async throws -> Outcome {
        guard let router = commands else { return .refused("e-mail commands are off") }
        var text = ReplyReader.extract(mail.text).split(separator: "\n").first { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
            .map(String.init) ?? ""
        if text.isEmpty {
            text = mail.subject.replacingOccurrences(of: #"^\s*((re|fwd?|aw|wg|tr)\s*:\s*)+"#, with: "",
                                                     options: [.regularExpression, .caseInsensitive])
        }
        text = String(text.prefix(200))
        // Mail that is no command (an answer to a report, a question) goes to the team as before.
        if case .unknown = router.match(text, audience: .customer) {
            try await passOn(mail)
            return .refused("no proposal matches the reply address")
        }
        guard let sender = mail.fromAddress else {
            count("unreadable_from")
            logger.notice("e-mail command refused", metadata: ["reason": "the From line is not exactly one plain address"])
            return .refused("the From line is not exactly one plain address")
        }
        let mine = try await store.allCustomers().filter { MailAddress.same($0.contactEmail, sender) }
        guard let first = mine.first else {
            count("stranger")
            logger.notice("e-mail command from a stranger ignored")
            return .refused("the sender is not a store's contact")
        }
        let authentication = MailAuthentication.check(mail, trusting: authservIDs)
        guard authentication.passed else {
            count("unauthenticated")
            logger.notice("e-mail command without an authentication pass refused",
                          metadata: ["reason": "\(authentication.reason)"])
            try await store.audit(actor: first.contactEmail, channel: "email", action: "email.command.refused",
                                  store: first.id, details: [:], result: authentication.reason, at: clock.now)
            return .refused("no authentication pass: \(authentication.reason)")
        }
        let contact = Contact(email: first.contactEmail, stores: mine.map(\.id))
        let reply = await router.route(text, contact: contact, logger: logger)
        let name = text.split(separator: " ").first.map { $0.lowercased() } ?? "help"
        count("answered")
        try await store.audit(actor: first.contactEmail, channel: "email", action: "email.command", store: mine.count == 1 ? first.id : nil,
                              details: ["command": String(name.prefix(20))], result: "answered", at: clock.now)
        // The reply's header is the subject; without one, the subject names the command it answers.
        var subject = "Your command “\(text.prefix(60))”"
        var body = reply
        if case let .header(title)? = reply.blocks.first {
            subject = title
            body.blocks.removeFirst()
        }
        let lines = body.plainText.split(separator: "\n", omittingEmptySubsequences: false).map { String($0) }
        // With one store, its status page link goes along (added when the e-mail is rendered).
        try await send(CustomerMail(to: first.contactEmail, store: mine.count == 1 ? first.id : nil,
                                    kind: .commandReply(subject: subject, lines: lines)))
        return .answered(String(name.prefix(20)))
    }

    /// Mail from a store's contact that is not a reply to a proposal (an answer to a report or a prediction
    /// notice): perfbot cannot act on it, so the admins get its gist and who to answer. Mail from anyone
    /// else, or failing SPF/DKIM/DMARC, is left in the delivery log.
    func passOn(_ mail: InboundMail) async throws {
        guard !mail.failedAuthentication,
              let from = mail.fromAddress,
              let customer = try await store.allCustomers().first(where: { MailAddress.same(from, $0.contactEmail) })
        else { return }
        var gist = ReplyReader.extract(mail.text).replacingOccurrences(of: "\n", with: " ")
        if gist.count > 300 { gist = String(gist.prefix(300)) + "…" }
        let subject = String(mail.subject.prefix(120))
        try await tellAdmins("📧 \(customer.id)'s contact \(customer.contactEmail) wrote to perfbot"
            + (subject.isEmpty ? "" : " (“\(Wording.escapedForSlack(subject))”)")
            + ": “\(Wording.escapedForSlack(gist.isEmpty ? "(no text)" : gist))” — perfbot cannot act on it; please answer them.",
                             issue: nil)
    }

    /// A reply to a real proposal that may not decide it: kept in the audit log, and the admins told (the
    /// sender is not answered, since the From line may be forged). Often a colleague of the owner replied.
    func refused(_ approval: Approval, from mail: InboundMail, reason: String) async throws {
        let sender = mail.fromAddress ?? "an unreadable From line"
        try await store.audit(actor: String(sender.prefix(200)), channel: "email", action: "approval.refused",
                              store: approval.store, details: ["approval": approval.id], result: reason, at: clock.now)
        try await tellAdmins("⚠️ A reply to \(approval.store)'s proposal \(approval.id) was not acted on: \(reason) "
            + "(from \(Wording.escapedForSlack(String(sender.prefix(200))))). The proposal still waits for the store's contact, or `/perf approve \(approval.id)`.",
                             issue: approval.issueID)
    }

    /// Decides `approval` for its store's contact, by e-mail or on the status page, through `Approvals` (the same gate,
    /// plan check and single decision as Slack), and tells what became of it: the admins in the issue's thread, the
    /// customer by e-mail where they wrote one (the page shows its own answer), and the result once the fix ran.
    func decide(_ approval: Approval, approve: Bool, customer: Customer, sender: String,
                channel: ApprovalChannel) async throws -> Approvals.Decision {
        let byMail = channel == .email
        let title = library.playbook(for: approval.kind, platform: customer.platform)?.title ?? approval.playbook
        let replies = self
        let decision = try await approvals.decide(approval.id, approve: approve,
                                                  by: Approvals.Decider(requester: .customer(sender), channel: channel,
                                                                        shownAs: Wording.escapedForSlack(sender)),
                                                  onApproved: { decided in
            // Answered at once, by the same channel, before the job can start; the result follows when it ends.
            if byMail {
                try await replies.send(CustomerMail(customer, .approvalAcknowledged(
                    playbook: decided.kind.isSetting ? (decided.steps.first ?? title) : title)))
            }
        }) { decided, outcome in
            do {
                try await replies.reportApproved(outcome, customer: customer, approval: decided, title: title)
            } catch {
                replies.logger.error("could not report an approved run", metadata: ["store": "\(customer.id)", "error": "\(error)"])
            }
        }
        let now = clock.now
        switch decision {
        case .unknown:
            break
        case let .refused(_, reason):
            try await store.audit(actor: String(sender.prefix(200)), channel: channel.rawValue, action: "approval.refused",
                                  store: customer.id, details: ["approval": approval.id], result: reason, at: now)
            try await close(customer, "We cannot apply it right now: our team has paused changes to your store for the "
                + "moment. Nothing was changed; the proposal still stands, so please reply \"yes\" again later.")
            try await tellAdmins("⏸️ \(customer.id)'s owner approved `\(approval.playbook)` \(Self.via(channel)), but it did not run: "
                + "\(reason). `/perf approve \(approval.id)` runs it once that no longer holds.", issue: approval.issueID)
        case let .gone(_, reason):
            try await close(customer, "The fix can no longer be applied as proposed, so nothing was changed; our team has been told.")
            try await tellAdmins("⚠️ \(customer.id)'s owner approved `\(approval.playbook)` \(Self.via(channel)), but it cannot run: "
                + "\(Wording.escapedForSlack(reason)). Nothing ran.", issue: approval.issueID)
        case let .superseded(_, replacement, _, _):
            try await tellAdmins("↩️ \(customer.id)'s owner approved `\(approval.playbook)` \(Self.via(channel)), but the playbook changed "
                + "after it was proposed, so nothing ran; the new proposal `\(replacement.id)` was mailed.", issue: approval.issueID)
        case let .alreadyDecided(decided):
            if byMail {
                try await close(customer, "It was already \(decided.status.rawValue) on \(decided.decidedAt.map(Wording.dayAndTime) ?? "an earlier day").")
            }
        case .expired:
            if byMail { try await close(customer, "It expired before your reply arrived; we will propose again if the problem returns.") }
        case .issueResolved:
            if byMail { try await close(customer, "The problem went away on its own meanwhile, so no fix is needed.") }
        case let .approved(decided):
            if decided.jobID == nil {
                try await tellAdmins("⚠️ \(customer.id) approved `\(decided.playbook)`, which has no plan to run; nothing ran.",
                                     issue: decided.issueID)
            }
        case let .rejected(decided):
            guard byMail else { break }
            try await send(CustomerMail(customer, .rejectionAcknowledged(playbook: title)))
            try await tellAdmins("❌ \(customer.id)'s owner rejected `\(decided.playbook)` by e-mail; nothing was changed.",
                                 issue: decided.issueID)
        }
        return decision
    }

    static func via(_ channel: ApprovalChannel) -> String {
        switch channel {
        case .email: "by e-mail"
        case .statusPage: "on the status page"
        case .slack: "in Slack"
        }
    }

    /// The customer's report and the admins' note once an approved job has ended.
    func reportApproved(_ outcome: JobOutcome, customer: Customer, approval: Approval, title: String) async throws {
        let job = outcome.job
        guard let report = outcome.report else {
            try await close(customer, job.state == .interrupted
                ? "We started the fix, but it was interrupted before it finished; our team has been told and will check your store."
                : "We could not apply the fix; nothing was changed and our team has been told.")
            try await tellAdmins("⚠️ \(customer.id)'s approved `\(job.playbook)` (job \(job.id)) \(job.state.rawValue): "
                + Wording.escapedForSlack(job.summary ?? ""), issue: approval.issueID)
            return
        }
        if report.steps.contains(where: \.status.unreachable) {
            try await close(customer, "We could not reach your store to apply the fix, so nothing was changed. "
                + "Our team has been told and will look into it.")
            try await tellAdmins("⚠️ \(customer.id)'s approved `\(job.playbook)` (job \(job.id)) stopped: "
                + Wording.escapedForSlack(job.summary ?? ""), issue: approval.issueID)
            return
        }
        let held = Dictionary(uniqueKeysWithValues: job.plan.enumerated().compactMap { index, step in step.held.map { (index, $0) } })
        let steps = report.steps.map { $0.customerLine(held: held) }
        try await send(CustomerMail(customer, .fixApplied(playbook: title, steps: steps)))
        try await tellAdmins("✅ \(customer.id)'s owner approved `\(job.playbook)` by e-mail; it ran as job \(job.id): "
            + "\(report.steps.filter { $0.status == .succeeded }.count) of \(report.steps.count) steps done.",
                             issue: approval.issueID)
    }

    func close(_ customer: Customer, _ reason: String) async throws {
        try await send(CustomerMail(customer, .proposalClosed(reason: reason)))
    }

    func send(_ mail: CustomerMail) async throws {
        try await store.enqueue(.mail(mail), at: clock.now)
    }

    func tellAdmins(_ text: String, issue: Int64?) async throws {
        guard let channel = alertsChannel else { return }
        if let issue {
            try await store.enqueue(.slack(channel, .text(text)), thread: .issue(issue), at: clock.now)
        } else {
            try await store.enqueue(.slack(channel, .text(text)), at: clock.now)
        }
    }
}
