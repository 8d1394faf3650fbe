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
}
