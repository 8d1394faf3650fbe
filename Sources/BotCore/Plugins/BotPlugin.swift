import Foundation
import Logging

/// A member of the hosting team in Slack: who, their role, and where they asked.
public struct TeamMember: Sendable, Equatable {
    public var user: SlackUserID
    public var role: Role
    public var channel: String?

    public init(user: SlackUserID, role: Role, channel: String? = nil) {
        self.user = user
        self.role = role
        self.channel = channel
    }
}

/// Who asked: a team member with a role, or a store's contact (by e-mail or the status page). A contact is never
/// a Slack user of some role: team commands cannot reach one by mistake.
public enum Invoker: Sendable, Equatable {
    case member(TeamMember)
    case contact(Contact)

    /// The team member, nil for a contact.
    public var member: TeamMember? { if case let .member(member) = self { member } else { nil } }
    /// The contact, nil for a team member.
    public var contact: Contact? { if case let .contact(contact) = self { contact } else { nil } }
}

/// A store's contact as perfbot knows them: their address on file and their stores.
public struct Contact: Sendable, Equatable {
    /// The address on file (answers go there, never to a message's From).
    public var email: String
    public var stores: [StoreID]

    public init(email: String, stores: [StoreID]) {
        self.email = email
        self.stores = stores
    }
}

/// What a plugin gets along with a command.
public struct CommandContext: Sendable {
    public var invoker: Invoker
    public var logger: Logger
    /// Posts a reply after the first answer (Slack's `response_url`); nil where there is no such way.
    public var replyLater: (@Sendable (BotReply) async -> Void)?

    public init(invoker: Invoker, logger: Logger, replyLater: (@Sendable (BotReply) async -> Void)? = nil) {
        self.invoker = invoker
        self.logger = logger
        self.replyLater = replyLater
    }

    /// The team member who asked; a team command reached by a contact is refused.
    public func member() throws -> TeamMember {
        guard let member = invoker.member else { throw BotError.invalid("This command is for the hosting team, in Slack.") }
        return member
    }
}

/// A long-running job a plugin owns (the scheduler's tick, a delivery loop).
public protocol BotService: Sendable {
    /// The name used in logs.
    var name: String { get }
    /// Runs until the task is cancelled; returns when it has stopped.
    func run() async throws
}

/// An inbound webhook route a plugin owns, beside the core's.
public struct WebhookSource: Sendable {
    /// The path under `/webhooks/`, e.g. `alertmanager`.
    public var path: String
    /// Handles a verified, size-bounded body; returns the JSON to answer with.
    public var handle: @Sendable (_ body: [UInt8], _ deliveryID: Int64) async throws -> WebhookOutcome

    public init(path: String, handle: @escaping @Sendable ([UInt8], Int64) async throws -> WebhookOutcome) {
        self.path = path
        self.handle = handle
    }
}

/// What a webhook handler did, reported back to the sender.
public struct WebhookOutcome: Sendable, Equatable {
    public var summary: [String: String]

    public init(summary: [String: String]) { self.summary = summary }
}

/// A unit of domain knowledge: the commands, webhooks, rules, playbooks and services it owns.
///
/// Every requirement has a default, so a plugin writes only what it owns. Plugins do no I/O of
/// their own: they use the clients handed to their `init`.
public protocol BotPlugin: Sendable {
    /// A short lowercase name for logs (`console`, `woocommerce`).
    var name: String { get }
    /// The commands this plugin answers.
    var commands: [CommandSpec] { get }
    /// Webhook routes this plugin answers.
    var webhookSources: [WebhookSource] { get }
    /// Detection rules this plugin contributes.
    var rules: [DetectionRule] { get }
    /// Folders of playbook files this plugin owns, relative to the playbooks directory.
    var playbookFolders: [String] { get }
    /// Long-running services this plugin needs.
    var services: [any BotService] { get }
    /// Answers one of `commands`.
    func handle(_ command: ParsedCommand, context: CommandContext) async throws -> BotReply
    /// The callback ids of the modals this plugin opens (and whose submissions it takes).
    var modalCallbacks: [String] { get }
    /// Takes a submitted modal of one of `modalCallbacks`, from the team member in `context`.
    func submit(_ submission: ModalSubmission, context: CommandContext) async throws -> ModalOutcome
}

