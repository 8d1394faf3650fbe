import BotCore
import BotPlaybooks
import Foundation
import Logging

/// The scheduler: the check cycle every interval, and the commands about issues and silences.
public struct SchedulerPlugin: BotPlugin {
    public let name = "scheduler"
    let cycle: CheckCycle
    let store: any SchedulerStore & IssueReader
    let clock: any BotClock
    let interval: Duration
    let predictions: Predictions
    /// Cycles and predictions run only while this replica leads.
    let leadership: any Leadership
    /// Told of every complete cycle and when it completed (the metrics).
    let observe: @Sendable (CycleReport, Date) -> Void

    public init(cycle: CheckCycle, store: any SchedulerStore & IssueReader, clock: any BotClock, interval: Duration,
                predictions: Predictions, leadership: any Leadership = SoleReplica(),
                observe: @escaping @Sendable (CycleReport, Date) -> Void = { _, _ in }) {
        self.observe = observe
        self.leadership = leadership
        self.predictions = predictions
        self.cycle = cycle
        self.store = store
        self.clock = clock
        self.interval = interval
    }

    public var services: [any BotService] {
        let (cycle, predictions, logger, observe, store, clock, leadership) = (
            self.cycle, self.predictions, self.cycle.logger, self.observe, self.store, self.clock, self.leadership)
        return [
            PeriodicService(name: "scheduler", every: interval, clock: clock, logger: logger, leadership: leadership) {
                // Led in a new term: another replica may have run cycles meanwhile, so the memory is built afresh.
                await cycle.memory.follow(term: await leadership.leadingTerm())
                let report = try await cycle.run()
                observe(report, clock.now)
                // One line per cycle, so a quiet fleet still shows that it is being checked.
                logger.info("check cycle", metadata: [
                    "stores": "\(report.checked)", "seconds": "\(Wording.number(report.duration, decimals: 2))",
                    "opened": "\(report.opened.count)", "resolved": "\(report.resolved.count)",
                    "actions": "\(report.actions.count)", "errors": "\(report.errors.count)"])
            },
            // Checked often, run once a day: the last run is remembered across restarts.
            PeriodicService(name: "predictions", every: .seconds(600), clock: clock, logger: logger, leadership: leadership) {
                guard try await store.claimDailyRun("predictions", at: clock.now, interval: 86400) else { return }
                let notices = try await predictions.dailyRun()
                logger.info("predictions", metadata: ["notices": "\(notices.count)"])
            },
        ]
    }

    public var commands: [CommandSpec] {
        [
            CommandSpec("issues", arguments: [ArgumentSpec("store", .store, optional: true)], readOnly: true,
                        summary: "Open issues, most severe first (of one store or the fleet).",
                        examples: ["issues", "issues acme-store"]),
            CommandSpec("predict", arguments: [ArgumentSpec("store", .store, optional: true)], readOnly: true,
                        summary: "Forecasts: when memory, disk or CPU reach their limit; traffic surges.",
                        examples: ["predict", "predict acme-store"]),
            CommandSpec("silence", arguments: [ArgumentSpec("store", .store), ArgumentSpec("duration", .duration),
                                               ArgumentSpec("reason", .rest, optional: true)], role: .operator,
                        summary: "Mute a store's alerts and automation for a while (says so when it ends).",
                        examples: ["silence acme-store 2h planned migration"]),
            CommandSpec("silences", readOnly: true, summary: "The silences in force: store, until when, why and by whom.",
                        examples: ["silences"]),
            CommandSpec("unsilence", arguments: [ArgumentSpec("store", .store)], role: .operator,
                        summary: "End a store's silence now; what is still open is then alerted.",
                        examples: ["unsilence acme-store"]),
        ]
    }

    public func handle(_ command: ParsedCommand, context: CommandContext) async throws -> BotReply {
        switch command.name {
        case "issues": return try await issues(command.store())
        case "silence": return try await silence(command, context: context)
        case "silences": return try await silences()
        case "unsilence": return try await unsilence(command, context: context)
        case "predict": return try await predictions.reply(for: command.store())
        default: throw BotError.unsupported(command.name)
        }
    }

