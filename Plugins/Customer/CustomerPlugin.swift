import BotCore
import BotPlaybooks
import Foundation

/// What a store's contact can ask perfbot by e-mail: their store's status, its insights feed, a week in
/// review, and (confirmed by a reply, as a job like every fix) the one-click optimize and their automation
/// preferences. Every command is scoped to the contact's own stores.
public struct CustomerPlugin: BotPlugin {
    public let name = "customer"
    let store: any CustomerStore
    let library: PlaybookLibrary
    let planner: JobPlanner
    let proposer: Proposer
    /// Gates what a contact asks for, as it gates every action.
    let engine: JobEngine
    let clock: any BotClock
    let scorer = HealthScorer()

    /// The 💡 rules: shared ones and each platform's.
    let advice: Recommendations
    /// Whether traffic is placed in countries, and where crawlers' names come from (the `traffic` report).
    let countriesKnown: Bool
    let botListNote: String

    public init(store: any CustomerStore, library: PlaybookLibrary, planner: JobPlanner, proposer: Proposer, engine: JobEngine,
                clock: any BotClock, advice: Recommendations = Recommendations(), countriesKnown: Bool = false, botListNote: String = "") {
        self.countriesKnown = countriesKnown
        self.botListNote = botListNote
        self.advice = advice
        self.engine = engine
        self.store = store
        self.library = library
        self.planner = planner
        self.proposer = proposer
        self.clock = clock
    }

    static let storeArgument = ArgumentSpec("store", .store, optional: true)

    public var commands: [CommandSpec] {
        [
            CommandSpec("status", arguments: [Self.storeArgument], readOnly: true, audience: .customer,
                        summary: "your store's health score, what counts in it, open problems and what perfbot did lately",
                        examples: ["status", "status acme-store"]),
            CommandSpec("settings", arguments: [Self.storeArgument], readOnly: true, audience: .customer,
                        summary: "your store's Redis, database and Varnish settings now, and what each may be set to (premium)",
                        examples: ["settings"]),
            CommandSpec("set", arguments: [ArgumentSpec("setting", .word), ArgumentSpec("value", .word), Self.storeArgument],
                        audience: .customer,
                        summary: "change one of those settings: we mail you the change, and make it when you reply yes (premium)",
                        examples: ["set redis.maxmemory 512mb", "set mysql.max_connections 200 acme-store"]),
            CommandSpec("revert", arguments: [ArgumentSpec("setting", .word), Self.storeArgument], audience: .customer,
                        summary: "put a setting perfbot changed back as it was, after your yes (premium)",
                        examples: ["revert redis.maxmemory"]),
            CommandSpec("block", arguments: [ArgumentSpec("crawler", .word), Self.storeArgument], audience: .customer,
                        summary: "turn away a crawler the way your traffic report recommends: we mail you the change, and make it when you reply yes (premium)",
                        examples: ["block AhrefsBot"]),
            CommandSpec("traffic", arguments: [Self.storeArgument], readOnly: true, audience: .customer,
                        summary: "your store's visitors and crawlers of the last 7 days: busiest hours, bandwidth, pages (premium)",
                        examples: ["traffic"]),
            CommandSpec("insights", arguments: [Self.storeArgument], readOnly: true, audience: .customer,
                        summary: "the latest entries of your store's insights feed", examples: ["insights"]),
            CommandSpec("report", arguments: [Self.storeArgument], readOnly: true, audience: .customer,
                        summary: "the last seven days in review", examples: ["report"]),
            CommandSpec("reports", arguments: [ArgumentSpec("switch", .choice(["on", "off"])), Self.storeArgument], audience: .customer,
                        summary: "the weekly report e-mail: off to stop it, on to get it again", examples: ["reports off"]),
            CommandSpec("optimize", arguments: [Self.storeArgument], audience: .customer,
                        summary: "the one-click optimize: we mail you its steps, and run it when you reply yes",
                        examples: ["optimize", "optimize acme-store"]),
            CommandSpec("level", arguments: [ArgumentSpec("value", .integer(1...3)), Self.storeArgument], audience: .customer,
                        summary: "your automation level: 1 ask me first, 2 safe fixes on their own, 3 every fix on its own",
                        examples: ["level 1", "level 3 acme-store"]),
            CommandSpec("skip", arguments: [ArgumentSpec("kind", .word), Self.storeArgument], audience: .customer,
                        summary: "never do this kind of action on its own (restarts, cache_clear, purges, …)",
                        examples: ["skip restarts"]),
            CommandSpec("unskip", arguments: [ArgumentSpec("kind", .word), Self.storeArgument], audience: .customer,
                        summary: "allow that kind of action again", examples: ["unskip restarts"]),
            CommandSpec("slow", arguments: [ArgumentSpec("queries", .keyword("queries")), Self.storeArgument], readOnly: true,
                        audience: .customer,
                        summary: "premium plans: the database queries that took your store the most time this week",
                        examples: ["slow queries", "slow queries acme-store"]),
        ]
    }

