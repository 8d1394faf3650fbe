import BotCore
import BotPlaybooks
import Foundation

extension OperationsPlugin {
    /// Plans `playbook` on `customer` (a dry run), or queues it as a job and answers with its result when it
    /// ends within the patience, or says where it is (running, queued with its place) and posts the result later.
    /// - Parameter battery: the one-click battery is an operator's tool by design; any other risky
    ///   playbook needs the admin role.
    func run(_ playbook: Playbook, on customer: Customer, dryRun: Bool, battery: Bool,
             context: CommandContext) async throws -> BotReply {
        let requester = Requester(try context.member())
        let late = context.replyLater
        let request = ActionRequest(playbook, on: customer, requester: requester, entry: .requested, battery: battery,
                                    reason: "requested in Slack")
        if dryRun {
            // Anyone may see what a playbook would do: a dry run acts on nothing, so no role is needed.
            var preview = request
            preview.requester = .policy
            switch try await engine.check(preview).decision {
            case let .refuse(reason): return .text("Not run: \(reason).")
            case let .holdForApproval(reason): return .text("Held for approval: \(reason).")
            case let .run(held):
                let report = try await runner.run(playbook, on: try planner.target(customer, for: playbook), dryRun: true, held: held)
                return Self.render(report, customer: customer, elapsed: 0)
            }
        }
        let title = "*\(playbook.title)* on \(customer.id)"
        let admission: JobAdmission
        switch try await engine.admit(request, listener: Self.listener(late, customer: customer)) {
        case let .refused(reason): return .text("Not run: \(reason). `--dry-run` shows what it would do.")
        case let .heldForApproval(reason): return .text("Held for approval: \(reason).")
        case let .excluded(held):
            // Which exceptions hold the steps back comes from the policy, as names, not read out of its sentences.
            let exceptions = AutomationPolicy().exceptions(covering: playbook.actionPlan(battery: battery).actions, customer: customer)
            guard !exceptions.isEmpty else {
                return .text("Not run: every step is held back for \(customer.id) (\(Set(held.values).sorted().joined(separator: "; "))).")
            }
            return .text("Not run: \(customer.id)'s automation settings exclude what it does (\(exceptions.joined(separator: ", "))). "
                + "`/perf automation \(customer.id) unskip \(exceptions.joined(separator: " "))` allows it again.")
        case let .queued(queued): admission = queued
        }
        switch admission {
        case let .duplicate(job):
            return .text("`\(playbook.name)` is already queued for \(customer.id) as job \(job.id); nothing new was queued. "
                + "`/perf jobs \(customer.id)` shows the queue.")
        case let .admitted(job, ahead) where ahead > 0:
            return BotReply([.text("⏳ Queued \(title) as job \(job.id): \(ahead) job\(ahead == 1 ? "" : "s") "
                + "for this store \(ahead == 1 ? "runs or waits" : "run or wait") ahead of it (place \(ahead + 1)). "
                + (late == nil ? "`/perf jobs \(customer.id)` shows when it ran." : "The result will follow here.")),
                             .context("At most one job runs per store. `/perf cancel \(job.id)` takes it out of the queue.")],
                            visibility: .inChannel)
        case let .admitted(job, _):
            guard late != nil else {
                return Self.render(await engine.outcome(of: job.id), customer: customer)
            }
            let engine = self.engine
            // A real run may take minutes (a reindex): answer within Slack's limit; the listener posts the rest.
            let reply = await work.run(patience: patience, work: {
                Self.render(await engine.outcome(of: job.id), customer: customer)
            }, late: { _ in })
            return reply ?? BotReply([.text("⏳ Running \(title) (\(playbook.actions.count) steps) as job \(job.id). "
                + "The result will follow here.")], visibility: .inChannel)
        }
    }

    /// Posts a job's end through `late` (Slack's `response_url`), when there is one.
    static func listener(_ late: (@Sendable (BotReply) async -> Void)?,
                         customer: Customer) -> (@Sendable (JobOutcome) async -> Void)? {
        guard let late else { return nil }
        return { outcome in await late(render(outcome, customer: customer)) }
    }

    /// A job's end as a Slack reply: the run's steps when it ran here, else what the record says.
    static func render(_ outcome: JobOutcome, customer: Customer) -> BotReply {
        let job = outcome.job
        guard let report = outcome.report else {
            return BotReply([.text("\(job.state.symbol) Job \(job.id) (`\(job.playbook)` on \(job.store)) \(job.state.rawValue): "
                + Wording.escapedForSlack(job.summary ?? ""))], visibility: .inChannel)
        }
        // The record keeps whole seconds; the steps' own durations are finer.
        let elapsed = max((job.endedAt ?? job.createdAt).timeIntervalSince(job.startedAt ?? job.createdAt),
                          report.steps.reduce(0) { $0 + ($1.outcome?.duration ?? 0) })
        var reply = render(report, customer: customer, elapsed: elapsed)
        if job.state == .cancelled || job.state == .interrupted {
            reply.blocks.insert(.text("\(job.state.symbol) Job \(job.id) \(job.state.rawValue): "
                + Wording.escapedForSlack(job.summary ?? "")), at: 1)
        }
        reply.blocks.append(.context("Job \(job.id) · `/perf jobs \(job.store)`"))
        return reply
    }

    /// The run as a Slack reply: one line per step, short reasons, the exact argv in a dry run. A failure's
    /// reason carries the command's output, from outside perfbot, so it is escaped.
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
            case let .skipped(reason), let .held(reason):
                let short = reason.replacingOccurrences(of: "\(step.action.name) skipped: ", with: "")
                lines.append("⏭️ \(step.action.name) skipped: \(short)")
            case let .notRun(reason):
                lines.append("⏭️ \(step.action.name) not run: \(reason)")
            case let .failed(reason):
                lines.append("❌ \(step.action.name) — \(Wording.escapedForSlack(reason))")
            case let .stopped(reason):
                lines.append("🛑 \(step.action.name) — stopped: \(reason)")
            case let .unreachable(reason):
                lines.append("❌ \(step.action.name) — could not reach the store: \(Wording.escapedForSlack(reason))")
            }
        }
        let header: String
        if report.dryRun {
            header = "Dry run: nothing was changed. \(report.steps.count) steps via \(report.executorLabel)."
        } else {
            let failed = report.steps.filter { $0.status.recorded.state == .failed }.count
            header = failed == 0 ? "Done in \(Wording.number(elapsed)) s via \(report.executorLabel)."
                : report.steps.contains(where: \.status.unreachable)
                ? "Stopped: the store could not be reached (via \(report.executorLabel)), so nothing after that step was tried."
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
