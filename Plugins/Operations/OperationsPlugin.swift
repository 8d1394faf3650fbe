import BotCore
import BotPlaybooks
import Foundation

/// The commands that act on stores: the one-click battery, playbook runs and automation settings.
/// The platform plugins supply the knowledge; this plugin applies policy, runs, records and reports.
public struct OperationsPlugin: BotPlugin {
    public let name = "operations"
    let store: any OperationsStore
    let library: PlaybookLibrary
    let platforms: [Platform: any PlatformPlugin]
    let planner: JobPlanner
    /// Plans dry runs (a real run is a job of the engine).
    let runner: PlaybookRunner
    let engine: JobEngine
    let clock: any BotClock
    let work: any BackgroundWork
    /// How long a run may take before the answer becomes "running…" and the result follows later.
    let patience: Duration
    /// The admins' second factor, for interventions; nil: destructive interventions are refused.
    let factor: (any SecondFactor)?
    /// The 💡 rules, for the Contact Customer report.
    let advice: Recommendations
    /// The plans a store may be moved to.
    let plans: PlanCatalog

    /// - Parameters:
    ///   - work: where waiting for a job goes when it may outlast Slack's 3-second answer.
    ///   - patience: how long to wait for a run before answering that it is under way.
    public init(store: any OperationsStore, library: PlaybookLibrary, platforms: [any PlatformPlugin],
                planner: JobPlanner, runner: PlaybookRunner, engine: JobEngine,
                clock: any BotClock, work: any BackgroundWork = InlineWork(), patience: Duration = .seconds(2),
                factor: (any SecondFactor)? = nil, advice: Recommendations = Recommendations(),
                plans: PlanCatalog = .standard) {
        self.plans = plans
        self.factor = factor
        self.advice = advice
        self.work = work
        self.patience = patience
        self.store = store
        self.library = library
        self.platforms = Dictionary(platforms.map { ($0.platform, $0) }, uniquingKeysWith: { first, _ in first })
        self.planner = planner
        self.runner = runner
        self.engine = engine
        self.clock = clock
    }

    static let dryRun = FlagSpec("dry-run", help: "list every step with its exact argv, target and safety; run nothing")

    public var commands: [CommandSpec] {
        [
            CommandSpec("optimize", arguments: [ArgumentSpec("store", .store)], flags: [Self.dryRun], role: .operator,
                        summary: "Run the platform's one-click optimize battery on a store.",
                        examples: ["optimize acme-store --dry-run", "optimize acme-store"]),
            CommandSpec("playbooks", arguments: [ArgumentSpec("platform", .choice(platforms.keys.sorted().map(\.rawValue)), optional: true)],
                        readOnly: true, summary: "List playbooks with their trigger and safety.",
                        examples: ["playbooks", "playbooks magento"]),
            CommandSpec("run", arguments: [ArgumentSpec("playbook", .word), ArgumentSpec("store", .store)],
                        flags: [Self.dryRun], role: .operator,
                        summary: "Run one playbook on a store (risky playbooks need the admin role).",
                        examples: ["run disk_filling acme-store --dry-run"]),
            CommandSpec("jobs", arguments: [ArgumentSpec("store", .store, optional: true)], readOnly: true,
                        summary: "Running, queued and recent jobs (every action on a store), with their steps.",
                        examples: ["jobs", "jobs acme-store"]),
            CommandSpec("cancel", arguments: [ArgumentSpec("job", .integer(1...Int.max))], role: .operator,
                        summary: "Cancel a queued job, or stop a running one before its next step.",
                        examples: ["cancel 42"]),
            Self.interveneSpec,
            Self.confirmSpec,
            Self.contactSpec,
            CommandSpec("report", flags: [FlagSpec("days", values: [], help: "the period in days, 1–365 (default 7)")],
                        readOnly: true,
                        summary: "Auto-fix rate, time to resolve, proposals and the stores with the most issues.",
                        examples: ["report", "report --days 30"]),
        ] + [
            CommandSpec("automation", arguments: [ArgumentSpec("store", .store)], readOnly: true,
                        summary: "Show a store's automation level and exceptions.", examples: ["automation acme-store"]),
            CommandSpec("automation", arguments: [ArgumentSpec("store", .store), ArgumentSpec("level", .keyword("level")),
                                                  ArgumentSpec("value", .integer(1...3))], role: .admin,
                        summary: "Set a store's automation level: 1 notify only, 2 safe auto-fix, 3 full auto.",
                        examples: ["automation acme-store level 3"]),
            CommandSpec("automation", arguments: [ArgumentSpec("store", .store), ArgumentSpec("skip", .keyword("skip")),
                                                  ArgumentSpec("tags", .word, repeated: true)], role: .admin,
                        summary: "Exclude kinds of action from a store's automation (e.g. restarts).",
                        examples: ["automation acme-store skip skip_restarts"]),
            CommandSpec("automation", arguments: [ArgumentSpec("store", .store), ArgumentSpec("unskip", .keyword("unskip")),
                                                  ArgumentSpec("tags", .word, repeated: true)], role: .admin,
                        summary: "Allow kinds of action again.", examples: ["automation acme-store unskip skip_restarts"]),
        ]
    }