    public func handle(_ command: ParsedCommand, context: CommandContext) async throws -> BotReply {
        guard let contact = context.invoker.contact else { throw BotError.invalid("These commands come by e-mail.") }
        let customer = try await resolve(command.store(), for: contact)
        switch command.name {
        case "status": return try await status(customer)
        case "insights": return try await insights(customer)
        case "report": return try await report(customer)
        case "reports":
            // Like every change, confirmed by a reply to the mail on file: a forged command changes nothing.
            let enabled = command.value("switch") == "on"
            return try await proposeSetting(customer, contact: contact,
                                            change: SettingChange(.reports, enabled ? "on" : "off", previous: enabled ? "off" : "on"),
                                            step: enabled ? "Send the weekly report of \(customer.id) again"
                                                : "Stop the weekly report of \(customer.id)")
        case "optimize": return try await optimize(customer, contact: contact)
        case "slow": return try await slowQueries(customer)
        case "traffic": return try await traffic(customer)
        case "settings", "set", "revert": return try await tuning(command, customer: customer, contact: contact)
        case "block": return try await block(command.value("crawler") ?? "", customer: customer, contact: contact)
        case "level":
            guard let value = command.integer("value"), let level = AutomationLevel(rawValue: value) else {
                throw BotError.invalid("The level is 1, 2 or 3.")
            }
            guard level != customer.automationLevel else {
                return .text("\(customer.id) is already on level \(level.rawValue) (\(level.name)); nothing to change.")
            }
            return try await proposeSetting(customer, contact: contact,
                                            change: SettingChange(.level, "\(level.rawValue)", previous: "\(customer.automationLevel.rawValue)"),
                                            step: "Set the automation level of \(customer.id) to \(level.rawValue) (\(level.name))")
        case "skip", "unskip":
            let word = command.value("kind") ?? ""
            guard let exception = ActionTag.exception(named: word) else {
                throw BotError.invalid("\"\(word.prefix(40))\" is not a kind of action perfbot knows. Known: "
                    + ActionTag.exceptionNames.map { $0.replacingOccurrences(of: "skip_", with: "") }.joined(separator: ", ") + ".")
            }
            let skipping = command.name == "skip"
            let kind = exception.replacingOccurrences(of: "skip_", with: "").replacingOccurrences(of: "_", with: " ")
            guard customer.automationExceptions.contains(exception) != skipping else {
                return .text(skipping ? "perfbot already never does \(kind) on \(customer.id) on its own."
                    : "\(kind.capitalized) are not excluded on \(customer.id); nothing to change.")
            }
            return try await proposeSetting(customer, contact: contact,
                                            change: SettingChange(skipping ? .skip : .unskip, exception),
                                            step: skipping ? "Never do \(kind) on \(customer.id) on their own"
                                                : "Allow \(kind) on \(customer.id) again")
        default:
            throw BotError.unsupported(command.name)
        }
    }