    func issues(_ id: StoreID?) async throws -> BotReply {
        if let id, try await store.customer(id) == nil {
            let names = try await store.allCustomers().map(\.id.rawValue)
            throw BotError.unknownStore(id.rawValue, among: names)
        }
        let now = clock.now
        let open = try await store.openIssues(store: id)
        let resolved = try await store.resolvedIssues(store: id, since: now.addingTimeInterval(-86400))
        let scope = id.map { "\($0)" } ?? "the fleet"
        let prefix: (IssueSummary) -> String = { id == nil ? "*\($0.store)* · " : "" }
        var blocks: [ReplyBlock] = [.header("Issues · \(scope)")]
        if open.isEmpty {
            blocks.append(.text("✅ No open issues."))
        } else {
            let lines = open.prefix(30).map { issue in
                let marker = issue.severity == .critical ? "🔴" : issue.severity == .warning ? "🟠" : "🔵"
                return "\(marker) \(prefix(issue))\(issue.summary) — since \(Wording.ago(issue.detectedAt, now: now))"
            }
            let more = open.count > 30 ? "\n… and \(open.count - 30) more" : ""
            blocks.append(.text("*Open (\(open.count))*\n" + lines.joined(separator: "\n") + more))
        }
        if !resolved.isEmpty {
            let lines = resolved.prefix(10).map { issue in
                "✅ \(prefix(issue))\(issue.summary) — resolved \(issue.resolvedAt.map { Wording.ago($0, now: now) } ?? "")"
            }
            blocks.append(.text("*Resolved in the last 24 h (\(resolved.count))*\n" + lines.joined(separator: "\n")))
        }
        return BotReply(blocks)
    }

    func silence(_ command: ParsedCommand, context: CommandContext) async throws -> BotReply {
        guard let id = command.store(), let duration = command.value("duration").flatMap(BotDuration.init) else {
            throw BotError.invalid("Usage: `/perf silence <store> <duration> [reason]`.")
        }
        guard try await store.customer(id) != nil else {
            let names = try await store.allCustomers().map(\.id.rawValue)
            throw BotError.unknownStore(id.rawValue, among: names)
        }
        let now = clock.now
        let until = now.addingTimeInterval(duration.seconds)
        let by = try context.member().user.rawValue
        let silence = try await store.addSilence(id, until: until, reason: command.value("reason"), by: by, at: now)
        try await store.audit(actor: by, channel: "slack", action: "silence.add", store: id,
                              details: ["silence": "\(silence)", "until": Wording.clockTime(until), "reason": command.value("reason") ?? ""],
                              result: "silenced", at: now)
        return BotReply([.text("🔕 \(id) is silenced until \(Wording.clockTime(until)) (\(command.value("duration") ?? "")): "
            + "no alerts and no automatic fixes. I'll say when it ends.")], visibility: .inChannel)
    }

    func silences() async throws -> BotReply {
        let now = clock.now
        let active = try await store.activeSilences(at: now)
        guard !active.isEmpty else { return BotReply([.text("🔔 No store is silenced.")]) }
        let lines = active.map { silence in
            let until = silence.endsAt.timeIntervalSince(now) < 86400 ? Wording.clockTime(silence.endsAt) : Wording.dayAndTime(silence.endsAt)
            return "🔕 *\(silence.store)* until \(until), by <@\(silence.createdBy)>" + (silence.reason.map { ": " + Wording.escapedForSlack($0) } ?? "")
        }
        return BotReply([.header("Silences (\(active.count))"), .text(lines.joined(separator: "\n")),
                         .text("`/perf unsilence <store>` ends one now.")])
    }

    func unsilence(_ command: ParsedCommand, context: CommandContext) async throws -> BotReply {
        guard let id = command.store() else { throw BotError.invalid("Usage: `/perf unsilence <store>`.") }
        guard try await store.customer(id) != nil else {
            let names = try await store.allCustomers().map(\.id.rawValue)
            throw BotError.unknownStore(id.rawValue, among: names)
        }
        let now = clock.now
        let by = try context.member().user.rawValue
        let ended = try await store.endSilences(of: id, at: now)
        try await store.audit(actor: by, channel: "slack", action: "silence.end", store: id, details: ["ended": "\(ended)"],
                              result: ended > 0 ? "ended" : "none", at: now)
        guard ended > 0 else { return BotReply([.text("\(id) is not silenced.")]) }
        return BotReply([.text("🔔 \(id)'s silence is over: alerts and automatic fixes are back on. "
            + "What is still open is posted with the next check.")], visibility: .inChannel)
    }
}
