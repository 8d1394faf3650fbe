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

    /// What happened, in words for the alert, and for the cycle report.
    public struct Outcome: Sendable {
        public var text: String
        public var action: String?
    }

    /// - Parameter later: posts the result of a run that finishes after the alert went out.
    func respond(to rule: DetectionRule, issueID: Int64, customer: Customer, now: Date,
                 later: @escaping @Sendable (BotReply) async -> Void) async throws -> Outcome {
        guard let playbook = library.playbook(triggeredBy: rule.name, for: customer.platform),
              let platform = platforms[customer.platform] else {
            return Outcome(text: "No playbook handles this; nothing was changed.", action: nil)
        }
        switch policy.automatic(playbook.actions.map(\.traits), playbookPremiumOnly: playbook.premiumOnly, customer: customer) {
        case let .refuse(reason):
            return Outcome(text: "`\(playbook.name)` not run: \(reason).", action: "\(playbook.name): refused")
        case let .holdForApproval(reason):
            return Outcome(text: "Proposes `\(playbook.name)` — held for approval: \(reason).",
                           action: "\(playbook.name): held for approval")
        case let .run(skipped):
            let values: TemplateValues
            let executor: any CommandExecutor
            do {
                values = try platform.templateValues(for: customer)
                executor = try executors.executor(for: customer)
            } catch {
                return Outcome(text: "`\(playbook.name)` could not run: \(error).", action: "\(playbook.name): could not run")
            }
            let runner = self.runner
            let finished = await jobs.run(patience: .zero, work: {
                do {
                    let report = try await runner.run(playbook, store: customer.id, values: values, executor: executor,
                                                      workingDirectory: values[.appPath], dryRun: false, held: skipped,
                                                      issueID: issueID)
                    return .text("perfbot ran `\(playbook.name)`: \(Self.counts(report)).")
                } catch {
                    return .text("`\(playbook.name)` could not run: \(error).")
                }
            }, late: later)
            guard let finished else {
                return Outcome(text: "perfbot is running `\(playbook.name)` (\(playbook.actions.count) steps); "
                    + "the result follows in this thread.", action: "\(playbook.name): started")
            }
            return Outcome(text: finished.plainText, action: "\(playbook.name): \(finished.plainText)")
        }
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