    public func handle(_ command: ParsedCommand, context: CommandContext) async throws -> BotReply {
        switch command.name {
        case "playbooks":
            return listing(command.value("platform").flatMap(Platform.init(rawValue:)).map { platforms[$0]?.platform ?? $0 })
        case "optimize", "run":
            guard let id = command.store() else { throw BotError.invalid("Which store?") }
            let customer = try await customer(id)
            guard let platform = platforms[customer.platform] else {
                throw BotError.invalid("No plugin handles \(customer.platform.displayName) stores.")
            }
            let name = command.name == "optimize" ? platform.batteryPlaybook : (command.value("playbook") ?? "")
            guard let playbook = library.playbook(name, for: customer.platform) else {
                let names = library.list(customer.platform).map(\.name)
                let close = NameSuggester.closest(to: name, in: names)
                throw BotError.invalid("There is no \(customer.platform.displayName) playbook `\(name)`."
                    + (close.isEmpty ? " `/perf playbooks` lists them." : " Did you mean `\(close[0])`?"))
            }
            if playbook.intervention != nil, !command.isSet("dry-run") || playbook.changes != nil {
                // A hosting change's plan needs its value (`--plan`, `--cache`): `intervene` shows it before anything runs.
                let value = playbook.changes.map { $0 == .plan ? " --plan <name>" : " --cache redis|varnish" } ?? ""
                throw BotError.invalid("`\(playbook.name)` is an intervention: `/perf intervene \(playbook.name) \(customer.id)\(value) "
                    + "--reason \"…\"` \(playbook.changes == nil ? "runs it" : "shows its plan and runs it") (admins), "
                    + "with its reason in the audit log.")
            }
            return try await run(playbook, on: customer, dryRun: command.isSet("dry-run"),
                                 battery: command.name == "optimize", context: context)
        case "jobs":
            return try await jobs(command.store())
        case "intervene":
            return try await intervene(command, context: context)
        case "confirm":
            return try await confirm(Int64(command.integer("job") ?? 0), context: context)
        case "contact-send":
            guard let id = command.store() else { throw BotError.invalid("Which store?") }
            return try await contactSend(id, context: context)
        case "cancel":
            return try await cancel(Int64(command.integer("job") ?? 0), context: context)
        case "report":
            let text = command.option("days") ?? "7"
            guard let days = Int(text), (1...365).contains(days) else {
                throw BotError.invalid("`--days \(text.prefix(20))` is not a number of days from 1 to 365.")
            }
            return try await report(days: days)
        case "automation":
            guard let id = command.store() else { throw BotError.invalid("Which store?") }
            return try await automation(id, command: command, context: context)
        default:
            throw BotError.unsupported(command.name)
        }
    }

    func customer(_ id: StoreID) async throws -> Customer {
        guard let customer = try await store.customer(id) else {
            let names = try await store.allCustomers().map(\.id.rawValue)
            throw BotError.unknownStore(id.rawValue, among: names)
        }
        return customer
    }
}
