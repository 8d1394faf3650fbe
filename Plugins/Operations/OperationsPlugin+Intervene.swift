import BotCore
import BotPlaybooks
import Foundation

/// Admins' interventions (ORIGINAL-DESIGN §3.4): an intervention playbook run as a job, with its reason, its plan
/// shown first, an optional start time, the admin's second factor for destructive ones (a code typed in a Slack
/// modal, never in a channel) and, where the playbook says so, a second admin's confirmation. All audited.
extension OperationsPlugin {
    /// The modal in which the admin who asked types their code.
    static let factorModal = "intervention_factor"
    /// The modal in which the second admin types theirs.
    static let confirmModal = "intervention_confirm_factor"
    /// How long an intervention waits for its requester's code.
    static let factorWindow: TimeInterval = 600

    static let interveneSpec = CommandSpec(
        "intervene", arguments: [ArgumentSpec("playbook", .word), ArgumentSpec("store", .store)],
        flags: [FlagSpec("reason", values: [], help: "why, in words: kept in the audit log (required)"),
                FlagSpec("at", values: [], help: "off-peak (the store's next maintenance window) or \"YYYY-MM-DD HH:MM\" UTC"),
                FlagSpec("plan", values: [], help: "the plan `migrate_plan` moves the store to"),
                FlagSpec("cache", values: PremiumCache.allCases.map(\.rawValue), help: "the cache `enable_premium_caching` provisions")],
        role: .admin,
        summary: "Run an intervention playbook on a store (admins; destructive ones need your second factor).",
        examples: ["intervene optimize_store acme-store --reason \"slow checkout since the sale\"",
                   "intervene schedule_maintenance acme-store --reason \"monthly\" --at off-peak",
                   "intervene migrate_plan acme-store --plan premium --reason \"outgrew basic\" --at off-peak"])

    static let confirmSpec = CommandSpec(
        "confirm", arguments: [ArgumentSpec("job", .integer(1...Int.max))], role: .admin,
        summary: "Confirm, as the second admin, an intervention that needs two people.",
        examples: ["confirm 42"])

