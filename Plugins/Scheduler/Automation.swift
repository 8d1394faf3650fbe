import BotCore
import BotPlaybooks
import Foundation

/// Applies the automation policy when a rule opens an issue: runs, proposes or only notifies.
public struct Automation: Sendable {
    let library: PlaybookLibrary
    let platforms: [Platform: any PlatformPlugin]
    let executors: ExecutorFactory
    let runner: PlaybookRunner
    let policy = AutomationPolicy()
    /// Where runs go, so a playbook's waits never hold up the cycle.
    let jobs: any BackgroundWork

    /// - Parameter jobs: runs playbooks in the background (`InlineWork` runs them in the cycle, for `check --once`).
    public init(library: PlaybookLibrary, platforms: [any PlatformPlugin], executors: ExecutorFactory, runner: PlaybookRunner,
                jobs: any BackgroundWork) {
        self.jobs = jobs
        self.library = library
        self.platforms = Dictionary(platforms.map { ($0.platform, $0) }, uniquingKeysWith: { first, _ in first })
        self.executors = executors
        self.runner = runner
    }

    /// What the policy decided for a new issue, before anything runs.
    public struct Decision: Sendable {
        public var playbook: Playbook?
        public var policy: PolicyDecision?
        /// The decision in words, for the alert.
        public var text: String
    }

    /// Decides what to do about `rule` firing for `customer` (nothing runs yet).
    func decide(_ rule: DetectionRule, customer: Customer) -> Decision {
        guard let playbook = library.playbook(triggeredBy: rule.name, for: customer.platform) else {
            return Decision(playbook: nil, policy: nil, text: "No playbook handles this; nothing was changed.")
        }
        let policy = self.policy.automatic(playbook.actions.map(\.traits), playbookPremiumOnly: playbook.premiumOnly,
                                           customer: customer)
        let text = switch policy {
        case let .refuse(reason): "`\(playbook.name)` not run: \(reason)."
        case let .holdForApproval(reason): "Proposes `\(playbook.name)` — held for approval: \(reason)."
        case .run: "perfbot is running `\(playbook.name)` (\(playbook.actions.count) steps); the result follows in this thread."
        }
        return Decision(playbook: playbook, policy: policy, text: text)
    }

    /// Carries out a decision for the issue `issueID`; a run's result goes to `later` (the issue's thread).
    /// - Returns: what was done, for the cycle report.
    /// - Parameter ran: told of a run that ended (with the steps the policy held back), for the customer's
    ///   e-mail and the insights feed.
    func carryOut(_ decision: Decision, issueID: Int64, customer: Customer,
                  later: @escaping @Sendable (BotReply) async -> Void,
                  ran: @escaping @Sendable (Playbook, RunReport, _ held: [Int: String]) async -> Void = { _, _, _ in })
        async -> String? {
        guard let playbook = decision.playbook, let policy = decision.policy else { return nil }
        guard case let .run(skipped) = policy else {
            if case .holdForApproval = policy { return "\(playbook.name): held for approval" }
            return "\(playbook.name): refused"
        }
        guard let platform = platforms[customer.platform] else { return nil }
        let target: StoreTarget
        do {
            target = try StoreTarget(customer, platform: platform, executors: executors)
        } catch {
            await later(.text("`\(playbook.name)` could not run: \(error)."))
            return "\(playbook.name): could not run"
        }
        let runner = self.runner
        // A playbook with `notifications: slack: false` runs without a result in the issue's thread.
        let silent: @Sendable (BotReply) async -> Void = { _ in }
        let later = playbook.notifications.slack ? later : silent
        let finished = await jobs.run(patience: .zero, work: {
            do {
                let report = try await runner.run(playbook, on: target, dryRun: false, held: skipped, issueID: issueID)
                await ran(playbook, report, skipped)
                return .text("perfbot ran `\(playbook.name)`: \(Self.counts(report)).")
            } catch {
                return .text("`\(playbook.name)` could not run: \(error).")
            }
        }, late: later)
        guard let finished else { return "\(playbook.name): started" }
        await later(finished)
        return "\(playbook.name): \(finished.plainText)"
    }

    static func counts(_ report: RunReport) -> String {
        var ok = 0, skipped = 0, failed = 0
        for step in report.steps {
            switch step.status {
            case .succeeded: ok += 1
            case .skipped: skipped += 1
            case .failed: failed += 1
            case .planned: break
            }
        }
        return ["\(ok) ok", skipped > 0 ? "\(skipped) skipped" : nil, failed > 0 ? "\(failed) failed" : nil]
            .compactMap { $0 }.joined(separator: ", ")
    }
}
