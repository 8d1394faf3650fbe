import BotCore
import Foundation

/// A plugin that owns one platform: its rules, its playbooks and the values its commands need.
public protocol PlatformPlugin: BotPlugin {
    /// The platform it owns.
    var platform: Platform { get }
    /// The readings only this platform has, taken through the store's executor when its probes include `platform`.
    var collectors: [PackCollector] { get }
    /// The pack's own playbooks: a directory holding its `<platform>/` folder (a package resource).
    var playbookRoot: String? { get }
    /// The playbook `/perf optimize` runs.
    var batteryPlaybook: String { get }
    /// Template values for `customer` (paths, database, services), before validation.
    func templateDefaults(for customer: Customer) -> [TemplateVariable: String]
    /// The platform's own 💡 recommendations for a store's current readings.
    func recommendations(_ latest: MetricSnapshot) -> [Recommendation]
    /// The metrics only this platform has (by default, those its collectors give).
    var metrics: [MetricName] { get }
    /// The service settings a store of this platform may change, with their safe ranges and guardrails.
    var tuning: TuningCatalogue { get }
}

extension PlatformPlugin {
    public var batteryPlaybook: String { "optimize" }
    public var collectors: [PackCollector] { [] }
    public var playbookRoot: String? { nil }
    public var tuning: TuningCatalogue { .empty }
    public func recommendations(_ latest: MetricSnapshot) -> [Recommendation] { [] }
    public var playbookFolders: [String] { [platform.rawValue] }
    public var metrics: [MetricName] {
        var seen = Set<MetricName>()
        return collectors.flatMap(\.gives).filter { seen.insert($0).inserted }
    }

    /// The validated template values for `customer`.
    /// - Throws: `PlaybookError.unsafeValue` when one of them fails its pattern.
    public func templateValues(for customer: Customer) throws(PlaybookError) -> TemplateValues {
        var values = TemplateValues()
        try values.set(.store, customer.id.rawValue)
        if let container = customer.container { try values.set(.container, container) }
        if let host = customer.host { try values.set(.host, host) }
        for (variable, value) in templateDefaults(for: customer) { try values.set(variable, value) }
        // The store's own settings come last; the customers file checked their names and patterns on import.
        for (name, value) in customer.settings.sorted(by: { $0.key < $1.key }) {
            guard let variable = TemplateVariable(rawValue: name), TemplateVariable.storeSettings.contains(variable) else {
                throw .unsafeValue(variable: name)
            }
            try values.set(variable, value)
        }
        try values.set(.dbSetScope, values[.dbClient] == "mysql" ? "PERSIST" : "GLOBAL")
        return values
    }
}

extension MetricCatalogue {
    /// The core's metrics and each pack's own.
    public init(packs: [any PlatformPlugin]) {
        self.init(packs.flatMap(\.metrics))
    }
}

extension PlaybookLibrary {
    /// Loads the layers in `roots` for `packs`: each pack's platform, with its folders, the rule names its
    /// triggers may name and the metrics its steps may test.
    public static func load(roots: [String], packs: [any PlatformPlugin]) throws(PlaybookErrors) -> PlaybookLibrary {
        var library = try load(roots: roots,
                 knownRules: Dictionary(packs.map { ($0.platform, Set($0.rules.map(\.name))) }, uniquingKeysWith: { $0.union($1) }),
                 folders: Dictionary(packs.map { ($0.platform, $0.playbookFolders) }, uniquingKeysWith: +),
                 metrics: Dictionary(packs.map { ($0.platform, MetricCatalogue($0.metrics)) }, uniquingKeysWith: { first, _ in first }))
        library.tuning = Dictionary(packs.map { ($0.platform, $0.tuning) }, uniquingKeysWith: { first, _ in first })
        return library
    }
}

extension Recommendations {
    /// The shared rules and each pack's own.
    public init(packs: [any PlatformPlugin]) {
        self.init(platformRules: Dictionary(packs.map { pack in (pack.platform, { @Sendable latest in pack.recommendations(latest) }) },
                                            uniquingKeysWith: { first, _ in first }))
    }
}

/// Chooses how to reach a customer's store.
public struct ExecutorFactory: Sendable {
    public var docker: String
    public var ssh: String
    public var local: LocalExecutor
    /// The hosting company's own tools that interventions run on perfbot's host.
    public var hostCommands: HostCommands

    public init(docker: String = "docker", ssh: String = "ssh", local: LocalExecutor = LocalExecutor(),
                hostCommands: HostCommands = .none) {
        self.docker = docker
        self.ssh = ssh
        self.local = local
        self.hostCommands = hostCommands
    }

