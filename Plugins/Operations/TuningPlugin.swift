import BotCore
import BotPlaybooks
import Foundation

/// Advanced controls (ORIGINAL-DESIGN §1.4, premium): a store's service settings read live, and changed as a job
/// like every other, after the pack's safe range and the guardrails over combinations; the value is read back from
/// the service, and `/perf revert <job>` puts the previous one back as another job.
public struct TuningPlugin: BotPlugin {
    public let name = "tuning"
    let operations: OperationsPlugin

    public init(operations: OperationsPlugin) { self.operations = operations }

    var library: PlaybookLibrary { operations.library }
    var planner: JobPlanner { operations.planner }

    public var commands: [CommandSpec] {
        let store = ArgumentSpec("store", .store)
        return [
            CommandSpec("settings", arguments: [store], readOnly: true,
                        summary: "A store's service settings now, with the range perfbot may set each to (premium).",
                        examples: ["settings acme-store"]),
            CommandSpec("set", arguments: [store, ArgumentSpec("setting", .word), ArgumentSpec("value", .word)], role: .operator,
                        summary: "Change a service setting as a job: checked against its range and the guardrails, read back, revertible (premium).",
                        examples: ["set acme-store redis.maxmemory 512mb", "set acme-store mysql.max_connections 200"]),
        ]
    }

    public func handle(_ command: ParsedCommand, context: CommandContext) async throws -> BotReply {
        guard let id = command.store() else { throw BotError.invalid("Which store?") }
        let customer = try await operations.customer(id)
        guard customer.plan.isPremium else {
            return .text("Advanced controls come with premium plans; \(customer.id) is on the \(customer.plan) plan.")
        }
        let catalogue = library.tuning(for: customer.platform)
        guard !catalogue.settings.isEmpty else { return .text("\(customer.platform.displayName) stores have no settings perfbot can change.") }
        switch command.name {
        case "settings": return try await settings(customer, catalogue: catalogue)
        default:
            return try await set(customer, catalogue: catalogue, setting: command.value("setting") ?? "",
                                 value: command.value("value") ?? "", context: context)
        }
    }

    /// The current values of `settings` (all of the catalogue's by default), read at once through the store's
    /// executor; nothing changes. A service that does not answer within 5 s is left out.
    func current(_ customer: Customer, catalogue: TuningCatalogue, only settings: [Tunable]? = nil) async throws -> [String: String] {
        let target = try planner.target(customer)
        return await withTaskGroup(of: (String, String?).self) { group in
            for setting in settings ?? catalogue.settings {
                group.addTask {
                    let request = CommandRequest(argv: setting.read, timeout: 5, workingDirectory: target.values[.appPath])
                    guard let outcome = try? await target.executor.run(request), outcome.succeeded else { return (setting.id, nil) }
                    return (setting.id, setting.parse(outcome.output))
                }
            }
            var values: [String: String] = [:]
            for await (id, value) in group { values[id] = value }
            return values
        }
    }

    func settings(_ customer: Customer, catalogue: TuningCatalogue) async throws -> BotReply {
        let now = try await current(customer, catalogue: catalogue)
        let rows = catalogue.settings.map { setting in
            [setting.id, now[setting.id].map(setting.shown) ?? "could not be read", setting.allowed]
        }
        return BotReply([.header("Settings · \(customer.id)"),
                         .table(ReplyTable(columns: ["Setting", "Now", "perfbot may set"], rows: rows)),
                         .context("`/perf set \(customer.id) <setting> <value>` changes one as a job; `/perf revert <job>` puts it back.")])
    }

    func set(_ customer: Customer, catalogue: TuningCatalogue, setting id: String, value: String, context: CommandContext) async throws -> BotReply {
        // The setting itself (its value now is what a revert puts back) and those the guardrails weigh it against.
        let related = catalogue.settings.filter { $0.id == id.lowercased() || $0.service == .php }
        let now = try await current(customer, catalogue: catalogue, only: related)
        let normalised: String
        switch catalogue.check(id, value, context: TuningContext(customer: customer, current: now)) {
        case let .failure(refusal): return .text("Not changed: \(refusal.reason).")
        case let .success(checked): normalised = checked
        }
        guard let setting = catalogue.setting(id) else { return .text("Not changed: there is no setting `\(id)`.") }
        guard let previous = now[setting.id] else {
            return .text("Not changed: perfbot could not read \(setting.id) now, so it could not put it back; check that "
                + "\(setting.service.displayName) answers (`/perf settings \(customer.id)`).")
        }
        guard previous != normalised else { return .text("\(setting.id) is \(setting.shown(normalised)) already; nothing to do.") }
        let change = TuningChange(setting: setting.id, value: normalised, previous: previous)
        guard let playbook = catalogue.playbook(for: change, platform: customer.platform) else {
            return .text("Not changed: there is no setting `\(id)`.")
        }
        return try await operations.run(playbook, on: customer, dryRun: false, battery: false, context: context)
    }
}
