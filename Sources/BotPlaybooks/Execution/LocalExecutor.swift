import BotCore
import Foundation
import Synchronization
import Subprocess
import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// Runs a command as a child process of perfbot: argv only, a scrubbed environment, a working
/// directory, bounded output, and a timeout that kills the whole process group.
public struct LocalExecutor: CommandExecutor {
    /// Directories searched for a program named without a `/`, in order; also the child's PATH.
    public var searchPath: [String]
    /// The most output kept, in bytes; the rest is counted as truncated.
    public var outputLimit: Int

    public init(searchPath: [String] = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"],
                outputLimit: Int = 16 * 1024) {
        self.searchPath = searchPath
        self.outputLimit = outputLimit
    }

    public var label: String { "local" }

    public func effectiveArgv(_ request: CommandRequest) -> [String] { request.argv }

    /// The environment a child sees: nothing of perfbot's own (no secrets), just enough to run, and a HOME
    /// that only perfbot can write (no planted `.my.cnf`, `.ssh/config` or `.docker/config.json`).
    public var environment: [String: String] {
        ["PATH": searchPath.joined(separator: ":"), "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "HOME": PrivateHome.path,
         "TMPDIR": PrivateHome.path]
    }

    /// The file that `program` names, or nil.
    public func resolve(_ program: String, in directory: String?) -> String? {
        let files = FileManager.default
        if program.contains("/") {
            let path = program.hasPrefix("/") ? program : ((directory ?? files.currentDirectoryPath) as NSString)
                .appendingPathComponent(program)
            return files.isExecutableFile(atPath: path) ? path : nil
        }
        return searchPath.lazy.map { ($0 as NSString).appendingPathComponent(program) }
            .first { files.isExecutableFile(atPath: $0) }
    }

    public func run(_ request: CommandRequest) async throws -> CommandOutcome {
        guard let program = request.argv.first else { throw ExecutorError.emptyCommand }
        guard let path = resolve(program, in: request.workingDirectory) else { throw ExecutorError.programNotFound(program) }
        guard PrivateHome.isPrivate else { throw ExecutorError.unreachable("perfbot's private HOME for commands was changed; restart perfbot") }
        var options = PlatformOptions()
        options.processGroupID = 0  // its own group, so a timeout kills its children too
        let environment = Environment.custom(Dictionary(uniqueKeysWithValues: self.environment.compactMap { key, value in
            Environment.Key(rawValue: key).map { ($0, value) }
        }))
        let limit = request.outputLimit ?? outputLimit
        let timeout = request.timeout
        let started = ContinuousClock.now
        let result = try await Subprocess.run(
            .path(FilePath(path)), arguments: Arguments(Array(request.argv.dropFirst())), environment: environment,
            workingDirectory: request.workingDirectory.map { FilePath($0) }, platformOptions: options,
            input: .none, output: .sequence, error: .combinedWithOutput
        ) { execution in
            let pid = execution.processIdentifier.value
            // Cancelled (perfbot shutting down, a check cycle's per-store timeout): end the whole group now.
            return try await withTaskCancellationHandler {
                try await Self.capture(execution.standardOutput, pid: pid, limit: limit, timeout: timeout)
            } onCancel: {
                kill(-pid, SIGKILL)
            }
        }
        let captured = result.closureResult
        var outcome = CommandOutcome(exitCode: nil, timedOut: captured.timedOut,
                                     output: String(decoding: captured.bytes, as: UTF8.self),
                                     truncated: captured.truncated,
                                     duration: (ContinuousClock.now - started).timeInterval)
        if request.outputLimit != nil { outcome.bytes = captured.bytes }
        switch result.terminationStatus {
        case let .exited(code):
            outcome.exitCode = code
            // It ended on its own before the kill could reach it (a timer that fired late, on a busy machine).
            outcome.timedOut = false
        case let .signaled(signal): outcome.signal = signal
        }
        return outcome
    }

    final class TimerMark: Sendable {
        let fired = Mutex(false)
    }

    struct Captured: Sendable {
        var bytes: [UInt8] = []
        var truncated = false
        var timedOut = false
    }

    /// Reads output up to `limit` bytes (draining the rest) while a timer kills the process group at `timeout`.
    static func capture(_ output: SubprocessOutputSequence, pid: pid_t, limit: Int,
                        timeout: TimeInterval) async throws -> Captured {
        // The timer marks the run timed out before it kills: once the group dies the output ends too, and
        // whichever of the two tasks the group hands back first, the mark says which came first.
        let killedByTimer = TimerMark()
        return try await withThrowingTaskGroup(of: Captured?.self) { group in
            group.addTask {
                var captured = Captured()
                for try await buffer in output {
                    buffer.withUnsafeBytes { raw in
                        let room = max(0, limit - captured.bytes.count)
                        captured.bytes.append(contentsOf: raw.prefix(room))
                        if raw.count > room { captured.truncated = true }
                    }
                }
                return captured
            }
            group.addTask {
                try await Task.sleep(for: .seconds(timeout))
                killedByTimer.fired.withLock { $0 = true }
                kill(-pid, SIGKILL)
                return nil
            }
            while let next = try await group.next() {
                guard var captured = next else { continue }
                group.cancelAll()
                captured.timedOut = killedByTimer.fired.withLock { $0 }
                return captured
            }
            return Captured(timedOut: killedByTimer.fired.withLock { $0 })
        }
    }
}

/// The HOME of every child perfbot starts: a directory made for this process with `mkdtemp` (so nobody could
/// have made it first), mode 0700, owned by perfbot's user; checked again before each use.
public enum PrivateHome {
    public static let path: String = {
        let base = FileManager.default.temporaryDirectory.path
        var template = Array("\(base)/perfbot-home.XXXXXX".utf8CString)
        // Without one, `isPrivate` is false and no command starts.
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else { return "" }
        return String(cString: made)
    }()

    /// Whether the directory is still perfbot's alone: a directory (not a link), owned by this user, mode 0700.
    public static var isPrivate: Bool { isPrivate(path) }

    /// Whether `directory` is a directory (not a link) owned by this user with mode 0700.
    public static func isPrivate(_ directory: String) -> Bool {
        var info = stat()
        guard !directory.isEmpty, lstat(directory, &info) == 0 else { return false }
        return (info.st_mode & S_IFMT) == S_IFDIR && info.st_uid == geteuid() && (info.st_mode & 0o777) == 0o700
    }
}

/// Why a command could not be started.
public enum ExecutorError: Error, Equatable, Sendable, CustomStringConvertible {
    case emptyCommand
    case programNotFound(String)
    /// The store cannot be reached this way (no container, no host).
    case unreachable(String)

    public var description: String {
        switch self {
        case .emptyCommand: "empty command"
        case let .programNotFound(program): "program not found: \(program)"
        case let .unreachable(reason): reason
        }
    }
}

