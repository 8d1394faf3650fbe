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
}
