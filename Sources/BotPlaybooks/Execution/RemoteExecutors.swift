import BotCore
import Foundation

/// Runs commands inside a customer's container with `docker exec`, bounded by `timeout` inside the
/// container as well, so a timed-out command does not live on after the client is killed.
public struct DockerExecutor: CommandExecutor {
    public var docker: String
    public var container: String
    let local: LocalExecutor

    /// - Throws: `ExecutorError.unreachable` when `container` is not a safe container name.
    public init(container: String, docker: String = "docker", local: LocalExecutor = LocalExecutor()) throws(ExecutorError) {
        guard TemplateVariable.container.accepts(container) else {
            throw .unreachable("the container name is not safe to use")
        }
        self.container = container
        self.docker = docker
        self.local = local
    }

    public var label: String { "docker exec \(container)" }

    public func effectiveArgv(_ request: CommandRequest) -> [String] {
        var argv = [docker, "exec"]
        if let directory = request.workingDirectory { argv += ["-w", directory] }
        return argv + [container] + RemoteTimeout.wrap(request)
    }

    public func run(_ request: CommandRequest) async throws -> CommandOutcome {
        // The client gets a little longer than the command inside, so the inner timeout fires first.
        try await local.run(CommandRequest(argv: effectiveArgv(request), timeout: request.timeout + 10,
                                           outputLimit: request.outputLimit))
    }
}

/// Runs commands on a customer's host with `ssh -o BatchMode=yes`. ssh hands the remote side one
/// command line, so every argv element is single-quoted; the values were validated before that.
public struct SSHExecutor: CommandExecutor {
    public var ssh: String
    public var host: String
    let local: LocalExecutor

    /// - Throws: `ExecutorError.unreachable` when `host` is not a safe host name.
    public init(host: String, ssh: String = "ssh", local: LocalExecutor = LocalExecutor()) throws(ExecutorError) {
        guard TemplateVariable.host.accepts(host) else { throw .unreachable("the host name is not safe to use") }
        self.host = host
        self.ssh = ssh
        self.local = local
    }

    public var label: String { "ssh \(host)" }

    public func effectiveArgv(_ request: CommandRequest) -> [String] {
        var remote = RemoteTimeout.wrap(request)
        if let directory = request.workingDirectory { remote = ["cd", directory, "&&"] + remote }
        let line = remote.map { $0 == "&&" ? $0 : Self.quote($0) }.joined(separator: " ")
        return [ssh, "-o", "BatchMode=yes", "-o", "ConnectTimeout=10", "--", host, line]
    }

    public func run(_ request: CommandRequest) async throws -> CommandOutcome {
        try await local.run(CommandRequest(argv: effectiveArgv(request), timeout: request.timeout + 15,
                                           outputLimit: request.outputLimit))
    }

    /// `it's` → `'it'\''s'`.
    static func quote(_ element: String) -> String {
        "'" + element.replacingOccurrences(of: "'", with: #"'\''"#) + "'"
    }
}

/// `timeout -k 5 <seconds> argv…`: coreutils' timeout, on the far side of docker or ssh.
enum RemoteTimeout {
    static func wrap(_ request: CommandRequest) -> [String] {
        ["timeout", "-k", "5", String(Int(request.timeout.rounded(.up)))] + request.argv
    }
}
