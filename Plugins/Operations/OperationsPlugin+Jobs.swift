import BotCore
import BotPlaybooks
import Foundation

extension OperationsPlugin {
    /// `/perf jobs [<store>]`: what runs, what waits (in order), and the latest that ended, with their steps.
    func jobs(_ id: StoreID?) async throws -> BotReply {
        if let id { _ = try await customer(id) }
        let jobs = try await store.jobs(store: id, limit: 15)
        let scope = id.map { "\($0)" } ?? "all stores"
        guard !jobs.isEmpty else { return .text("No jobs for \(scope) yet. Every run, automatic or asked for, shows up here.") }
        let now = clock.now
        var blocks: [ReplyBlock] = [.header("Jobs · \(scope)")]
        for group in [[JobState.running], [.queued, .approved, .requested], JobState.allCases.filter(\.isFinal)] {
            let members = jobs.filter { group.contains($0.state) }
            guard !members.isEmpty else { continue }
            let heading = group == [.running] ? "Running" : group.contains(.queued) ? "Waiting, in order" : "Recent"
            let ordered = group.contains(.queued) ? members.sorted { $0.id < $1.id } : members
            blocks.append(.text("*\(heading)*\n" + ordered.map { line($0, now: now, scoped: id != nil) }.joined(separator: "\n")))
        }
        blocks.append(.context("At most one job runs per store; the rest wait their turn. `/perf cancel <job>` (operators) "
            + "takes a waiting job out or stops a running one before its next step."))
        return BotReply(blocks)
    }

    func line(_ job: JobRecord, now: Date, scoped: Bool) -> String {
        let when: String = switch job.state {
        case .running: "started \(Wording.ago(job.startedAt ?? job.createdAt, now: now))"
        case .queued, .approved, .requested:
            "asked \(Wording.ago(job.createdAt, now: now))"
                + (job.notBefore.map { $0 > now ? " · ⏰ not before \(Wording.dayAndTime($0))" : "" } ?? "")
        default: "ended \(Wording.ago(job.endedAt ?? job.createdAt, now: now))"
        }
        var text = "\(job.state.symbol) *\(job.id)* `\(job.playbook)`" + (scoped ? "" : " on \(job.store)")
            + " · \(job.state.rawValue) · by \(job.requesterLabel) · \(when)"
        if let summary = job.summary, job.state.isFinal { text += "\n      \(Wording.escapedForSlack(summary))" }
        if job.state == .running || job.state.isFinal, !job.steps.isEmpty {
            let marks = job.steps.map { step in
                step.status.symbol + " " + step.name
            }
            let notRun = job.plan.count - job.steps.count
            text += "\n      " + marks.joined(separator: " · ") + (notRun > 0 ? " · \(notRun) \(job.state == .running ? "to go" : "not run")" : "")
        }
        return text
    }

    /// `/perf cancel <job>`: takes a waiting job out, or stops a running one (its step under way too).
    func cancel(_ id: Int64, context: CommandContext) async throws -> BotReply {
        let member = try context.member()
        let who = "<@\(member.user)>"
        switch try await engine.cancel(id, by: member.user.rawValue) {
        case .unknown:
            return .text("There is no job \(id). `/perf jobs` lists them.")
        case let .alreadyEnded(state):
            return .text("Job \(id) has already ended (\(state.rawValue)); there is nothing to cancel.")
        case .cancelled:
            return BotReply([.text("🚫 Job \(id) cancelled by \(who) before it started; nothing of it ran.")], visibility: .inChannel)
        case .stopping:
            return BotReply([.text("🛑 Job \(id) is stopping (\(who) asked): the step under way is being ended where it runs, "
                + "and nothing after it starts. `/perf jobs` shows what ran.")], visibility: .inChannel)
        }
    }

    /// `/perf report [--days N]`: the success metrics of ORIGINAL-DESIGN §7 over the period.
    func report(days: Int) async throws -> BotReply {
        let figures = try await store.report(since: clock.now.addingTimeInterval(-Double(days) * 86400))
        func duration(_ seconds: Double?) -> String {
            guard let seconds else { return "—" }
            if seconds < 120 { return "\(Int(seconds)) s" }
            if seconds < 7200 { return "\(Int((seconds / 60).rounded())) min" }
            return "\(Wording.number(seconds / 3600)) h"
        }
        let rate = figures.issuesResolved == 0 ? "—"
            : "\(Int((Double(figures.autoFixed) / Double(figures.issuesResolved) * 100).rounded())) %"
        let proposals = ["approved", "rejected", "expired", "cancelled", "pending"].map { "\(figures.proposals[$0] ?? 0) \($0)" }
        let proposed = figures.proposals.values.reduce(0, +)
        let jobs = ["succeeded", "failed", "interrupted", "cancelled"].map { "\(figures.jobs[$0] ?? 0) \($0)" }
        var blocks: [ReplyBlock] = [
            .header("Report · last \(days) day\(days == 1 ? "" : "s")"),
            .fields([("Issues", "\(figures.issuesOpened) opened · \(figures.issuesResolved) resolved"),
                     ("Auto-fix rate", "\(rate) (\(figures.autoFixed) of \(figures.issuesResolved) resolved by automation)"),
                     ("Median time to resolve", duration(figures.medianResolveSeconds)),
                     ("Median time to detect", duration(figures.medianDetectSeconds)),
                     ("Fixes proposed", "\(proposed): " + proposals.joined(separator: ", ")),
                     ("Jobs", jobs.joined(separator: ", "))]),
        ]
        if !figures.topStores.isEmpty {
            blocks.append(.text("*Most issues*\n" + figures.topStores.map { "• \($0.store): \($0.issues)" }.joined(separator: "\n")))
        }
        blocks.append(.context("Auto-fix rate: resolved issues a job of the automation fixed without anyone's yes. "
            + "Time to detect: from the condition's start to the alert."))
        return BotReply(blocks)
    }
}
