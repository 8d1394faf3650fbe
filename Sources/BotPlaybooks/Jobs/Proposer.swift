import BotCore
import Foundation

/// Makes proposals: the approval with its one-time token, the held job with the plan it shows, and the
/// customer's e-mail (when customers get mail). The check cycle uses it for a new issue, the approval paths
/// when a playbook changed after it was proposed.
public struct Proposer: Sendable {
    /// The domain of the one-time reply addresses; nil sends customers no proposal.
    public var replyDomain: String?
    /// How long a proposal stands.
    public var ttl: TimeInterval
    /// A new one-time token and the hash that is stored.
    public var tokens: @Sendable () -> (token: String, hash: String)

    public init(replyDomain: String?, ttl: TimeInterval, tokens: @escaping @Sendable () -> (token: String, hash: String)) {
        self.replyDomain = replyDomain
        self.ttl = ttl
        self.tokens = tokens
    }

    /// The proposal of `playbook` for `customer`, whose plan is `plan`.
    /// - Parameters:
    ///   - issue: the problem's title; `explanation` the problem in plain words.
    ///   - requested: the contact asked for it (an e-mail command): the mail asks them to confirm.
    public func draft(_ playbook: Playbook, plan: [PlannedStep], customer: Customer, issueID: Int64?, issue: String,
                      explanation: String, now: Date, requested: Bool = false) -> ApprovalDraft {
        draft(kind: playbook.kind, title: playbook.title, steps: playbook.actions.map { ($0.name, "\($0.name): \($0.plainEffect)") },
              plan: plan, planHash: playbook.contentHash, requester: .policy, customer: customer, issueID: issueID, issue: issue,
              explanation: explanation, now: now, requested: requested)
    }

    /// A setting change the contact asked for, to confirm by reply: a one-step plan.
    public func settingDraft(_ change: SettingChange, step: String, customer: Customer, contact: String, now: Date) -> ApprovalDraft {
        draft(kind: .setting(change), title: step, steps: [(step, step)], plan: [PlannedStep(name: step, argv: [])], planHash: change.name,
                     requester: .customer(contact), customer: customer, issueID: nil, issue: "a change to your automation settings",
                     explanation: "You asked perfbot to change how it looks after \(customer.id).", now: now, requested: true)
    }

    /// The approval, its held job and (when customers get mail) the proposal e-mail.
    /// - Parameter steps: each step's name and how the e-mail describes it.
    func draft(kind: JobKind, title: String, steps: [(name: String, described: String)], plan: [PlannedStep], planHash: String,
               requester: Requester, customer: Customer, issueID: Int64?, issue: String, explanation: String, now: Date,
               requested: Bool) -> ApprovalDraft {
        let (token, hash) = tokens()
        let approval = Approval(id: Approval.newID(), store: customer.id, issueID: issueID, playbook: kind.name,
                                steps: steps.map(\.name), createdAt: now, expiresAt: now.addingTimeInterval(ttl), kind: kind)
        let proposal = replyDomain.map { domain in
            CustomerMail(customer, .proposal(issue: issue, explanation: explanation, playbook: title, steps: steps.map(\.described),
                                             expiresAt: approval.expiresAt, requested: requested),
                         replyTo: "approve+\(token)@\(domain)")
        }
        let job = JobDraft(store: customer.id, kind: kind, requester: requester, issueID: issueID, approvalID: approval.id,
                           plan: plan, planHash: planHash, state: .held,
                           reason: requested ? "asked by e-mail" : "proposed for: \(issue)")
        return ApprovalDraft(approval: approval, tokenHash: hash, proposal: proposal, job: job)
    }
}
