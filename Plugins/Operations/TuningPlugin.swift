import BotCore
import BotPlaybooks
import Foundation

/// Advanced controls (ORIGINAL-DESIGN §1.4, premium): a store's service settings read live, and changed as a job
/// like every other, after the pack's safe range and the guardrails over combinations; the value is read back from
/// the service, and `/perf revert <job>` puts the previous one back as another job.
public struct TuningPlugin: BotPlugin {
    public let name = "tuning"
    let operations: OperationsPlugin
    /// The stores' traffic, from which a crawler's blocking recommendation comes.
    let traffic: (any TrafficStore)?

    public init(operations: OperationsPlugin, traffic: (any TrafficStore)? = nil) {
        self.operations = operations
        self.traffic = traffic
    }

    var desk: TuningDesk { TuningDesk(library: operations.library, planner: operations.planner) }

    public var commands: [CommandSpec] {
        let store = ArgumentSpec("store", .store)
        return [
            CommandSpec("settings", arguments: [store], readOnly: true,
                        summary: "A store's service settings now, with the range perfbot may set each to (premium).",
                        examples: ["settings acme-store"]),
            CommandSpec("set", arguments: [store, ArgumentSpec("setting", .word), ArgumentSpec("value", .word)], role: .operator,
                        summary: "Change a service setting as a job: checked against its range and the guardrails, read back, revertible (premium).",
                        examples: ["set acme-store redis.maxmemory 512mb", "set acme-store mysql.max_connections 200"]),
            CommandSpec("cron", arguments: [store, ArgumentSpec("action", .choice(CronAction.allCases.map(\.rawValue)), optional: true),
                                            ArgumentSpec("event", .word, optional: true)],
                        summary: "A store's cron schedule; `run`, `off` or `on` an event (WordPress), a group or `all` (Magento), as a job (operators; premium).",
                        examples: ["cron acme-store", "cron acme-store run woocommerce_cleanup_sessions", "cron acme-store off wc_admin_daily"]),
            CommandSpec("purge", arguments: [store, ArgumentSpec("pattern", .rest)], role: .operator,
                        summary: "Drop the pages whose path matches from Varnish (`varnishadm ban`), as a job (premium).",
                        examples: ["purge acme-store /category/shoes*", "purge acme-store /*"]),
            CommandSpec("block", arguments: [store, ArgumentSpec("crawler", .word),
                                             ArgumentSpec("how", .choice(CrawlerBlock.How.allCases.map(\.rawValue)), optional: true)],
                        role: .operator,
                        summary: "Turn a crawler away: a robots.txt rule, or a web-server deny for one that ignores it; by default what `/perf traffic` recommends (premium).",
                        examples: ["block acme-store AhrefsBot", "block acme-store MJ12bot deny"]),
        ]
    }

    public func handle(_ command: ParsedCommand, context: CommandContext) async throws -> BotReply {
        guard let id = command.store() else { throw BotError.invalid("Which store?") }
        let customer = try await operations.customer(id)
        guard customer.plan.isPremium else {
            return .text("Advanced controls come with premium plans; \(customer.id) is on the \(customer.plan) plan.")
        }
        let catalogue = desk.catalogue(for: customer)
        guard !catalogue.settings.isEmpty else { return .text("\(customer.platform.displayName) stores have no settings perfbot can change.") }
        switch command.name {
        case "settings": return try await settings(customer, catalogue: catalogue)
        case "cron": return try await cron(command, customer: customer, context: context)
        case "purge": return try await run(desk.purge(customer, pattern: command.value("pattern") ?? ""), customer: customer, context: context)
        case "block": return try await block(customer, crawler: command.value("crawler") ?? "", how: command.value("how"), context: context)
        default:
            return try await set(customer, setting: command.value("setting") ?? "",
                                 value: command.value("value") ?? "", context: context)
        }
    }

    func settings(_ customer: Customer, catalogue: TuningCatalogue) async throws -> BotReply {
        let now = try await desk.current(customer)
        let rows = catalogue.settings.map { setting in
            [setting.id, now[setting.id].map(setting.shown) ?? "could not be read", setting.allowed]
        }
        return BotReply([.header("Settings · \(customer.id)"),
                         .table(ReplyTable(columns: ["Setting", "Now", "perfbot may set"], rows: rows))]
                        + desk.notes(customer).map { .context($0) }
                        + [.context("`/perf set \(customer.id) <setting> <value>` changes one as a job; `/perf revert <job>` puts it back.")])
    }