    /// The store the contact means: the one they named if it is theirs, or their only one.
    func resolve(_ named: StoreID?, for contact: Contact) async throws -> Customer {
        let id: StoreID
        if let named {
            // Another customer's store is answered like one that does not exist.
            guard contact.stores.contains(named) else {
                throw BotError.invalid("\(named) is not one of your stores. Yours: "
                    + contact.stores.map(\.rawValue).joined(separator: ", ") + ".")
            }
            id = named
        } else {
            guard contact.stores.count == 1, let only = contact.stores.first else {
                throw BotError.invalid("You have several stores; name one, for example \"status \(contact.stores.first?.rawValue ?? "")\". "
                    + "Yours: " + contact.stores.map(\.rawValue).joined(separator: ", ") + ".")
            }
            id = only
        }
        guard let customer = try await store.customer(id) else { throw BotError.invalid("\(id) is no longer looked after by perfbot.") }
        return customer
    }

    func status(_ customer: Customer) async throws -> BotReply {
        let now = clock.now
        guard let readings = try await store.storeReadings(customer.id, asOf: now) else { return .text("No data yet.") }
        let fresh = readings.latest.fresh(asOf: now)
        var blocks: [ReplyBlock] = [.header("Status of \(customer.id)")]
        if let report = fresh.values.isEmpty ? nil : scorer.report(HealthInputs(latest: fresh, uptime24h: readings.uptime24h)),
           let score = report.score {
            let band = HealthBand(score: score)
            var line = "Health score: \(score) / 100 (\(band.rawValue))"
            let dayAgo = readings.dayAgo.fresh(asOf: now.addingTimeInterval(-86400))
            if !dayAgo.values.isEmpty,
               let previous = scorer.report(HealthInputs(latest: dayAgo, uptime24h: readings.uptime24hDayAgo)).score {
                line += score > previous ? ", up \(score - previous) since yesterday" : score < previous
                    ? ", down \(previous - score) since yesterday" : ", the same as yesterday"
            }
            blocks.append(.text(line))
            blocks.append(.text("What counts in it:\n" + report.factors.map { factor in
                "  • \(factor.factor.title): \(Int(factor.score.rounded())) / 100 — "
                    + factor.measures.map { "\($0.name) \(Wording.measure($0.value, unit: $0.unit))" }.joined(separator: ", ")
            }.joined(separator: "\n")))
        } else {
            blocks.append(.text("We have no recent measurements of your store, so there is no health score right now. "
                + "Your hosting team has been told."))
        }
        let issues = readings.openIssues
        blocks.append(.text(issues.isEmpty ? "No open problems."
            : "Open problems:\n" + issues.prefix(5).map { "  • \($0.summary), since \(Wording.ago($0.detectedAt, now: now))" }
                .joined(separator: "\n")))
        let tips = advice.current(fresh, platform: customer.platform)
        if !tips.isEmpty {
            blocks.append(.text("What we recommend:\n" + tips.map { "  • \($0.title): \($0.evidence)" }.joined(separator: "\n")))
        }
        let done = try await store.feed(of: customer.id, limit: 20).filter { $0.kind == "action" }.prefix(3)
        if !done.isEmpty {
            blocks.append(.text("What perfbot did lately:\n"
                + done.map { "  • \($0.title) (\(Wording.ago($0.at, now: now)))" }.joined(separator: "\n")))
        }
        blocks.append(.context("Automation level \(customer.automationLevel.rawValue): \(customer.automationLevel.name)."))
        return BotReply(blocks)
    }

    func insights(_ customer: Customer) async throws -> BotReply {
        let now = clock.now
        let entries = try await store.feed(of: customer.id, limit: 10)
        guard !entries.isEmpty else { return .text("Nothing in the insights feed of \(customer.id) yet.") }
        let marks = ["issue": "⚠️", "resolved": "✅", "action": "🔧", "prediction": "📈", "recommendation": "💡"]
        return BotReply([.header("Insights for \(customer.id)"),
                         .text(entries.map { "  • \(marks[$0.kind] ?? "•") \($0.title) — \(Wording.ago($0.at, now: now))" }
                            .joined(separator: "\n"))])
    }

