import BotCore
import Foundation

/// Whether a held proposal may be approved by this person now: the same gate as running it (role, plan,
/// silence), and the plan it showed must still be the plan that would run.
public struct ApprovalCheck: Sendable {
    let library: PlaybookLibrary
    let planner: JobPlanner
    let gate = ActionGate()

    public init(library: PlaybookLibrary, planner: JobPlanner) {
        self.library = library
        self.planner = planner
    }

    public enum Verdict: Sendable {
        /// It may be approved: its held job runs once the decision is stored.
        case ready
        /// This person may not approve it now, and why.
        case refused(String)
        /// The playbook (or the store's values) changed since it was proposed: what was shown is not what
        /// would run. `plan` is the current plan for a new proposal.
        case changed(Playbook, plan: [PlannedStep])
        /// It can no longer run at all (playbook removed, store unreachable).
        case gone(String)
    }

    public func check(_ approval: Approval, customer: Customer, requester: Requester, silence: Silence?,
                      jobs: any JobStore, now: Date) async throws -> Verdict {
        // A setting the contact asked for by e-mail: only the contact (or an admin) confirms it.
        if approval.kind.isSetting {
            if case let .slack(_, role) = requester, role < .admin {
                return .refused("changing a store's automation settings needs an admin, and you are \(role.withArticle)")
            }
            guard let id = approval.jobID, try await jobs.job(id) != nil else { return .gone("its plan is missing") }
            return .ready
        }
        guard let playbook = library.playbook(for: approval.kind, platform: customer.platform) else {
            return .gone("the playbook `\(approval.playbook)` no longer exists")
        }
        let plan = playbook.actionPlan(battery: planner.isBattery(playbook, for: customer))
        let held: [Int: String]
        switch gate.decide(plan, customer: customer, requester: requester, entry: .approval, silence: silence, now: now) {
        case let .refuse(reason), let .holdForApproval(reason): return .refused(reason)
        case let .run(skipped): held = skipped
        }
        let current: [PlannedStep]
        do {
            current = try planner.plan(playbook, for: customer, held: held)
        } catch {
            return .gone((error as? BotError)?.userMessage ?? "\(error)")
        }
        guard let id = approval.jobID, let job = try await jobs.job(id), job.planHash == playbook.contentHash,
              job.plan.map(\.argv) == current.map(\.argv) else {
            return .changed(playbook, plan: current)
        }
        return .ready
    }
}
