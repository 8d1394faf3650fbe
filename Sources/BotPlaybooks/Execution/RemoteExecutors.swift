import BotCore
import Foundation
#if canImport(Glibc)
import Glibc
#endif

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

    /// Without a docker client nothing reaches the container.
    public func unreachable(error: any Error) -> String? { RemoteStep.unreachable(error, client: docker) }

    /// docker's own errors (the daemon, the container), as opposed to the command's: the daemon prefixes them.
    public func unreachable(_ outcome: CommandOutcome) -> String? {
        guard !outcome.succeeded, !outcome.timedOut else { return nil }
        let markers = ["Error response from daemon:", "Cannot connect to the Docker daemon", "OCI runtime exec failed",
                       "No such container"]
        guard let line = outcome.output.split(separator: "\n").first(where: { line in markers.contains { line.contains($0) } })
        else { return nil }
        return "docker could not reach \(container): " + String(line.prefix(160))
    }

    public func effectiveArgv(_ request: CommandRequest) -> [String] {
        var argv = [docker, "exec"]
        if let directory = request.workingDirectory { argv += ["-w", directory] }
        return argv + [container] + RemoteTimeout.wrap(request)
    }

    public func run(_ request: CommandRequest) async throws -> CommandOutcome {
        // The client gets a little longer than the command inside, so the inner timeout fires first.
        guard request.stoppable else {
            return try await local.run(CommandRequest(argv: effectiveArgv(request), timeout: request.timeout + 10,
                                                      outputLimit: request.outputLimit))
        }
        var prefix = [docker, "exec"]
        if let directory = request.workingDirectory { prefix += ["-w", directory] }
        let inside = [docker, "exec", container]
        return try await RemoteStep.run(request, local: local, clientGrace: 10) { pidFile in
            prefix + [container] + RemoteStep.recorded(request, pidFile: pidFile)
        } stop: { pidFile in
            inside + RemoteStep.stop(pidFile: pidFile)
        }
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

    /// Without an ssh client nothing reaches the host.
    public func unreachable(error: any Error) -> String? { RemoteStep.unreachable(error, client: ssh) }

    /// ssh exits 255 for its own errors (the connection, the key), never for the remote command's.
    public func unreachable(_ outcome: CommandOutcome) -> String? {
        guard outcome.exitCode == 255 else { return nil }
        let line = outcome.output.split(separator: "\n").last.map { String($0.prefix(160)) } ?? "connection failed"
        return "ssh could not reach \(host): \(line)"
    }

    public func effectiveArgv(_ request: CommandRequest) -> [String] {
        var remote = RemoteTimeout.wrap(request)
        if let directory = request.workingDirectory { remote = ["cd", directory, "&&"] + remote }
        let line = remote.map { $0 == "&&" ? $0 : Self.quote($0) }.joined(separator: " ")
        return [ssh, "-o", "BatchMode=yes", "-o", "ConnectTimeout=10", "--", host, line]
    }

    public func run(_ request: CommandRequest) async throws -> CommandOutcome {
        guard request.stoppable else {
            return try await local.run(CommandRequest(argv: effectiveArgv(request), timeout: request.timeout + 15,
                                                      outputLimit: request.outputLimit))
        }
        return try await RemoteStep.run(request, local: local, clientGrace: 15) { pidFile in
            line(RemoteStep.recorded(request, pidFile: pidFile), in: request.workingDirectory)
        } stop: { pidFile in
            line(RemoteStep.stop(pidFile: pidFile), in: nil)
        }
    }

    /// The ssh argv that runs `remote` (quoted, as ssh hands the far side one line), in `directory`.
    func line(_ remote: [String], in directory: String?) -> [String] {
        let quoted = remote.map(Self.quote).joined(separator: " ")
        return [ssh, "-o", "BatchMode=yes", "-o", "ConnectTimeout=10", "--", host,
                directory.map { "\(Self.quote("cd")) \(Self.quote($0)) && \(quoted)" } ?? quoted]
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

/// A job's step on the far side of docker or ssh, run so it can be stopped there: killing the local client
/// leaves the process in the container (or on the host) running, so the step's `timeout` records its pid — its
/// process group — in a file perfbot names, and a stop kills that group and waits until it is gone.
///
/// The two scripts are fixed text; every value (the pid file, the seconds, the argv) reaches them as a positional
/// parameter, never as script, so nothing outside is ever read by the shell.
public enum RemoteStep {
    /// Runs `timeout` in the background (its own process group), records its pid, waits, removes the record.
    public static let runScript = #"timeout -k 5 "$@" </dev/null & p=$!; echo "$p" > "$0"; wait "$p"; s=$?; rm -f "$0"; exit "$s""#

    /// TERM to the recorded group, KILL after 6 s, and exit 0 once no live process is left in it (1 when one outlived
    /// 8 s). Zombies count as gone: a container's first process often reaps nothing. A missing record is waited for
    /// a second (the step may be starting), then means the step has already ended.
    public static let stopScript = #"""
        i=0; while [ ! -s "$0" ]; do i=$((i+1)); [ "$i" -ge 10 ] && exit 0; sleep 0.1; done
        p=$(cat "$0"); case "$p" in ''|*[!0-9]*) exit 0;; esac
        alive() {
          [ -d /proc/self ] || { kill -s 0 -- "-$p" 2>/dev/null; return; }
          for f in /proc/[0-9]*/stat; do
            read -r _ _ st _ g _ < "$f" 2>/dev/null || continue
            [ "$g" = "$p" ] && [ "$st" != Z ] && return 0
          done
          return 1
        }
        kill -s TERM -- "-$p" 2>/dev/null
        i=0; while alive; do
          i=$((i+1)); [ "$i" -eq 60 ] && kill -s KILL -- "-$p" 2>/dev/null; [ "$i" -ge 80 ] && exit 1; sleep 0.1
        done
        exit 0
        """#

    /// Why a command that did not start means the far side is out of reach: the client (`client`) is missing, or
    /// the target was refused; nil for anything else.
    static func unreachable(_ error: any Error, client: String) -> String? {
        switch error as? ExecutorError {
        case let .unreachable(reason)?: reason
        case .programNotFound?: "\(client) is not installed on perfbot's host"
        case .emptyCommand?, nil: nil
        }
    }

    /// `sh -c <runScript> <pidFile> <seconds> argv…`.
    static func recorded(_ request: CommandRequest, pidFile: String) -> [String] {
        ["sh", "-c", runScript, pidFile, String(Int(request.timeout.rounded(.up)))] + request.argv
    }

    /// `sh -c <stopScript> <pidFile>`.
    static func stop(pidFile: String) -> [String] { ["sh", "-c", stopScript, pidFile] }

    /// Runs the step through the local client; when the task is cancelled (a cancel, the end of a drain), stops the
    /// far side too and returns only once it is gone, or once the step's own timeout has passed.
    static func run(_ request: CommandRequest, local: LocalExecutor, clientGrace: TimeInterval,
                    argv: (String) -> [String], stop: @escaping @Sendable (String) -> [String]) async throws -> CommandOutcome {
        let pidFile = "/tmp/perfbot-step-\(UUID().uuidString.lowercased()).pid"
        let started = ContinuousClock.now
        let result: Result<CommandOutcome, any Error>
        do {
            result = .success(try await local.run(CommandRequest(argv: argv(pidFile), timeout: request.timeout + clientGrace,
                                                                 outputLimit: request.outputLimit)))
        } catch {
            result = .failure(error)
        }
        guard Task.isCancelled else { return try result.get() }
        let outcome = try? result.get()
        // A cancelled task ends every process it starts at once: the stop runs outside it, and is awaited.
        let deadline = started + .seconds(request.timeout + 5)
        let gone = await Task.detached {
            let result = try? await local.run(CommandRequest(argv: stop(pidFile), timeout: 30))
            if result?.succeeded == true { return true }
            // Not confirmed: the step's own timeout (with its kill grace) is the bound.
            try? await Task.sleep(until: deadline)
            return false
        }.value
        var stopped = outcome ?? CommandOutcome(exitCode: nil, signal: SIGTERM)
        stopped.exitCode = nil
        stopped.signal = stopped.signal ?? SIGTERM
        stopped.output += gone ? "\n(stopped: its process was ended)" : "\n(stopped: not confirmed; its own timeout has passed)"
        return stopped
    }
}