    /// The last seven days of `customer` (the `report` command, and the weekly e-mail).
    public func report(_ customer: Customer) async throws -> BotReply {
        let now = clock.now
        let week = now.addingTimeInterval(-7 * 86400)
        let figures = try await store.report(since: week, store: customer.id)
        let scores = try await store.scores(of: customer.id, since: week)
        var lines = ["Problems found: \(figures.issuesOpened); resolved: \(figures.issuesResolved)"
            + (figures.autoFixed > 0 ? ", \(figures.autoFixed) of them fixed automatically" : "") + "."]
        let ran = figures.jobs["succeeded", default: 0] + figures.jobs["failed", default: 0]
        lines.append("Fixes run on your store: \(ran)"
            + (figures.jobs["failed", default: 0] > 0 ? " (\(figures.jobs["failed", default: 0]) did not complete)" : "") + ".")
        if let first = scores.first, let last = scores.last {
            lines.append("Health score: \(first.score) a week ago, \(last.score) now.")
        }
        var blocks: [ReplyBlock] = [.header("The last seven days of \(customer.id)"), .text(lines.joined(separator: "\n"))]
        let done = try await store.feed(of: customer.id, limit: 50).filter { $0.kind == "action" && $0.at >= week }.prefix(5)
        if !done.isEmpty {
            blocks.append(.text("What perfbot did:\n" + done.map { "  • \($0.title) (\(Wording.ago($0.at, now: now)))" }
                .joined(separator: "\n")))
        }
        if let readings = try await store.storeReadings(customer.id, asOf: now) {
            let tips = advice.current(readings.latest.fresh(asOf: now), platform: customer.platform)
            if !tips.isEmpty {
                blocks.append(.text("What we recommend:\n" + tips.map { "  • \($0.title): \($0.evidence)" }.joined(separator: "\n")))
            }
        }
        return BotReply(blocks)
    }

    /// The week's slowest query classes, in words: their shape (literals removed: never a statement as it ran),
    /// how often and how long. Premium plans only.
    /// The advanced controls by e-mail: the settings now, or a change (a revert) mailed as a proposal that runs as a job
    /// only when the contact replies yes.
    func tuning(_ command: ParsedCommand, customer: Customer, contact: Contact) async throws -> BotReply {
        guard customer.plan.isPremium else {
            return .text("Advanced controls come with premium plans; \(customer.id) is on the \(customer.plan) plan. "
                + "Your hosting team can tell you more.")
        }
        let desk = TuningDesk(library: library, planner: planner)
        let catalogue = desk.catalogue(for: customer)
        if command.name == "settings" {
            let now = try await desk.current(customer)
            var lines = ["The settings of \(customer.id) you can change by e-mail:", ""]
            for setting in catalogue.settings {
                lines.append("\(setting.id): \(now[setting.id].map(setting.shown) ?? "could not be read now") (may be \(setting.allowed))")
                lines.append("   \(setting.help)")
            }
            for note in desk.notes(customer) { lines += ["", note] }
            lines += ["", "Write \"set <setting> <value>\" to change one; we mail you the change to confirm."]
            return .text(lines.joined(separator: "\n"))
        }
        let setting = command.value("setting") ?? ""
        let prepared: Result<(TuningChange, Playbook), TuningRefusal>
        if command.name == "revert" {
            prepared = desk.revert(customer, setting: setting, jobs: try await store.jobs(store: customer.id, limit: 200))
        } else {
            prepared = try await desk.prepare(customer, setting: setting, value: command.value("value") ?? "")
        }
        let (change, playbook): (TuningChange, Playbook)
        switch prepared {
        case let .failure(refusal): return .text("Nothing was changed: \(refusal.reason).")
        case let .success(ready): (change, playbook) = ready
        }
        let what = "\(change.setting) from \(catalogue.setting(change.setting).map { setting in change.previous.map(setting.shown) ?? "?" } ?? "?") "
            + "to \(catalogue.setting(change.setting)?.shown(change.value) ?? change.value)"
        return try await propose(playbook, customer: customer, contact: contact, issue: "a change of \(change.setting)",
                                 explanation: "You asked perfbot to change \(what) on \(customer.id).",
                                 mailed: "the change of \(what)",
                                 after: "It is read back from the service afterwards, and \"revert \(change.setting)\" puts it back.")
    }

