import Foundation

/// The kind of value a positional argument takes.
public enum ArgumentKind: Sendable, Equatable {
    /// A store name (`StoreID` pattern).
    case store
    /// A single word of letters, digits, `-`, `_` or `.`.
    case word
    /// One of a fixed set of words.
    case choice([String])
    /// A fixed keyword that must appear as written (e.g. `level`).
    case keyword(String)
    /// A whole number in a range.
    case integer(ClosedRange<Int>)
    /// A duration such as `30m`, `2h`, `1d`.
    case duration
    /// All remaining words, as written (must be last).
    case rest
}

/// One positional argument of a command.
public struct ArgumentSpec: Sendable, Equatable {
    public var name: String
    public var kind: ArgumentKind
    public var isOptional: Bool
    /// Takes one or more values (must be last).
    public var isRepeated: Bool

    public init(_ name: String, _ kind: ArgumentKind, optional: Bool = false, repeated: Bool = false) {
        self.name = name
        self.kind = kind
        self.isOptional = optional
        self.isRepeated = repeated
    }

    /// How the argument reads in a usage line.
    public var usage: String {
        let core: String
        switch kind {
        case let .keyword(word): core = word
        case let .choice(words): core = words.joined(separator: "|")
        case let .integer(range) where range.count <= 5: core = range.map(String.init).joined(separator: "|")
        default: core = "<\(name)>"
        }
        let body = isRepeated ? "\(core)…" : core
        return isOptional ? "[\(body)]" : body
    }
}

/// A `--flag` or `--option value` of a command.
public struct FlagSpec: Sendable, Equatable {
    public var name: String
    /// nil for a switch such as `--dry-run`; otherwise the allowed values (empty = any word).
    public var values: [String]?
    public var help: String

    public init(_ name: String, values: [String]? = nil, help: String) {
        self.name = name
        self.values = values
        self.help = help
    }

    public var usage: String {
        guard let values else { return "[--\(name)]" }
        return values.isEmpty ? "[--\(name) <value>]" : "[--\(name) \(values.joined(separator: "|"))]"
    }
}

/// What answering a command does, from the most to the least careful way to handle it.
public enum CommandEffect: Sendable, Equatable {
    /// It may change something: its delivery is recorded before it runs, so a retry never acts twice.
    case acts
    /// It only reads (perhaps live, from a store's container): it may be answered before its delivery is recorded.
    case reads
    /// It only shows what perfbot has stored (`CommandSpec.showsStored`).
    case showsStored
}

/// A command declared once: the same value parses input, builds usage and help.
public struct CommandSpec: Sendable, Equatable {
    /// The first word (`store`, `fleet`, …).
    public var name: String
    public var arguments: [ArgumentSpec]
    public var flags: [FlagSpec]
    /// The lowest role allowed to run it.
    public var role: Role
    /// One line that says what it does.
    public var summary: String
    /// Example invocations, as typed after `/perf `.
    public var examples: [String]
    /// Whether it only reads: such a command may be answered before its delivery is recorded.
    public var isReadOnly: Bool
    /// Whether its answer is made only of what perfbot has stored, the asker's role and the clock (not of a live read
    /// of a store's container, and with nothing posted later): such an answer may be given again for a second while
    /// nothing is stored in between.
    public var showsStored: Bool
    /// Who may type it: the hosting team in Slack, or a store's contact by e-mail.
    public var audience: Audience

    /// What answering a command does.
    public var effect: CommandEffect {
        showsStored ? .showsStored : isReadOnly ? .reads : .acts
    }

    /// The two sides perfbot talks to, each with a grammar of its own through the same parser and router.
    public enum Audience: String, Sendable, Equatable {
        /// Admins, operators and viewers, in Slack.
        case team
        /// A store's contact, by e-mail, scoped to their own stores.
        case customer
    }

    public init(_ name: String, arguments: [ArgumentSpec] = [], flags: [FlagSpec] = [],
                role: Role = .viewer, readOnly: Bool = false, showsStored: Bool = false, audience: Audience = .team, summary: String,
                examples: [String]) {
        self.audience = audience
        self.name = name
        self.arguments = arguments
        self.flags = flags
        self.role = role
        self.summary = summary
        self.examples = examples
        self.isReadOnly = readOnly || showsStored
        self.showsStored = showsStored
    }

    /// `store <store>` style usage line, flags last.
    public var usage: String {
        ([name] + arguments.map(\.usage) + flags.map(\.usage)).joined(separator: " ")
    }

    /// A key that tells two forms of the same command apart (`automation <store> level <level>`).
    public var formKey: String {
        ([audience == .team ? name : "customer:" + name] + arguments.map { arg in
            if case let .keyword(word) = arg.kind { return word }
            return "_"
        }).joined(separator: " ")
    }
}
