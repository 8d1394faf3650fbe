import BotCore
import Foundation

/// What every channel that changes a service setting shares (Slack's `/perf set`, the contact's e-mail `set`): the
/// values read now, the range and guardrails, and the job's playbook. Nothing here acts; the job does.
public struct TuningDesk: Sendable {
    let library: PlaybookLibrary
    let planner: JobPlanner

    public init(library: PlaybookLibrary, planner: JobPlanner) {
        self.library = library
        self.planner = planner
    }

    public func catalogue(for customer: Customer) -> TuningCatalogue { library.tuning(for: customer.platform) }

    /// The current values of `settings` (all of the store's by default), read at once through the store's executor.
    /// A service that does not answer within 5 s is left out.
    public func current(_ customer: Customer, only settings: [Tunable]? = nil) async throws -> [String: String] {
        let target = try planner.target(customer)
        let all = settings ?? catalogue(for: customer).settings
        return await withTaskGroup(of: (String, String?).self) { group in
            for setting in all {
                group.addTask {
                    guard let argv = try? ArgvTemplate.render(setting.read, with: target.values) else { return (setting.id, nil) }
                    let request = CommandRequest(argv: argv, timeout: 5, workingDirectory: target.values[.appPath])
                    guard let outcome = try? await target.executor.run(request), outcome.succeeded else { return (setting.id, nil) }
                    return (setting.id, setting.parse(outcome.output))
                }
            }
            var values: [String: String] = [:]
            for await (id, value) in group { values[id] = value }
            return values
        }
    }

    /// What a reader of the settings should know of the store's database: where a query cache exists, and whether its
    /// changes outlive a restart.
    public func notes(_ customer: Customer) -> [String] {
        guard catalogue(for: customer).settings.contains(where: { $0.service == .mysql }) else { return [] }
        if (try? planner.target(customer))?.values[.dbClient] == "mysql" {
            return ["MySQL 8 has no query cache (it was removed in 8.0), so there is none to set. Database settings are made "
                + "with SET PERSIST and outlive a restart."]
        }
        return ["MariaDB has a query cache (query_cache_type), off by default: on a busy store it makes writes wait, so perfbot "
            + "leaves it off. MariaDB has no SET PERSIST: database settings are made with SET GLOBAL and last until the "
            + "database restarts; your hosting team keeps them in its configuration."]
    }

    /// A change of `id` to `value` for `customer`, checked: its job's playbook, or the reason it is refused.
    public func prepare(_ customer: Customer, setting id: String, value: String) async throws -> Result<(TuningChange, Playbook), TuningRefusal> {
        let catalogue = catalogue(for: customer)
        guard let setting = catalogue.setting(id) else {
            return .failure(.init("there is no setting `\(id.prefix(40))`; settings: " + catalogue.settings.map(\.id).joined(separator: ", ")))
        }
        // The setting itself (its value now is what a revert puts back) and those the guardrails weigh it against.
        let related = catalogue.settings.filter { $0.id == setting.id || $0.service == .php }
        let now = try await current(customer, only: related)
        let normalised: String
        switch catalogue.check(setting.id, value, context: TuningContext(customer: customer, current: now)) {
        case let .failure(refusal): return .failure(refusal)
        case let .success(checked): normalised = checked
        }
        guard let previous = now[setting.id] else {
            return .failure(.init("perfbot could not read \(setting.id) now, so it could not put it back; "
                + "\(setting.service.displayName) did not answer"))
        }
        guard previous != normalised else { return .failure(.init("\(setting.id) is \(setting.shown(normalised)) already")) }
        let change = TuningChange(setting: setting.id, value: normalised, previous: previous)
        guard let playbook = catalogue.playbook(for: change, platform: customer.platform) else {
            return .failure(.init("there is no setting `\(id.prefix(40))`"))
        }
        return .success((change, playbook))
    }

    /// The playbook that puts back what the newest succeeded change of `id` replaced, from the store's jobs.
    public func revert(_ customer: Customer, setting id: String, jobs: [JobRecord]) -> Result<(TuningChange, Playbook), TuningRefusal> {
        let catalogue = catalogue(for: customer)
        guard let setting = catalogue.setting(id) else {
            return .failure(.init("there is no setting `\(id.prefix(40))`; settings: " + catalogue.settings.map(\.id).joined(separator: ", ")))
        }
        let last = jobs.lazy.filter { $0.state == .succeeded }.compactMap { job -> TuningChange? in
            if case let .tuning(change) = job.kind, change.setting == setting.id { return change }
            return nil
        }.first
        guard let undo = last?.revert, let playbook = catalogue.playbook(for: undo, platform: customer.platform) else {
            return .failure(.init("perfbot has not changed \(setting.id) for \(customer.id), so there is nothing to put back"))
        }
        return .success((undo, playbook))
    }

    // MARK: Operations: a purge, the cron, a crawler turned away

