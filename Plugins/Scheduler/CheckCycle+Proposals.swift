import BotCore
import BotPlaybooks
import Foundation

extension CheckCycle {
    /// The approval (with its held job and the customer's proposal e-mail) for a fix the policy holds; nil otherwise.
    func proposal(for decision: Automation.Decision, rule: DetectionRule, value: Double?, customer: Customer,
                  issueID: Int64? = nil, now: Date) -> ApprovalDraft? {
        guard case .holdForApproval? = decision.policy, let playbook = decision.playbook, let plan = decision.plan else {
            return nil
        }
        return proposer.draft(playbook, plan: plan, customer: customer, issueID: issueID, issue: rule.title,
                              explanation: rule.inPlainWords(now: value), now: now)
    }

    /// Makes proposals with this cycle's settings.
    var proposer: Proposer {
        Proposer(replyDomain: settings.replyDomain, ttl: settings.approvalTTL, tokens: tokens)
    }

    /// Closes proposals nobody answered in time, and those whose problem went away meanwhile: the customer
    /// is told that nothing was changed, the admins in the issue's thread. A later reply gets `closed`.
    func closeLapsedProposals(customers: [Customer], now: Date) async throws -> Int {
        let lapsed = try await store.lapsedApprovals(at: now)
        guard !lapsed.isEmpty else { return 0 }
        let byID = Dictionary(customers.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        let closings = lapsed.map { approval, status -> ApprovalClosing in
            let customer = byID[approval.store]
            let expired = status == .expired
            // Customers hear of a proposal's end only where proposals are mailed to them.
            let mail: CustomerMail? = settings.replyDomain == nil ? nil : customer.map { customer in
                let title = automation.library.playbook(for: approval.kind, platform: customer.platform)?.title ?? approval.playbook
                return CustomerMail(customer, expired
                    ? .proposalExpired(playbook: title, proposedAt: approval.createdAt)
                    : .proposalClosed(reason: "The problem went away on its own, so the fix we proposed is no longer needed "
                        + "and you do not need to reply."))
            }
            let note = expired
                ? "⌛ The proposal \(approval.id) for \(approval.store) (`\(approval.playbook)`) expired without an answer; nothing ran. "
                    + "An operator can still run it: `/perf run \(approval.playbook) \(approval.store)`."
                : "↩️ The proposal \(approval.id) for \(approval.store) (`\(approval.playbook)`) was withdrawn: the issue resolved itself."
            let outcome = expired
                ? "⌛ No decision by \(Wording.dayAndTime(approval.expiresAt)): the proposal expired and nothing ran."
                : "↩️ Withdrawn: the issue resolved itself and nothing ran."
            return ApprovalClosing(id: approval.id, status: status,
                                   mail: mail,
                                   alert: queued(.text(note)), thread: approval.issueID.map(ThreadKey.issue), outcome: outcome)
        }
        return try await store.close(closings, at: now).count
    }
}