    func set(_ customer: Customer, setting id: String, value: String, context: CommandContext) async throws -> BotReply {
        switch try await desk.prepare(customer, setting: id, value: value) {
        case let .failure(refusal): return .text("Not changed: \(refusal.reason).")
        case let .success((_, playbook)):
            return try await operations.run(playbook, on: customer, dryRun: false, battery: false, context: context)
        }
    }

    /// The prepared job run as `/perf run` runs a playbook, or the reason it is not.
    func run(_ prepared: Result<(ServiceOperation, Playbook), TuningRefusal>, customer: Customer, context: CommandContext) async throws -> BotReply {
        switch prepared {
        case let .failure(refusal): return .text("Not done: \(refusal.reason).")
        case let .success((_, playbook)):
            return try await operations.run(playbook, on: customer, dryRun: false, battery: false, context: context)
        }
    }

    /// The schedule, or an event run or switched (operators).
    func cron(_ command: ParsedCommand, customer: Customer, context: CommandContext) async throws -> BotReply {
        guard let word = command.value("action"), let action = CronAction(rawValue: word) else {
            switch try await desk.cronSchedule(customer) {
            case let .failure(refusal): return .text("No schedule: \(refusal.reason).")
            case let .success(entries):
                guard !entries.isEmpty else { return .text("\(customer.id) has nothing scheduled in its cron.") }
                // Magento's schedule is its newest runs by job; WordPress's, its events with their recurrence.
                let byGroup = desk.catalogue(for: customer).cron?.unit == "group"
                let rows = entries.prefix(30).map { [$0.name, $0.schedule, $0.when] }
                return BotReply([.header("Cron · \(customer.id)"),
                                 .table(ReplyTable(columns: byGroup ? ["Job", "Status", "When"] : ["Event", "Recurs", "Next run"],
                                                   rows: Array(rows))),
                                 .context(byGroup ? "`/perf cron \(customer.id) run|off|on <group>` runs or switches a group (`index`, `default`, …) "
                                            + "as a job; `all` is Magento's whole cron."
                                          : "`/perf cron \(customer.id) run|off|on <event>` runs or switches one as a job.")])
            }
        }
        guard try context.member().role >= .operator else {
            return .text("Running or switching cron needs the operator role; you can see the schedule with `/perf cron \(customer.id)`.")
        }
        guard let name = command.value("event") else { return .text("Which event? `/perf cron \(customer.id) \(action.rawValue) <event>`.") }
        let jobs = action == .on ? try await operations.store.jobs(store: customer.id, limit: 200) : []
        return try await run(desk.cron(customer, action: action, name: name, jobs: jobs), customer: customer, context: context)
    }

    /// A crawler turned away as asked, or as the store's last 7 days of traffic recommend; one that brings visitors is kept.
    func block(_ customer: Customer, crawler: String, how word: String?, context: CommandContext) async throws -> BotReply {
        var how = word.flatMap(CrawlerBlock.How.init(rawValue:))
        if let traffic {
            let now = operations.clock.now
            let hours = try await traffic.trafficHours(customer.id, from: now.addingTimeInterval(-7 * 86400), to: now)
            let report = TrafficReport(hours: hours, botListNote: "", countriesKnown: false)
            if let bot = report.bots.first(where: { $0.name.caseInsensitiveCompare(crawler) == .orderedSame }) {
                switch bot.recommendation.action {
                case .keep: return .text("Not blocked: \(bot.name) is kept (\(bot.recommendation.text)).")
                case .robots: how = how ?? .robots
                case .deny: how = how ?? .deny
                case .rateLimit, .none: break
                }
            }
        }
        guard let how else {
            return .text("perfbot has not seen \(crawler.prefix(40)) in \(customer.id)'s traffic of the last 7 days to recommend a way: "
                + "say `robots` (a robots.txt rule) or `deny` (a web-server deny).")
        }
        return try await run(desk.block(customer, crawler: crawler, how: how), customer: customer, context: context)
    }
}