extension BotPlugin {
    public var commands: [CommandSpec] { [] }
    public var webhookSources: [WebhookSource] { [] }
    public var rules: [DetectionRule] { [] }
    public var playbookFolders: [String] { [] }
    public var services: [any BotService] { [] }

    public func handle(_ command: ParsedCommand, context: CommandContext) async throws -> BotReply {
        throw BotError.unsupported("`\(command.name)` is declared by \(name) but not handled.")
    }

    public var modalCallbacks: [String] { [] }

    public func submit(_ submission: ModalSubmission, context: CommandContext) async throws -> ModalOutcome {
        throw BotError.unsupported("the modal `\(submission.callbackID)` is declared by \(name) but not handled.")
    }
}

/// Errors a plugin or the core reports; each has a message safe for chat.
public enum BotError: Error, Equatable, CustomStringConvertible {
    /// The named store does not exist; `suggestions` are the closest names.
    case unknownStore(String, suggestions: [String])
    /// A request the bot cannot carry out as asked.
    case invalid(String)
    /// A declared capability with no handler (a bug).
    case unsupported(String)

    /// `unknownStore` with the closest of `names` as suggestions.
    public static func unknownStore(_ name: String, among names: [String]) -> BotError {
        .unknownStore(name, suggestions: NameSuggester.closest(to: name, in: names))
    }

    /// What the user is told.
    public var userMessage: String {
        switch self {
        case let .unknownStore(name, suggestions):
            let base = "No store named `\(name)`."
            guard !suggestions.isEmpty else { return base + " `/perf fleet` lists them all." }
            return base + " Did you mean " + suggestions.map { "`\($0)`" }.joined(separator: ", ") + "?"
        case let .invalid(message): return message
        case .unsupported: return "That command is not available right now."
        }
    }

    public var description: String {
        switch self {
        case let .unknownStore(name, _): "unknown store \(name)"
        case let .invalid(message): "invalid: \(message)"
        case let .unsupported(message): "unsupported: \(message)"
        }
    }
}

/// Whether this replica runs the fleet's periodic work: the check cycle, predictions, weekly mail and retention.
/// Every replica serves HTTP and sends; one leads.
public protocol Leadership: Sendable {
    /// Whether this replica leads now.
    func isLeader() async -> Bool
    /// The term this replica leads in, nil when it does not lead. A new term means another replica may have led
    /// in between: what the leader keeps in memory is built again from the database.
    func leadingTerm() async -> Int64?
}

/// The one replica of an installation on one machine: it always leads, in one term.
public struct SoleReplica: Leadership {
    public init() {}
    public func isLeader() async -> Bool { true }
    public func leadingTerm() async -> Int64? { 0 }
}

/// Does `work` every `interval` of `clock` until cancelled; a failing round is logged and the next one still runs.
/// With `leadership`, a round runs only while this replica leads.
public struct PeriodicService: BotService {
    public let name: String
    let interval: Duration
    let clock: any BotClock
    let logger: Logger
    let leadership: any Leadership
    let work: @Sendable () async throws -> Void
    /// How long a replica that does not lead waits before it asks again.
    static let followerPause = Duration.seconds(5)

    public init(name: String, every interval: Duration, clock: any BotClock, logger: Logger,
                leadership: any Leadership = SoleReplica(), work: @escaping @Sendable () async throws -> Void) {
        self.name = name
        self.interval = interval
        self.clock = clock
        self.logger = logger
        self.leadership = leadership
        self.work = work
    }

    public func run() async throws {
        while !Task.isCancelled {
            let leads = await leadership.isLeader()
            do {
                if leads { try await work() }
            } catch is CancellationError {
                return
            } catch {
                logger.error("\(name) failed", metadata: ["error": "\(error)"])
            }
            // A replica that does not lead looks again soon: one that takes the lead (at start, or when the leader is
            // gone) does the work then, not a whole interval later.
            try await clock.sleep(for: leads ? interval : min(interval, Self.followerPause))
        }
    }
}
