import Foundation

/// How an action on a store was asked for.
public enum ActionEntry: Sendable, Equatable {
    /// The check cycle, per the store's automation level.
    case automatic
    /// A person ran it (`/perf run`, `/perf optimize`).
    case requested
    /// A person approved a held proposal (a button, `/perf approve`, an e-mail reply).
    case approval
}

/// What the gate needs to know about the playbook.
public struct ActionPlan: Sendable, Equatable {
    public var name: String
    public var actions: [ActionTraits]
    public var premiumOnly: Bool
    /// The platform's one-click battery: an operator's tool by design, whatever its steps.
    public var isBattery: Bool

    public init(name: String, actions: [ActionTraits], premiumOnly: Bool, isBattery: Bool) {
        self.name = name
        self.actions = actions
        self.premiumOnly = premiumOnly
        self.isBattery = isBattery
    }

    /// The role a person needs to run or approve it.
    public var requiredRole: Role {
        isBattery || actions.allSatisfy({ $0.safe || $0.reversible }) ? .operator : .admin
    }
}

/// The one decision function every entry point asks before a store is touched: role, plan gate, silence,
/// exceptions and automation level. Refusals come in words a person can act on.
public struct ActionGate: Sendable {
    let policy = AutomationPolicy()

    public init() {}

    public func decide(_ plan: ActionPlan, customer: Customer, requester: Requester, entry: ActionEntry,
                       silence: Silence?, now: Date) -> PolicyDecision {
        if case let .slack(_, role) = requester, role < plan.requiredRole {
            let risky = plan.actions.filter { !$0.safe && !$0.reversible }
            let what = risky.first?.effects ?? "changes the store"
            let verb = entry == .approval ? "approving" : "running"
            return .refuse("`\(plan.name)` \(what) (\(risky.map { "'\($0.name)'" }.joined(separator: ", ")) "
                + "is neither safe nor reversible): \(verb) it needs an admin, and you are \(role.withArticle)")
        }
        if let silence, entry != .requested {
            return .refuse("\(customer.id) is silenced until \(Wording.clockTime(silence.endsAt))"
                + (silence.reason.map { " (\($0))" } ?? "")
                + (entry == .approval ? "; decide again once the silence ends" : ""))
        }
        switch entry {
        case .automatic:
            return policy.automatic(plan.actions, playbookPremiumOnly: plan.premiumOnly, customer: customer)
        case .requested, .approval:
            return policy.requested(plan.actions, playbookPremiumOnly: plan.premiumOnly, customer: customer)
        }
    }
}
