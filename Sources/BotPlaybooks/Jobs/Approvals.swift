import BotCore
import Foundation

/// Decides proposals, for every channel: Slack's buttons and `/perf approve|reject`, e-mail replies and the
/// status page. It checks that the proposal still waits, gates an approval like running it (role, plan, the
/// store's silence), makes sure the plan shown is the plan that would run (else proposes the current one in its
/// place), decides once, updates the alert, and starts the held job. The channels only put the `Decision` in words.
public struct Approvals: Sendable {
    let store: any ApprovalStore
    let check: ApprovalCheck
    let proposer: Proposer
    let engine: JobEngine
    let clock: any BotClock
    let alertsChannel: String?

    public init(store: any ApprovalStore, library: PlaybookLibrary, planner: JobPlanner, proposer: Proposer, engine: JobEngine,
                clock: any BotClock, alertsChannel: String?) {
        self.store = store
        self.check = ApprovalCheck(library: library, planner: planner)
        self.proposer = proposer
        self.engine = engine
        self.clock = clock
        self.alertsChannel = alertsChannel
    }

    /// Who decides, through which channel, and how the alert names them (already safe for Slack).
    public struct Decider: Sendable {
        public var requester: Requester
        public var channel: ApprovalChannel
        public var shownAs: String

        public init(requester: Requester, channel: ApprovalChannel, shownAs: String) {
            self.requester = requester
            self.channel = channel
            self.shownAs = shownAs
        }

        /// The name stored as the decider: a Slack user id or an e-mail address.
        var identity: String {
            switch requester {
            case let .slack(user, _): user.rawValue
            case let .customer(address): address
            case .policy: "perfbot"
            }
        }

        var via: String {
            switch channel {
            case .slack: "in Slack"
            case .email: "by e-mail"
            case .statusPage: "on the status page"
            }
        }
    }

    /// What became of a decision.
    public enum Decision: Sendable {
        /// Approved now: its held job is queued (`approval.jobID`).
        case approved(Approval)
        case rejected(Approval)
        /// This decider may not approve it now (`reason`); it still waits.
        case refused(Approval, reason: String)
        /// It cannot run any more (`reason`); it still waits and expires on its own.
        case gone(Approval, reason: String)
        /// The plan shown is no longer the plan that would run: `replacement` was proposed in its place.
        case superseded(Approval, replacement: Approval, playbook: Playbook, plan: [PlannedStep])
        case alreadyDecided(Approval)
        case expired(Approval)
        case issueResolved(Approval)
        case unknown
    }

    /// Decides the proposal `id`.
    /// - Parameters:
    ///   - explanation: for a replacement proposal, how its e-mail says why it comes again.
    ///   - onApproved: runs once an approval is stored, before its job starts (an acknowledgement queued first).
    ///   - onEnd: told when an approved job ends.
    public func decide(_ id: String, approve: Bool, by decider: Decider,
                       explanation: String = "The fix we proposed earlier has changed since you saw it, so nothing was changed. "
                           + "Here are the current steps; reply \"yes\" to this e-mail to apply them.",
                       onApproved: (@Sendable (Approval) async throws -> Void)? = nil,
                       onEnd: (@Sendable (Approval, JobOutcome) async -> Void)? = nil) async throws -> Decision {
        let now = clock.now
        if approve, let pending = try await store.approval(id: id), pending.status == .pending, pending.expiresAt > now {
            guard let customer = try await store.customer(pending.store) else { return .gone(pending, reason: "its store is gone") }
            switch try await check.check(pending, customer: customer, requester: decider.requester,
                                         silence: try await store.activeSilence(customer.id, at: now), jobs: store, now: now) {
            case .ready: break
            case let .refused(reason): return .refused(pending, reason: reason)
            case let .gone(reason): return .gone(pending, reason: reason)
            case let .changed(playbook, plan):
                let draft = proposer.draft(playbook, plan: plan, customer: customer, issueID: pending.issueID,
                                           issue: "\(playbook.title) (updated proposal)", explanation: explanation, now: now)
                try await store.supersede(id, with: draft, alert: nil, thread: nil, at: now)
                try await updateAlert(pending, "↩️ Replaced by `\(draft.approval.id)`: `\(playbook.name)` changed after it was proposed.")
                return .superseded(pending, replacement: draft.approval, playbook: playbook, plan: plan)
            }
        }
        switch try await store.decideApproval(id, approve: approve, by: decider.identity, channel: decider.channel, at: now) {
        case .unknown: return .unknown
        case let .alreadyDecided(approval): return .alreadyDecided(approval)
        case let .expired(approval): return .expired(approval)
        case let .issueResolved(approval): return .issueResolved(approval)
        case let .decided(approval):
            // The alert's buttons give way to the decision.
            let time = Wording.clockTime(now)
            try await updateAlert(approval, approve
                ? "✅ Approved by \(decider.shownAs) \(decider.via) at \(time); the result follows in this thread."
                : "❌ Rejected by \(decider.shownAs) \(decider.via) at \(time); nothing ran.")
            guard approve else { return .rejected(approval) }
            try await onApproved?(approval)
            if let job = approval.jobID {
                var listener: (@Sendable (JobOutcome) async -> Void)?
                if let onEnd { listener = { outcome in await onEnd(approval, outcome) } }
                await engine.follow(job, store: approval.store, listener: listener)
            }
            return .approved(approval)
        }
    }

    /// Replaces the Approve/Reject buttons of the approval's alert with `outcome`, once the alert has gone out.
    func updateAlert(_ approval: Approval, _ outcome: String) async throws {
        guard let channel = alertsChannel, let issue = approval.issueID else { return }
        try await store.enqueue(Addressed(destination: channel, message: .alertOutcome(outcome)), thread: .issue(issue), at: clock.now)
    }
}
