import BotCore
import BotPlaybooks
import Foundation

/// Applies the automation policy when a rule opens an issue: runs (as a job), proposes or only notifies.
public struct Automation: Sendable {
    let library: PlaybookLibrary
    let planner: JobPlanner
    let engine: JobEngine
    let gate = ActionGate()
    /// Wait for each run to end inside the cycle (`check --once`).
    let inline: Bool

    public init(library: PlaybookLibrary, planner: JobPlanner, engine: JobEngine, inline: Bool = false) {
        self.library = library
        self.planner = planner
        self.engine = engine
        self.inline = inline
    }

    /// What the policy decided for a new issue, before anything runs.
    public struct Decision: Sendable {
        public var playbook: Playbook?
        public var policy: PolicyDecision?
        /// The steps as they would run (argv rendered, held steps marked); nil when the store cannot be planned.
        public var plan: [PlannedStep]?
        /// The decision in words, for the alert.
        public var text: String
    }

    /// Decides what to do about `rule` firing for `customer` (nothing runs yet), with the store's silence as the
    /// cycle read it.
    func decide(_ rule: DetectionRule, customer: Customer, silence: Silence?, now: Date) -> Decision {
        guard let playbook = library.playbook(triggeredBy: rule.name, for: customer.platform) else {
            return Decision(playbook: nil, policy: nil, plan: nil, text: "No playbook handles this; nothing was changed.")
        }
        let plan = playbook.actionPlan(battery: planner.isBattery(playbook, for: customer))
        let policy = gate.decide(plan, customer: customer, requester: .policy, entry: .automatic, silence: silence, now: now)
        // A held fix, once approved, leaves out what the customer's exceptions exclude.
        let held: [Int: String] = switch policy {
        case let .run(skipped): skipped
        case .holdForApproval:
            if case let .run(skipped) = gate.decide(plan, customer: customer, requester: .policy, entry: .approval,
                                                    silence: silence, now: now) { skipped } else { [:] }
        case .refuse: [:]
        }
        let steps: [PlannedStep]
        do {
            steps = try planner.plan(playbook, for: customer, held: held)
        } catch {
            return Decision(playbook: playbook, policy: .refuse("\((error as? BotError)?.userMessage ?? "\(error)")"), plan: nil,
                            text: "`\(playbook.name)` cannot run: \((error as? BotError)?.userMessage ?? "\(error)")")
        }
        let text = switch policy {
        case let .refuse(reason): "`\(playbook.name)` not run: \(reason)."
        case let .holdForApproval(reason): "Proposes `\(playbook.name)` — held for approval: \(reason)."
        case .run: "perfbot is running `\(playbook.name)` (\(playbook.actions.count) steps); the result follows in this thread."
        }
        return Decision(playbook: playbook, policy: policy, plan: steps, text: text)
    }

    /// Carries out a decision for the issue `issueID` as a job; its result goes to `later` (the issue's thread).
    /// - Returns: what was done, for the cycle report.
    /// - Parameter ran: told of a run that ended, for the customer's e-mail and the insights feed.
    func carryOut(_ decision: Decision, issueID: Int64, customer: Customer, reason: String,
                  later: @escaping @Sendable (BotReply) async -> Void,
                  ran: @escaping @Sendable (Playbook, RunReport, _ held: [Int: String]) async -> Void = { _, _, _ in })
        async -> String? {
        guard let playbook = decision.playbook, let policy = decision.policy else { return nil }
        guard case let .run(skipped) = policy, decision.plan != nil else {
            if case .holdForApproval = policy { return "\(playbook.name): held for approval" }
            return "\(playbook.name): refused"
        }
        // A playbook with `notifications: slack: false` runs without a result in the issue's thread.
        let notify = playbook.notifications.slack
        let request = ActionRequest(playbook, on: customer, requester: .policy, entry: .automatic,
                                    battery: planner.isBattery(playbook, for: customer), issueID: issueID, reason: reason)
        let listener: @Sendable (JobOutcome) async -> Void = { outcome in
            if let report = outcome.report, outcome.job.state == .succeeded || outcome.job.state == .failed {
                await ran(playbook, report, skipped)
            }
            if notify { await later(.text(Self.line(outcome))) }
        }
        do {
            // The engine gates it again as it queues it: what was decided for the alert still holds, or it says why not.
            switch try await engine.admit(request, listener: listener) {
            case let .refused(why), let .heldForApproval(why):
                await later(.text("`\(playbook.name)` was not run: \(why)."))
                return "\(playbook.name): refused"
            case .excluded:
                return "\(playbook.name): every step held back"
            case let .queued(.duplicate(job)):
                return "\(playbook.name): already queued as job \(job.id)"
            case let .queued(.admitted(job, ahead)):
                if inline {
                    let outcome = await engine.outcome(of: job.id)
                    if outcome.job.state.isFinal { return "\(playbook.name): \(Self.line(outcome))" }
                }
                return "\(playbook.name): job \(job.id) " + (ahead > 0 ? "queued (\(ahead) ahead)" : "started")
            }
        } catch {
            await later(.text("`\(playbook.name)` could not be queued: \(error)."))
            return "\(playbook.name): could not queue"
        }
    }

    /// A job's end in one line, for the issue's thread.
    static func line(_ outcome: JobOutcome) -> String {
        let job = outcome.job
        guard let report = outcome.report else {
            return "\(job.state.symbol) `\(job.playbook)` (job \(job.id)) \(job.state.rawValue): \(Wording.escapedForSlack(job.summary ?? ""))"
        }
        return "perfbot ran `\(job.playbook)`: \(counts(report)). (job \(job.id))"
    }

    static func counts(_ report: RunReport) -> String {
        var ok = 0, skipped = 0, failed = 0
        for step in report.steps {
            guard step.status != .planned else { continue }
            switch step.status.recorded.state {
            case .succeeded: ok += 1
            case .skipped: skipped += 1
            case .failed: failed += 1
            }
        }
        return ["\(ok) ok", skipped > 0 ? "\(skipped) skipped" : nil, failed > 0 ? "\(failed) failed" : nil]
            .compactMap { $0 }.joined(separator: ", ")
    }
}