    /// `/perf intervene <playbook> <store> --reason "…" [--at off-peak|YYYY-MM-DD HH:MM]`.
    func intervene(_ command: ParsedCommand, context: CommandContext) async throws -> BotReply {
        let member = try context.member()
        guard let id = command.store() else { throw BotError.invalid("Which store?") }
        let customer = try await customer(id)
        let name = command.value("playbook") ?? ""
        let interventions = library.list(customer.platform).filter { $0.intervention != nil }.map(\.name) + [Self.contactIntervention]
        if name == Self.contactIntervention {
            let reason = (command.option("reason") ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
            guard reason.count >= 3 else {
                throw BotError.invalid("An intervention needs a reason, kept in the audit log: "
                    + "`/perf intervene \(name) \(customer.id) --reason \"…\"`.")
            }
            return try await contactPreview(customer, reason: reason, member: member)
        }
        guard var playbook = library.playbook(name, for: customer.platform), let guarding = playbook.intervention else {
            throw BotError.invalid("`\(name.prefix(40))` is not an intervention for \(customer.platform.displayName) stores. "
                + "Interventions: " + interventions.map { "`\($0)`" }.joined(separator: ", ") + ".")
        }
        let reason = (command.option("reason") ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard reason.count >= 3 else {
            throw BotError.invalid("An intervention needs a reason, kept in the audit log: "
                + "`/perf intervene \(playbook.name) \(customer.id) --reason \"…\"`.")
        }
        if let subject = playbook.changes { playbook = playbook.making(try hostingTarget(subject, command, customer: customer)) }
        let now = clock.now
        let at = try startTime(command.option("at") ?? (playbook.name == "schedule_maintenance" ? "off-peak" : nil),
                               customer: customer, now: now)
        // The plan first: every step with its argv, as it will run (refused here when a value is missing).
        let steps = try planner.plan(playbook, for: customer, held: [:])
        if guarding.mfa {
            guard let factor else {
                throw BotError.invalid("Interventions that change a store need a second factor, and perfbot has none set up.")
            }
            guard try await factor.isEnrolled(member.user) else {
                throw BotError.invalid("`\(playbook.name)` needs your second factor, and you have none enrolled. "
                    + "An operator of perfbot's host runs `perfbot admins enroll \(member.user)` and gives you the code to scan.")
            }
        }
        let fresh = try await guarding.mfa ? factor?.isFresh(member.user, at: now) ?? false : true
        var request = ActionRequest(playbook, on: customer, requester: Requester(member), entry: .requested,
                                    reason: "intervention: \(reason)", notBefore: at)
        request.initialState = !fresh ? .requested : guarding.twoPerson ? .held : .queued
        let job: JobRecord
        switch try await engine.admit(request, listener: Self.listener(context.replyLater, customer: customer)) {
        case let .refused(why), let .heldForApproval(why): return .text("Not run: \(why).")
        case .excluded: return .text("Not run: \(customer.id)'s automation settings exclude every step of it.")
        case let .queued(.duplicate(same)):
            return .text("`\(playbook.name)` already waits for \(customer.id) as job \(same.id); nothing new was queued.")
        case let .queued(.admitted(admitted, _)): job = admitted
        }
        try await store.audit(actor: member.user.rawValue, channel: "slack", action: "intervention.request", store: customer.id,
                              details: ["job": "\(job.id)", "playbook": playbook.name, "reason": reason,
                                        "at": at.map(Wording.dayAndTime) ?? "now", "mfa": guarding.mfa ? (fresh ? "fresh" : "asked") : "not needed",
                                        "two_person": "\(guarding.twoPerson)"],
                              result: job.state.rawValue, at: now)
        var blocks: [ReplyBlock] = [
            .header("Intervention · \(playbook.title) · \(customer.id)"),
            .fields([("Reason", Wording.escapedForSlack(reason)), ("When", at.map { "not before \(Wording.dayAndTime($0))" } ?? "now"),
                     ("Job", "\(job.id)")] + (playbook.hostingChange.map { [("Change", Self.changeLine($0.target, customer: customer))] } ?? [])),
        ]
        if !playbook.checklist.isEmpty {
            blocks.append(.text("*Before it runs, check*\n" + playbook.checklist.map { "☐ \($0)" }.joined(separator: "\n")))
        }
        blocks += [
            .text("*Plan*\n" + steps.map { "• \($0.name) — `\($0.argv.joined(separator: " "))`" }.joined(separator: "\n")),
        ]
        switch job.state {
        case .requested:
            blocks.append(.context("Type the code from your authenticator app in the window that opened; "
                + "nothing runs until it holds (it lapses in \(Int(Self.factorWindow / 60)) min)."))
            return BotReply(blocks, modal: ModalRequest(
                callbackID: Self.factorModal, metadata: "\(job.id)", title: "Confirm intervention",
                blocks: [.text("*\(playbook.title)* on *\(customer.id)*\n\(Wording.escapedForSlack(reason))")]
                    + (playbook.checklist.isEmpty ? [] : [.text("Your code confirms you checked:\n"
                        + playbook.checklist.map { "• \($0)" }.joined(separator: "\n"))])
                    + [.context("\(steps.count) steps · job \(job.id)")],
                inputLabel: "Code from your authenticator app",
                inputHint: "6 digits. It is checked once and never shown in a channel.", submitLabel: "Confirm"))
        case .held:
            blocks.append(contentsOf: secondAdminBlocks(job))
            return BotReply(blocks, visibility: .inChannel)
        default:
            blocks.append(.context(at == nil ? "Queued: the result follows here. `/perf jobs \(customer.id)`"
                : "Scheduled: it starts at its time, or after a restart that outlasted it. `/perf cancel \(job.id)` takes it out."))
            return BotReply(blocks, visibility: .inChannel)
        }
    }

    /// What a hosting change moves the store to: `--plan` (a known plan, larger than its own) or `--cache`.
    func hostingTarget(_ subject: HostingChange.Subject, _ command: ParsedCommand, customer: Customer) throws -> HostingChange.Target {
        switch subject {
        case .plan:
            let names = plans.names.map { "`\($0)`" }.joined(separator: ", ")
            guard let name = command.option("plan") else { throw BotError.invalid("Which plan? Add `--plan <name>` (\(names)).") }
            guard let plan = plans.plan(named: name) else {
                throw BotError.invalid("`\(name.prefix(32))` is not a plan perfbot knows (\(names)).")
            }
            guard plan != customer.plan else { throw BotError.invalid("\(customer.id) is on the \(plan) plan already; nothing to do.") }
            guard plan.isPremium || !customer.plan.isPremium else {
                throw BotError.invalid("\(plan) is a basic plan and \(customer.id) is on premium (\(customer.plan)): "
                    + "that is not a larger plan, and it would take its premium features away.")
            }
            return .plan(plan.rawValue)
        case .cache:
            guard let name = command.option("cache"), let cache = PremiumCache(rawValue: name.lowercased()) else {
                throw BotError.invalid("Which cache? Add `--cache redis` or `--cache varnish`.")
            }
            guard !customer.probes.contains(cache.probe) else {
                throw BotError.invalid("\(customer.id) has \(cache.rawValue.capitalized) already (perfbot measures it); nothing to do.")
            }
            return .caching(cache)
        }
    }

    /// `plan basic → premium`, `cache: Redis`.
    static func changeLine(_ target: HostingChange.Target, customer: Customer) -> String {
        switch target {
        case let .plan(name): "plan \(customer.plan) → \(name)"
        case let .caching(cache): "cache: \(cache == .redis ? "Redis" : "Varnish"), measured once it is in place"
        }
    }

    /// What asks a second admin to confirm.
    func secondAdminBlocks(_ job: JobRecord) -> [ReplyBlock] {
        [.text("👥 This intervention needs a second admin: it waits until another admin confirms it."),
         .buttons([ReplyButton(label: "Confirm as second admin", actionID: "intervention_confirm", value: "\(job.id)",
                               style: .primary, command: "/perf confirm \(job.id)")])]
    }

    /// `--at off-peak` is the store's next maintenance window; `YYYY-MM-DD HH:MM` a time in UTC, in the future.
    func startTime(_ text: String?, customer: Customer, now: Date) throws -> Date? {
        guard let text else { return nil }
        if text.lowercased() == "off-peak" {
            guard let window = customer.maintenanceWindow else {
                throw BotError.invalid("\(customer.id) has no maintenance window yet: give it one (`maintenance_window:` in the "
                    + "customers file) or name a time, `--at \"YYYY-MM-DD HH:MM\"` (UTC).")
            }
            return window.opening(containing: now) != nil ? now : window.nextOpening(atOrAfter: now)
        }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = text.contains("T") ? "yyyy-MM-dd'T'HH:mm" : "yyyy-MM-dd HH:mm"
        guard text.count == 16, let date = formatter.date(from: text) else {
            throw BotError.invalid("`--at \(text.prefix(30))` is neither `off-peak` nor a time such as `\"2027-01-20 03:00\"` (UTC).")
        }
        guard date > now else { throw BotError.invalid("`--at \(text)` is in the past.") }
        guard date < now.addingTimeInterval(90 * 86400) else { throw BotError.invalid("`--at` may be at most 90 days ahead.") }
        return date
    }

    /// `/perf confirm <job>`: the second admin's yes, after their own second factor.
    func confirm(_ id: Int64, context: CommandContext) async throws -> BotReply {
        let member = try context.member()
        let job = try await heldIntervention(id, confirmer: member)
        if try await factor?.isFresh(member.user, at: clock.now) != true {
            guard let factor, try await factor.isEnrolled(member.user) else {
                throw BotError.invalid("Confirming needs your second factor, and you have none enrolled "
                    + "(`perfbot admins enroll \(member.user)` on perfbot's host).")
            }
            return BotReply([.text("Type your code in the window that opened to confirm job \(job.id).")], modal: ModalRequest(
                callbackID: Self.confirmModal, metadata: "\(job.id)", title: "Second admin",
                blocks: [.text("Confirm `\(job.playbook)` on *\(job.store)*, asked by \(job.requesterLabel): "
                    + Wording.escapedForSlack(job.reason))],
                inputLabel: "Code from your authenticator app", inputHint: "6 digits, checked once.", submitLabel: "Confirm"))
        }
        return try await release(job, to: .queued, from: .held, by: member, context: context)
    }

    /// How the job's playbook is guarded as an intervention, read from its kind; nil for any other job.
    func intervention(of job: JobRecord) async throws -> Intervention? {
        guard let customer = try await store.customer(job.store) else { return nil }
        return library.playbook(for: job.kind, platform: customer.platform)?.intervention
    }

    /// The held intervention `id`, which `confirmer` may confirm (an admin other than the one who asked).
    func heldIntervention(_ id: Int64, confirmer: TeamMember) async throws -> JobRecord {
        guard let job = try await store.job(id) else { throw BotError.invalid("There is no job \(id).") }
        guard job.state == .held, job.approvalID == nil, try await intervention(of: job)?.twoPerson == true else {
            throw BotError.invalid("Job \(id) does not wait for a second admin (it is \(job.state.rawValue)).")
        }
        guard job.requestedBy != confirmer.user.rawValue else {
            throw BotError.invalid("You asked for job \(id): another admin must confirm it.")
        }
        return job
    }

    public var modalCallbacks: [String] { [Self.factorModal, Self.confirmModal] }

    /// A code typed in one of the intervention modals.
    public func submit(_ submission: ModalSubmission, context: CommandContext) async throws -> ModalOutcome {
        let member = try context.member()
        guard member.role >= .admin else { return .close(.text("Interventions are for admins; nothing was done.")) }
        guard let id = Int64(submission.metadata), let job = try await store.job(id) else {
            return .close(.text("That intervention no longer exists; nothing was done."))
        }
        let confirming = submission.callbackID == Self.confirmModal
        if confirming {
            _ = try await heldIntervention(id, confirmer: member)
        } else {
            guard job.requestedBy == member.user.rawValue else { return .close(.text("Only the admin who asked can confirm job \(id).")) }
            guard job.state == .requested else {
                return .close(.text("Job \(id) is no longer waiting for a code (it is \(job.state.rawValue)); nothing else was done."))
            }
        }
        guard let factor else { return .close(.text("perfbot has no second factor set up; nothing was done.")) }
        let now = clock.now
        let verdict = try await factor.verify(member.user, code: submission.input, at: now)
        let result: String = switch verdict {
        case .verified: "verified"
        case .notEnrolled: "not enrolled"
        case .wrong: "wrong code"
        case .reused: "code reused"
        }
        // The check is audited, never the code.
        try await store.audit(actor: member.user.rawValue, channel: "slack", action: "mfa.check", store: job.store,
                              details: ["job": "\(id)", "for": confirming ? "second admin" : "intervention"], result: result, at: now)
        switch verdict {
        case .notEnrolled:
            return .close(.text("You have no second factor enrolled; nothing was done."))
        case .wrong:
            return .inputError("That code does not match. Type the 6 digits your authenticator app shows now.")
        case .reused:
            return .inputError("That code was used already. Wait for the next one (every 30 s) and type it.")
        case .verified:
            if confirming {
                return .close(try await release(job, to: .queued, from: .held, by: member, context: context))
            }
            let twoPerson = try await intervention(of: job)?.twoPerson ?? false
            return .close(try await release(job, to: twoPerson ? .held : .queued, from: .requested, by: member, context: context))
        }
    }

    /// Moves a waiting intervention on (its code held, or its second admin confirmed), and says so.
    func release(_ job: JobRecord, to state: JobState, from: JobState, by member: TeamMember,
                 context: CommandContext) async throws -> BotReply {
        let since = from == .requested ? clock.now.addingTimeInterval(-Self.factorWindow) : .distantPast
        guard let moved = try await store.moveJob(job.id, from: from, to: state, createdSince: since) else {
            if from == .requested {
                _ = try await store.moveJob(job.id, from: .requested, to: .expired, createdSince: .distantPast)
                return .text("⌛ Job \(job.id) waited too long for its code and lapsed; nothing ran. Ask again.")
            }
            return .text("Job \(job.id) no longer waits; nothing else was done.")
        }
        if from == .held {
            try await store.audit(actor: member.user.rawValue, channel: "slack", action: "intervention.confirm", store: job.store,
                                  details: ["job": "\(job.id)", "requested_by": job.requestedBy], result: "confirmed", at: clock.now)
        }
        if moved.state == .held {
            return BotReply([.text("✅ Code accepted for job \(job.id) (`\(job.playbook)` on \(job.store)).")] + secondAdminBlocks(moved),
                            visibility: .inChannel)
        }
        let customer = try await customer(job.store)
        await engine.follow(moved.id, store: moved.store, listener: Self.listener(context.replyLater, customer: customer))
        let when = moved.notBefore.map { $0 > clock.now ? "; it starts no earlier than \(Wording.dayAndTime($0))" : "" } ?? ""
        return BotReply([.text("▶️ Job \(job.id) (`\(job.playbook)` on \(job.store)) is queued\(when). "
            + "The result follows here; `/perf jobs \(job.store)` shows it.")], visibility: .inChannel)
    }
}
