import BotCore
import Foundation

/// A command ready to run: argv (already validated), limits and where.
public struct CommandRequest: Sendable, Equatable {
    public var argv: [String]
    public var timeout: TimeInterval
    /// The directory it runs in (the store's app path).
    public var workingDirectory: String?
    /// The most output to keep, when the executor's default is too small (a piece of a slow log).
    public var outputLimit: Int?
    /// A job's step: run so that a stop reaches it wherever it runs (in a container, on another host), not only
    /// the local client. Reads that end on their own (collectors) do without the extra bookkeeping.
    public var stoppable = false

    public init(argv: [String], timeout: TimeInterval, workingDirectory: String? = nil, outputLimit: Int? = nil,
                stoppable: Bool = false) {
        self.stoppable = stoppable
        self.argv = argv
        self.timeout = timeout
        self.workingDirectory = workingDirectory
        self.outputLimit = outputLimit
    }
}

/// How a command ended.
public struct CommandOutcome: Sendable, Equatable {
    /// The exit code, when it exited.
    public var exitCode: Int32?
    /// The signal that ended it, when one did.
    public var signal: Int32?
    public var timedOut: Bool
    /// Standard output and error together, at most the executor's limit.
    public var output: String
    /// Whether output past the limit was dropped.
    public var truncated: Bool
    /// The output's bytes as read (for readers that count bytes, such as a slow log's offset).
    public var bytes: [UInt8] = []
    public var duration: TimeInterval

    public init(exitCode: Int32?, signal: Int32? = nil, timedOut: Bool = false, output: String = "",
                truncated: Bool = false, duration: TimeInterval = 0) {
        self.exitCode = exitCode
        self.signal = signal
        self.timedOut = timedOut
        self.output = output
        self.truncated = truncated
        self.duration = duration
    }

    public var succeeded: Bool { exitCode == 0 && !timedOut }

    /// A short reason for a failure, for chat ("exit 3: Error: cache type unknown").
    public var failureReason: String {
        if timedOut { return "timed out after \(Wording.number(duration, decimals: 0)) s" }
        if let signal { return "killed by signal \(signal)" }
        let lastLine = output.split(separator: "\n").last.map { String($0.prefix(160)) } ?? ""
        return "exit \(exitCode ?? -1)" + (lastLine.isEmpty ? "" : ": \(lastLine)")
    }
}

/// Runs commands somewhere: on this host, in a container, or on another host.
public protocol CommandExecutor: Sendable {
    /// How it reaches the store, for dry runs ("docker exec acme-app").
    var label: String { get }
    /// The argv that will actually be started for `request` (for dry runs and records).
    func effectiveArgv(_ request: CommandRequest) -> [String]
    /// Runs `request`; a failure to start is thrown, a non-zero exit is an outcome.
    func run(_ request: CommandRequest) async throws -> CommandOutcome
    /// Why `outcome` means the store was not reached at all (no container, no host), rather than a command that
    /// failed there; nil when it was reached.
    func unreachable(_ outcome: CommandOutcome) -> String?
    /// Why a command that could not be started means the store is not reachable this way; nil when only this
    /// command is at fault (a program missing on this host).
    func unreachable(error: any Error) -> String?
}

extension CommandExecutor {
    public func unreachable(_ outcome: CommandOutcome) -> String? { nil }

    public func unreachable(error: any Error) -> String? {
        if case let .unreachable(reason)? = error as? ExecutorError { return reason }
        return nil
    }
}
