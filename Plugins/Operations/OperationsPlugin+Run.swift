import BotCore
import BotPlaybooks
import Foundation

extension OperationsPlugin {
    /// Runs (or plans) `playbook` on `customer` as an operator asked: role, plan gate, exceptions, records.
    /// - Parameter battery: the one-click battery is an operator's tool by design; any other risky
    ///   playbook needs the admin role.
    func run(_ playbook: Playbook, on customer: Customer, platform: any PlatformPlugin, dryRun: Bool, battery: Bool,
             context: CommandContext) async throws -> BotReply {
        if playbook.isRisky && !battery && context.invoker.role < .admin && !dryRun {
            let risky = playbook.actions.filter { !$0.isLowRisk }.map { "'\($0.name)'" }.joined(separator: ", ")
            return .text("Sorry, `\(playbook.name)` is risky (\(risky) is neither safe nor reversible), so running it "
                + "needs the admin role; you are \(context.invoker.role.withArticle). "
                + "`--dry-run` shows what it would do.")
        }
        let skipped: [Int: String]
        switch policy.requested(playbook.actions.map(\.traits), playbookPremiumOnly: playbook.premiumOnly, customer: customer) {
        case let .refuse(reason): return .text("Not run: \(reason).")
        case let .holdForApproval(reason): return .text("Held for approval: \(reason).")
        case let .run(held): skipped = held
        }
        let target: StoreTarget
        do {
            target = try StoreTarget(customer, platform: platform, executors: executors)
        } catch let error as PlaybookError {
            throw BotError.invalid("Cannot run on \(customer.id): \(error).")
        } catch let error as ExecutorError {
            throw BotError.invalid("Cannot reach \(customer.id): \(error).")
        }
        let started = clock.now
        let report = try await runner.run(playbook, on: target, dryRun: dryRun, held: skipped)
        let elapsed = clock.now.timeIntervalSince(started)
        if !dryRun {
            let summary = Self.summary(report)
            try await store.recordIntervention(store: customer.id, admin: context.invoker.user.rawValue,
                                               playbook: playbook.name, reason: "requested in Slack",
                                               result: summary, at: clock.now)
            try await store.audit(actor: context.invoker.user.rawValue, channel: "slack", action: "playbook.run",
                                  store: customer.id, details: ["playbook": playbook.name],
                                  result: report.succeeded ? "succeeded" : "failed", at: clock.now)
            context.logger.info("playbook run", metadata: ["store": "\(customer.id)", "playbook": "\(playbook.name)",
                                                           "result": "\(report.succeeded ? "succeeded" : "failed")"])
        }
        return Self.render(report, customer: customer, elapsed: elapsed)
    }

    static func summary(_ report: RunReport) -> [String: String] {
        var counts = ["succeeded": 0, "skipped": 0, "failed": 0]
        for step in report.steps {
            switch step.status {
            case .succeeded: counts["succeeded", default: 0] += 1
            case .skipped: counts["skipped", default: 0] += 1
            case .failed: counts["failed", default: 0] += 1
            case .planned: break
            }
        }
        return counts.mapValues(String.init)
    }

    /// The run as a Slack reply: one line per step, short reasons, the exact argv in a dry run.
    static func render(_ report: RunReport, customer: Customer, elapsed: TimeInterval) -> BotReply {
        let title = "\(report.playbook.title) · \(customer.id)"
        var lines: [String] = []
        for step in report.steps {
            switch step.status {
            case .planned:
                let safety = step.action.safe ? "safe" : step.action.reversible ? "reversible" : "*risky*"
                let condition = step.action.when.map { " · only if \($0)" } ?? ""
                let wait = step.action.wait > 0 ? " · after \(Int(step.action.wait / 60)) min" : ""
                lines.append("• \(step.action.name) — `\(step.argv.joined(separator: " "))`\n"
                    + "   \(step.action.target.rawValue) · \(safety)\(condition)\(wait)")
            case .succeeded:
                lines.append("✅ \(step.action.name) — \(Wording.number(step.outcome?.duration ?? 0)) s")
            case let .skipped(reason):
                lines.append("⏭️ \(step.action.name) skipped: \(reason.replacingOccurrences(of: "\(step.action.name) skipped: ", with: ""))")
            case let .failed(reason):
                lines.append("❌ \(step.action.name) — \(reason)")
            }
        }
        let header: String
        if report.dryRun {
            header = "Dry run: nothing was changed. \(report.steps.count) steps via \(report.executorLabel)."
        } else {
            let failed = report.steps.filter { if case .failed = $0.status { true } else { false } }.count
            header = failed == 0 ? "Done in \(Wording.number(elapsed)) s via \(report.executorLabel)."
                : "\(failed) of \(report.steps.count) steps failed (\(Wording.number(elapsed)) s via \(report.executorLabel))."
        }
        return BotReply([.header(title), .text(header), .text(lines.joined(separator: "\n")),
                         .context(report.dryRun ? "Run it for real without --dry-run." : "Recorded in the audit log.")],
                        visibility: report.dryRun ? .ephemeral : .inChannel)
    }

    func listing(_ platform: Platform?) -> BotReply {
        let playbooks = library.list(platform)
        guard !playbooks.isEmpty else { return .text("No playbooks loaded.") }
        let table = ReplyTable(
            columns: ["Playbook", "Platform", "Trigger", "Steps", "Safety"],
            rows: playbooks.map { [$0.name, $0.platform.displayName, $0.trigger.description, "\($0.actions.count)",
                                   $0.safetyLabel + ($0.premiumOnly ? " · premium" : "")] },
            rightAligned: [3])
        return BotReply([.header("Playbooks" + (platform.map { " · \($0.displayName)" } ?? "")), .table(table),
                         .context("`/perf run <playbook> <store> --dry-run` shows the exact commands.")])
    }
}