    /// The executor for `customer`'s configured way in.
    public func executor(for customer: Customer) throws(ExecutorError) -> any CommandExecutor {
        switch customer.executor {
        case .local:
            return local
        case .docker:
            guard let container = customer.container else { throw .unreachable("\(customer.id) has no container set") }
            return try DockerExecutor(container: container, docker: docker, local: local)
        case .ssh:
            guard let host = customer.host else { throw .unreachable("\(customer.id) has no host set") }
            return try SSHExecutor(host: host, ssh: ssh, local: local)
        }
    }
}

/// A store made ready for runs: its validated template values, the executor that reaches it, and perfbot's own
/// host for the steps that run the hosting company's tools there.
public struct StoreTarget: Sendable {
    public let store: StoreID
    public let values: TemplateValues
    public let executor: any CommandExecutor
    /// Runs the `configured:` steps, on perfbot's host.
    public let hostExecutor: any CommandExecutor
    public let hostCommands: HostCommands

    /// - Parameter change: the hosting change a playbook was made for: its value fills `{plan}` or `{cache}`.
    /// - Throws: `PlaybookError` for an unsafe value, `ExecutorError` when the store cannot be reached.
    public init(_ customer: Customer, platform: any PlatformPlugin, executors: ExecutorFactory, change: HostingChange? = nil) throws {
        store = customer.id
        var values = try platform.templateValues(for: customer)
        if let change {
            try values.set(change.target.subject == .plan ? .plan : .cache, change.target.value)
        }
        self.values = values
        executor = try executors.executor(for: customer)
        hostExecutor = executors.local
        hostCommands = executors.hostCommands
    }

    public init(store: StoreID, values: TemplateValues, executor: any CommandExecutor,
                hostExecutor: any CommandExecutor = LocalExecutor(), hostCommands: HostCommands = .none) {
        self.store = store
        self.values = values
        self.executor = executor
        self.hostExecutor = hostExecutor
        self.hostCommands = hostCommands
    }

    /// How `action` starts for this store: its argv rendered, the executor that runs it and where.
    /// - Throws: `PlaybookError` when a value is missing or unsafe, or the tool it needs is not configured.
    public func command(for action: PlaybookAction, stoppable: Bool = false) throws(PlaybookError)
        -> (request: CommandRequest, executor: any CommandExecutor) {
        if let name = action.hostCommand {
            guard let template = hostCommands.templates[name] else { throw .notConfigured(name.variable) }
            // The hosting company's tool runs on perfbot's host, in no store's directory.
            return (CommandRequest(argv: try ArgvTemplate.render(template, with: values), timeout: action.timeout,
                                   workingDirectory: nil, stoppable: stoppable), hostExecutor)
        }
        return (CommandRequest(argv: try ArgvTemplate.render(action.run, with: values), timeout: action.timeout,
                               workingDirectory: values[.appPath], stoppable: stoppable), executor)
    }
}

extension PlaybookRunner {
    /// Runs (or plans) `playbook` for a store reached by `executor`, in its app path.
    public func run(_ playbook: Playbook, store: StoreID, values: TemplateValues, executor: any CommandExecutor,
                    dryRun: Bool, held: [Int: String] = [:], control: (any StepControl)? = nil) async throws -> RunReport {
        try await run(playbook, on: StoreTarget(store: store, values: values, executor: executor), dryRun: dryRun,
                      held: held, control: control)
    }
}

/// A reading a platform pack takes from a store: an argv template (placeholders validated like a playbook's,
/// run in the store's app path) and the reader of its output.
public struct PackCollector: Sendable {
    public var name: String
    public var argv: [String]
    public var timeout: TimeInterval
    /// The metrics it gives.
    public var gives: [MetricName]
    /// The metrics in `output`, read at `now`. - Throws: when the output is not what the tool prints.
    public var read: @Sendable (_ output: String, _ now: Date) throws -> [(MetricName, Double)]

    public init(name: String, argv: [String], timeout: TimeInterval = 30, gives: [MetricName],
                read: @escaping @Sendable (_ output: String, _ now: Date) throws -> [(MetricName, Double)]) {
        self.gives = gives
        self.name = name
        self.argv = argv
        self.timeout = timeout
        self.read = read
    }

    /// The argv for a store's values. - Throws: `PlaybookError` for a missing or unsafe value.
    public func render(_ values: TemplateValues) throws(PlaybookError) -> [String] {
        try ArgvTemplate.render(argv, with: values)
    }
}

/// A tool's output that a pack collector cannot read.
public struct PackCollectorError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
