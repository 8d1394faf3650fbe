import Foundation

/// What the policy needs to know about one action.
public struct ActionTraits: Sendable, Equatable {
    public var name: String
    public var safe: Bool
    public var reversible: Bool
    public var tags: Set<ActionTag>

    public init(name: String, safe: Bool, reversible: Bool, tags: Set<ActionTag> = []) {
        self.name = name
        self.safe = safe
        self.reversible = reversible
        self.tags = tags
    }
}

/// What perfbot may do with a playbook for a customer, and why, in words.
public enum PolicyDecision: Sendable, Equatable {
    /// Run it; actions listed in `skipped` (by index) are left out, each with its reason.
    case run(skipped: [Int: String])
    /// Ask the customer or an operator first.
    case holdForApproval(String)
    /// Do nothing at all.
    case refuse(String)

    /// The decision in one sentence, for chat and e-mail.
    public var explanation: String {
        switch self {
        case let .run(skipped): skipped.isEmpty ? "runs automatically" : "runs, skipping " + skipped.keys.sorted()
            .compactMap { skipped[$0] }.joined(separator: "; ")
        case let .holdForApproval(reason): "held for approval: \(reason)"
        case let .refuse(reason): "not run: \(reason)"
        }
    }
}

/// The customer automation levels of ORIGINAL-DESIGN §2.1 with exceptions and plan gates.
///
/// Automatic runs (the scheduler): level 1 proposes every fix for approval; level 2 runs a playbook
/// when every action is safe or reversible and no exception covers one of them, and otherwise
/// proposes it; level 3 runs everything except actions an exception covers (those are proposed).
/// Runs an operator asks for run at any level, skipping the actions the customer's exceptions cover.
/// A premium-only playbook is refused for a basic-plan customer either way.
public struct AutomationPolicy: Sendable {
    public init() {}

    /// The decision for an automatic run of `actions` for `customer`.
    public func automatic(_ actions: [ActionTraits], playbookPremiumOnly: Bool = false, customer: Customer) -> PolicyDecision {
        if let refusal = planGate(playbookPremiumOnly, customer) { return refusal }
        let excluded = Set(customer.automationExceptions)
        let covered = actions.enumerated().compactMap { index, action in
            exception(action, excluded).map { (index, action, $0) }
        }
        switch customer.automationLevel {
        case .notifyOnly:
            return .holdForApproval("\(customer.id) is on level 1 (notify only), so every fix waits for a yes")
        case .safeAutoFix:
            if let risky = actions.first(where: { !$0.safe && !$0.reversible }) {
                return .holdForApproval("'\(risky.name)' (\(effects(risky))) is neither safe nor reversible, and "
                    + "\(customer.id) is on level 2 (safe auto-fix)")
            }
            if let (_, action, name) = covered.first {
                return .holdForApproval("\(describe(action)), which \(customer.id) excludes (\(name))")
            }
            return .run(skipped: [:])
        case .fullAuto:
            if let (_, action, name) = covered.first {
                return .holdForApproval("\(describe(action)), which \(customer.id) excludes (\(name))")
            }
            return .run(skipped: [:])
        }
    }

    /// The decision for a run an operator asked for.
    public func requested(_ actions: [ActionTraits], playbookPremiumOnly: Bool = false, customer: Customer) -> PolicyDecision {
        if let refusal = planGate(playbookPremiumOnly, customer) { return refusal }
        let excluded = Set(customer.automationExceptions)
        var skipped: [Int: String] = [:]
        for (index, action) in actions.enumerated() {
            if let name = exception(action, excluded) {
                skipped[index] = "\(action.name) skipped: \(customer.id) excludes \(effects(action)) (\(name))"
            }
        }
        return .run(skipped: skipped)
    }

    /// The customer's exceptions (`skip_restarts`, …) that cover any of `actions`, sorted: what to lift for them to run.
    public func exceptions(covering actions: [ActionTraits], customer: Customer) -> [String] {
        let excluded = Set(customer.automationExceptions)
        return Set(actions.compactMap { exception($0, excluded) }).sorted()
    }

    private func planGate(_ premiumOnly: Bool, _ customer: Customer) -> PolicyDecision? {
        guard premiumOnly, !customer.plan.isPremium else { return nil }
        return .refuse("this is for premium plans and \(customer.id) is on the \(customer.plan) plan")
    }

    /// The customer exception that covers `action`, if any.
    private func exception(_ action: ActionTraits, _ excluded: Set<String>) -> String? {
        action.tags.sorted().map(\.exceptionName).first { excluded.contains($0) }
    }

    private func describe(_ action: ActionTraits) -> String {
        "'\(action.name)' \(effects(action))"
    }

    private func effects(_ action: ActionTraits) -> String { action.effects }
}

extension ActionTraits {
    /// What the action does, in words ("restarts a service and clears a cache").
    public var effects: String {
        let words = tags.sorted().filter { $0 != .readOnly }.map(\.effect)
        return words.isEmpty ? "changes the store" : words.joined(separator: " and ")
    }
}
