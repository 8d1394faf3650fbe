import BotCore
import Foundation

/// A plugin that owns one platform: its rules, its playbooks and the values its commands need.
public protocol PlatformPlugin: BotPlugin {
    /// The platform it owns.
    var platform: Platform { get }
    /// The playbook `/perf optimize` runs.
    var batteryPlaybook: String { get }
    /// Template values for `customer` (paths, database, services), before validation.
    func templateDefaults(for customer: Customer) -> [TemplateVariable: String]
}

extension PlatformPlugin {
    public var batteryPlaybook: String { "optimize" }
    public var playbookFolders: [String] { [platform.rawValue] }

    /// The validated template values for `customer`.
    /// - Throws: `PlaybookError.unsafeValue` when one of them fails its pattern.
    public func templateValues(for customer: Customer) throws(PlaybookError) -> TemplateValues {
        var values = TemplateValues()
        try values.set(.store, customer.id.rawValue)
        if let container = customer.container { try values.set(.container, container) }
        if let host = customer.host { try values.set(.host, host) }
        for (variable, value) in templateDefaults(for: customer) { try values.set(variable, value) }
        return values
    }
}

/// Chooses how to reach a customer's store.
public struct ExecutorFactory: Sendable {
    public var docker: String
    public var ssh: String
    public var local: LocalExecutor

    public init(docker: String = "docker", ssh: String = "ssh", local: LocalExecutor = LocalExecutor()) {
        self.docker = docker
        self.ssh = ssh
        self.local = local
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