    /// A crawler turned away the way the store's last 7 days of traffic recommend, mailed back for a yes. Crawlers that
    /// bring visitors, and those perfbot has not seen, are refused with the reason.
    func block(_ crawler: String, customer: Customer, contact: Contact) async throws -> BotReply {
        guard customer.plan.isPremium else {
            return .text("Blocking crawlers comes with premium plans; \(customer.id) is on the \(customer.plan) plan.")
        }
        let now = clock.now
        let hours = try await store.trafficHours(customer.id, from: now.addingTimeInterval(-7 * 86400), to: now)
        let report = TrafficReport(hours: hours, botListNote: botListNote, countriesKnown: countriesKnown)
        guard let bot = report.bots.first(where: { $0.name.caseInsensitiveCompare(crawler) == .orderedSame }) else {
            return .text("Nothing was changed: perfbot has not seen \"\(crawler.prefix(40))\" on \(customer.id) in the last 7 days. "
                + "Write \"traffic\" to see the crawlers it has seen.")
        }
        let how: CrawlerBlock.How
        switch bot.recommendation.action {
        case .robots: how = .robots
        case .deny: how = .deny
        case .keep, .rateLimit, .none:
            return .text("Nothing was changed: perfbot recommends for \(bot.name): \(bot.recommendation.text).")
        }
        switch TuningDesk(library: library, planner: planner).block(customer, crawler: bot.name, how: how) {
        case let .failure(refusal): return .text("Nothing was changed: \(refusal.reason).")
        case let .success((_, playbook)):
            let way = how == .robots ? "a robots.txt rule" : "a refusal in the web server"
            return try await propose(playbook, customer: customer, contact: contact, issue: "\(bot.name)'s crawling",
                                     explanation: "You asked perfbot to turn \(bot.name) away from \(customer.id) with \(way): "
                                        + "\(bot.recommendation.text).",
                                     mailed: "\(way) for \(bot.name)", after: "")
        }
    }

    /// `playbook` mailed to the contact as a proposal, made as a job only when they reply yes.
    func propose(_ playbook: Playbook, customer: Customer, contact: Contact, issue: String, explanation: String, mailed: String,
                 after: String) async throws -> BotReply {
        let now = clock.now
        let request = ActionRequest(playbook, on: customer, requester: .customer(contact.email), entry: .approval,
                                    reason: "asked by e-mail")
        let held: [Int: String]
        switch try await engine.check(request).decision {
        case let .refuse(reason), let .holdForApproval(reason): return .text("We cannot change it: \(reason).")
        case let .run(skipped): held = skipped
        }
        let plan = try planner.plan(playbook, for: customer, held: held)
        let draft = proposer.draft(playbook, plan: plan, customer: customer, issueID: nil, issue: issue,
                                   explanation: explanation, now: now, requested: true)
        guard draft.proposal != nil else { throw BotError.invalid("Changes cannot be confirmed by e-mail yet; your hosting team has been told.") }
        if case let .alreadyWaiting(same) = try await store.propose(draft, at: now) { return alreadyWaiting(same) }
        return .text("We have mailed you \(mailed) in a separate message. Reply YES to that message to make it; "
            + "nothing changes before." + (after.isEmpty ? "" : " " + after))
    }

    /// The store's last 7 days of traffic, in words (premium: read from its access log).
    func traffic(_ customer: Customer) async throws -> BotReply {
        guard customer.plan.isPremium else {
            return .text("Traffic analytics come with premium plans; \(customer.id) is on the \(customer.plan) plan. "
                + "Your hosting team can tell you more.")
        }
        let now = clock.now
        let hours = try await store.trafficHours(customer.id, from: now.addingTimeInterval(-7 * 86400), to: now)
        guard !hours.isEmpty else {
            return .text("No traffic was recorded for \(customer.id) in the last 7 days: perfbot does not read its access log yet. "
                + "Your hosting team can switch it on.")
        }
        let report = TrafficReport(hours: hours, botListNote: botListNote, countriesKnown: countriesKnown)
        let blockable = report.bots.filter { $0.recommendation.action == .robots || $0.recommendation.action == .deny }.map(\.name)
        return .text(TrafficText.render(report, source: "\(customer.id), last 7 days", forCustomer: true)
            + (blockable.isEmpty ? "" : "\n\nTo turn one of those crawlers away as recommended, write \"block \(blockable[0])\"; "
                + "we mail you the change to confirm.")
            + "\n\nperfbot keeps counts per hour only: no lines of your log, no visitors' addresses.")
    }