    /// The store's cron schedule, read now through its executor.
    public func cronSchedule(_ customer: Customer) async throws -> Result<[CronEntry], TuningRefusal> {
        guard let cron = catalogue(for: customer).cron else {
            return .failure(.init("perfbot does not know how to read the cron of \(customer.platform.displayName) stores"))
        }
        let target = try planner.target(customer)
        let argv = try ArgvTemplate.render(cron.list(customer.settings), with: target.values)
        let outcome = try await target.executor.run(CommandRequest(argv: argv, timeout: 30, workingDirectory: target.values[.appPath],
                                                                   outputLimit: 256 * 1024))
        guard outcome.succeeded else {
            return .failure(.init("the cron schedule could not be read (\(outcome.timedOut ? "no answer within 30 s" : "the command failed"))"))
        }
        guard let entries = cron.parse(outcome.output) else {
            return .failure(.init("the cron schedule could not be read (its answer was not a schedule)"))
        }
        return .success(entries)
    }

    /// What `/perf cron <store> run|off|on <name>` does, checked: the job's playbook, or why not.
    /// Switching a WordPress event off keeps its recurrence (from the schedule now), so switching it on schedules it again.
    public func cron(_ customer: Customer, action: CronAction, name: String, jobs: [JobRecord]) async throws
        -> Result<(ServiceOperation, Playbook), TuningRefusal> {
        guard let cron = catalogue(for: customer).cron else {
            return .failure(.init("perfbot does not know how to run the cron of \(customer.platform.displayName) stores"))
        }
        guard var target = CronTarget(name) else {
            return .failure(.init("`\(name.prefix(40))` is not a cron \(cron.unit) name (letters, digits, _ - .)"))
        }
        let operation: ServiceOperation
        switch action {
        case .run:
            operation = .runCron(target)
        case .off where cron.unit == "group", .on where cron.unit == "group":
            // Magento switches groups; a job's code (as its schedule shows them) is not one.
            if target.name != CronTarget.allMagento, case let .success(entries) = try await cronSchedule(customer),
               entries.contains(where: { $0.name == target.name }) {
                return .failure(.init("\(target.name) is a cron job, and Magento switches its cron by group (`index`, `default`, …) "
                    + "or as a whole (`\(CronTarget.allMagento)`), not by job"))
            }
            operation = .toggleCron(target, enabled: action == .on)
        case .off:
            if cron.unit == "event" {
                guard case let .success(entries) = try await cronSchedule(customer),
                      let entry = entries.first(where: { $0.name == target.name }) else {
                    return .failure(.init("\(target.name) is not scheduled on \(customer.id) now, so there is nothing to switch off"))
                }
                guard entry.schedule != "once", entry.schedule != "Non-repeating", let recurrence = CronTarget(target.name, recurrence: entry.schedule)
                else {
                    return .failure(.init("\(target.name) runs once and is not repeated: let it run, or run it now"))
                }
                target = recurrence
            }
            operation = .toggleCron(target, enabled: false)
        case .on:
            if cron.unit == "event" {
                let kept = jobs.lazy.filter { $0.state == .succeeded }.compactMap { job -> CronTarget? in
                    if case let .operation(.toggleCron(switched, false)) = job.kind, switched.name == target.name { return switched }
                    return nil
                }.first
                guard let kept else {
                    return .failure(.init("perfbot has not switched \(target.name) off on \(customer.id), so it does not know how often it ran"))
                }
                target = kept
            }
            operation = .toggleCron(target, enabled: true)
        }
        guard let playbook = ServiceOperations.playbook(for: operation, platform: customer.platform, cron: cron) else {
            return .failure(.init(cron.unit == "group"
                ? "`\(target.name)` is not a cron group name (lowercase letters, digits and _), nor `\(CronTarget.allMagento)`"
                : "perfbot cannot do that to \(target.name)"))
        }
        return .success((operation, playbook))
    }

    /// A Varnish purge of the pages matching `pattern`, checked.
    public func purge(_ customer: Customer, pattern text: String) -> Result<(ServiceOperation, Playbook), TuningRefusal> {
        guard catalogue(for: customer).settings.contains(where: { $0.service == .varnish }) else {
            return .failure(.init("\(customer.platform.displayName) stores have no Varnish perfbot can purge"))
        }
        guard let pattern = PurgePattern(text) else {
            return .failure(.init("`\(text.prefix(60))` is not a purge pattern: a path starting with /, of letters, digits, / . _ - ~ %, "
                + "with * for any characters (like /category/shoes* or /*)"))
        }
        let operation = ServiceOperation.purge(pattern)
        guard let playbook = ServiceOperations.playbook(for: operation, platform: customer.platform, cron: nil) else {
            return .failure(.init("perfbot cannot purge \(customer.id)"))
        }
        return .success((operation, playbook))
    }

    /// A crawler turned away the way given, checked.
    public func block(_ customer: Customer, crawler: String, how: CrawlerBlock.How) -> Result<(ServiceOperation, Playbook), TuningRefusal> {
        guard let block = CrawlerBlock(crawler: crawler, how: how) else {
            return .failure(.init("`\(crawler.prefix(40))` is not a crawler's name (2–40 letters, digits, . _ -)"))
        }
        let operation = ServiceOperation.blockCrawler(block)
        guard let playbook = ServiceOperations.playbook(for: operation, platform: customer.platform, cron: nil) else {
            return .failure(.init("perfbot cannot block crawlers on \(customer.id)"))
        }
        return .success((operation, playbook))
    }
}

/// What is done to a cron event or group.
public enum CronAction: String, Sendable, CaseIterable {
    case run, off, on
}
