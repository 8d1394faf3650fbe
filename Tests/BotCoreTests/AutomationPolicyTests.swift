import BotCore
import Testing
import TestSupport

@Suite struct AutomationPolicyTests {
    enum Kind: String, CaseIterable { case safe, reversible, risky }

    func action(_ kind: Kind) -> ActionTraits {
        ActionTraits(name: "Reload PHP-FPM", safe: kind == .safe, reversible: kind == .reversible, tags: [.restart])
    }

    func customer(_ level: AutomationLevel, excludingRestarts: Bool, plan: Plan = .premium) -> Customer {
        Customer(id: StoreID("acme-store")!, platform: .woocommerce, plan: plan, contactEmail: "o@a.example",
                 automationLevel: level, automationExceptions: excludingRestarts ? ["skip_restarts"] : [])
    }

    /// level × safe/reversible/risky × exception → the documented decision, for automatic runs.
    @Test func automaticRunsFollowTheMatrix() {
        let policy = AutomationPolicy()
        let excludes = "held for approval: 'Reload PHP-FPM' restarts a service, which acme-store excludes (skip_restarts)"
        let levelOne = "held for approval: acme-store is on level 1 (notify only), so every fix waits for a yes"
        let notLowRisk = "held for approval: 'Reload PHP-FPM' (restarts a service) is neither safe nor reversible, and "
            + "acme-store is on level 2 (safe auto-fix)"
        let expected: [String: String] = [
            "1 safe -": levelOne, "1 reversible -": levelOne, "1 risky -": levelOne,
            "1 safe x": levelOne, "1 reversible x": levelOne, "1 risky x": levelOne,
            "2 safe -": "runs automatically", "2 reversible -": "runs automatically", "2 risky -": notLowRisk,
            "2 safe x": excludes, "2 reversible x": excludes, "2 risky x": notLowRisk,
            "3 safe -": "runs automatically", "3 reversible -": "runs automatically", "3 risky -": "runs automatically",
            "3 safe x": excludes, "3 reversible x": excludes, "3 risky x": excludes,
        ]
        for level in AutomationLevel.allCases {
            for kind in Kind.allCases {
                for excluded in [false, true] {
                    let key = "\(level.rawValue) \(kind.rawValue) \(excluded ? "x" : "-")"
                    let decision = policy.automatic([ActionTraits(name: "Flush cache", safe: true, reversible: false,
                                                                  tags: [.cacheClear]), action(kind)],
                                                    customer: customer(level, excludingRestarts: excluded))
                    #expect(decision.explanation == expected[key], "\(key)")
                }
            }
        }
    }

    @Test func requestedRunsSkipOnlyExcludedActions() {
        let policy = AutomationPolicy()
        let actions = [ActionTraits(name: "Flush cache", safe: true, reversible: false, tags: [.cacheClear]), action(.risky)]
        #expect(policy.requested(actions, customer: customer(.notifyOnly, excludingRestarts: false)) == .run(skipped: [:]))
        #expect(policy.requested(actions, customer: customer(.fullAuto, excludingRestarts: true))
            == .run(skipped: [1: "Reload PHP-FPM skipped: acme-store excludes restarts a service (skip_restarts)"]))
    }

    @Test func premiumOnlyIsRefusedForBasicPlansWhateverTheLevel() {
        let policy = AutomationPolicy()
        for level in AutomationLevel.allCases {
            let basic = customer(level, excludingRestarts: false, plan: .basic)
            #expect(policy.automatic([action(.safe)], playbookPremiumOnly: true, customer: basic)
                == .refuse("this is for premium plans and acme-store is on the basic plan"))
            // A premium store is never refused for its plan (a level may still hold the step back, for its own reason).
            if case let .refuse(reason) = policy.automatic([action(.safe)], playbookPremiumOnly: true,
                                                           customer: customer(level, excludingRestarts: false)) {
                #expect(!reason.contains("plan"), "\(level): \(reason)")
            }
        }
    }
}