    func slowQueries(_ customer: Customer) async throws -> BotReply {
        guard customer.plan.isPremium else {
            return .text("Slow-query reports come with premium plans; \(customer.id) is on the \(customer.plan) plan. "
                + "Your hosting team can tell you more.")
        }
        let (classes, total) = try await store.slowQueryClasses(customer.id, since: clock.now.addingTimeInterval(-7 * 86400),
                                                                limit: 5, offset: 0)
        guard total > 0 else { return .text("No slow database queries were recorded for \(customer.id) in the last 7 days.") }
        var lines = ["The queries that took \(customer.id) the most time in the last 7 days (\(total) kinds in all):", ""]
        for (rank, query) in classes.enumerated() {
            let average = query.averageMs >= 1000 ? "\(Wording.number(query.averageMs / 1000, decimals: 1)) s"
                : "\(Wording.number(query.averageMs, decimals: 0)) ms"
            lines.append("\(rank + 1). \(query.count == 1 ? "once" : "\(query.count) times"), \(average)\(query.count == 1 ? "" : " on average")"
                + (query.tables.isEmpty ? "" : ", on \(query.tables.prefix(3).joined(separator: ", "))") + ":")
            lines.append("   \(query.fingerprint.prefix(200))")
        }
        lines.append("")
        lines.append("Values appear as \"?\": perfbot keeps the shape of each query, never its data. Your hosting team "
            + "can look at a query's plan and propose an index.")
        return .text(lines.joined(separator: "\n"))
    }

    /// The one-click battery as a proposal the contact confirms by replying.
    func optimize(_ customer: Customer, contact: Contact) async throws -> BotReply {
        guard let platform = planner.platform(of: customer),
              let playbook = library.playbook(platform.batteryPlaybook, for: customer.platform) else {
            throw BotError.invalid("There is no one-click optimize for \(customer.platform.displayName) stores yet.")
        }
        let now = clock.now
        let held: [Int: String]
        let request = ActionRequest(playbook, on: customer, requester: .customer(contact.email), entry: .approval, battery: true,
                                    reason: "asked by e-mail")
        switch try await engine.check(request).decision {
        case let .refuse(reason): return .text("We cannot run it: \(reason).")
        case let .holdForApproval(reason): return .text("We cannot run it: \(reason).")
        case let .run(skipped): held = skipped
        }
        let plan = try planner.plan(playbook, for: customer, held: held)
        let draft = proposer.draft(playbook, plan: plan, customer: customer, issueID: nil,
                                   issue: "the one-click optimize",
                                   explanation: "You asked perfbot to run the one-click optimize on \(customer.id).", now: now,
                                   requested: true)
        guard draft.proposal != nil else { throw BotError.invalid("Proposals cannot be mailed yet; your hosting team has been told.") }
        if case let .alreadyWaiting(same) = try await store.propose(draft, at: now) { return alreadyWaiting(same) }
        return .text("We have mailed you the steps of the one-click optimize for \(customer.id) in a separate message. "
            + "Reply YES to that message to run them; nothing runs before.")
    }

    /// The same request already waits for the contact's reply: nothing is mailed again.
    func alreadyWaiting(_ same: Approval) -> BotReply {
        .text("This request already waits for your confirmation: reply YES to the e-mail we sent you at "
            + "\(Wording.dayAndTime(same.createdAt)); it stands until \(Wording.dayAndTime(same.expiresAt)). Nothing was mailed again.")
    }

    /// A setting change as a proposal: it runs as a job once the contact replies yes.
    func proposeSetting(_ customer: Customer, contact: Contact, change: SettingChange, step: String) async throws -> BotReply {
        let draft = proposer.settingDraft(change, step: step, customer: customer, contact: contact.email, now: clock.now)
        guard draft.proposal != nil else {
            throw BotError.invalid("Changes cannot be confirmed by e-mail yet; your hosting team has been told.")
        }
        if case let .alreadyWaiting(same) = try await store.propose(draft, at: clock.now) { return alreadyWaiting(same) }
        return .text("To be sure it was you, we have mailed you a confirmation: \(step). "
            + "Reply YES to that message to apply it; nothing changes before.")
    }
}
