import Foundation
import Logging

/// Parses command text, checks the caller's role and hands the command to the plugin that owns it.
public struct CommandRouter: Sendable {
    /// Two plugins declared the same command form.
    public struct DuplicateCommand: Error, CustomStringConvertible {
        public let form: String
        public let plugins: [String]
        public var description: String { "command `\(form)` is declared by both \(plugins.joined(separator: " and "))" }
    }

    /// The built-in `help` command.
    public static let helpSpec = CommandSpec(
        "help", arguments: [ArgumentSpec("command", .word, optional: true)], showsStored: true,
        summary: "List every command, or explain one.",
        examples: ["help", "help store"])

    /// Every command form, in help order, with the plugin that answers it (nil for `help`).
    public let entries: [(spec: CommandSpec, plugin: (any BotPlugin)?)]
    private let access: AccessList
    private let prefix: String

    /// - Parameters:
    ///   - plugins: the plugins, in the order their commands appear in help.
    ///   - access: who may use the bot.
    ///   - prefix: how users type commands (`/perf`).
    /// - Throws: `DuplicateCommand` when two plugins claim one form.
    public init(plugins: [any BotPlugin], access: AccessList, prefix: String = "/perf") throws {
        var entries: [(spec: CommandSpec, plugin: (any BotPlugin)?)] = [(Self.helpSpec, nil)]
        var owners: [String: String] = [Self.helpSpec.formKey: "core"]
        for plugin in plugins {
            for spec in plugin.commands {
                if let owner = owners[spec.formKey] {
                    throw DuplicateCommand(form: spec.formKey, plugins: [owner, plugin.name])
                }
                owners[spec.formKey] = plugin.name
                entries.append((spec, plugin))
            }
        }
        self.entries = entries
        self.access = access
        self.prefix = prefix
    }

    /// All command specs, `help` first.
    public var specs: [CommandSpec] { entries.map(\.spec) }

    /// The result of matching text against the grammar, before any role check or handling.
    public enum Match {
        case matched(ParsedCommand, (any BotPlugin)?)
        case empty
        case unknown(String)
        case usage(name: String, message: String)
    }

    /// Matches `text` against the grammar of `audience`.
    public func match(_ text: String, audience: CommandSpec.Audience = .team) -> Match {
        let words = CommandTokenizer.words(text)
        guard let first = words.first else { return .empty }
        let name = first.lowercased()
        let candidates = entries.filter { $0.spec.name == name && ($0.spec.audience == audience || $0.plugin == nil) }
        guard !candidates.isEmpty else { return .unknown(first) }
        var best: CommandParseError?
        var matches: [(ParsedCommand, (any BotPlugin)?)] = []
        for candidate in candidates {
            switch CommandParser.parse(Array(words.dropFirst()), as: candidate.spec) {
            case let .success(parsed): matches.append((parsed, candidate.plugin))
            case let .failure(error):
                if error.progress > (best?.progress ?? -1) { best = error }
            }
        }
        // More specific forms (more keywords) win over general ones when both parse.
        if let chosen = matches.max(by: { keywordCount($0.0.spec) < keywordCount($1.0.spec) }) {
            return .matched(chosen.0, chosen.1)
        }
        return .usage(name: name, message: best?.message ?? "that does not fit.")
    }

    /// What answering `text` does; text that matches no command only reads (its answer says how to ask).
    public func effect(of text: String) -> CommandEffect {
        guard case let .matched(command, _) = match(text) else { return .reads }
        return command.spec.effect
    }

    private func keywordCount(_ spec: CommandSpec) -> Int {
        spec.arguments.filter { if case .keyword = $0.kind { true } else { false } }.count
    }

    /// Answers `text` typed by `user`.
    /// - Parameter replyLater: how a plugin posts a reply after the first answer, if it can.
    public func route(_ text: String, user: SlackUserID, channel: String?, logger: Logger,
                      replyLater: (@Sendable (BotReply) async -> Void)? = nil) async -> BotReply {
        guard let role = access.role(of: user) else {
            return .text("Sorry, you are not on perfbot's list of users. Ask an admin to add your Slack id "
                + "`\(user)` to PERFBOT_SLACK_USERS.")
        }
        switch match(text) {
        case .empty:
            return help(nil, role: role)
        case let .unknown(word):
            let names = Array(Set(entries.filter { $0.spec.audience == .team }.map(\.spec.name))).sorted()
            let close = NameSuggester.closest(to: word, in: names, limit: 2)
            let hint = close.isEmpty ? "" : " Did you mean " + close.map { "`\($0)`" }.joined(separator: " or ") + "?"
            return .text("I don't know the command `\(word.prefix(40))`.\(hint) Try `\(prefix) help`.")
        case let .usage(name, message):
            let forms = entries.filter { $0.spec.name == name && $0.spec.audience == .team }.map { "`\(prefix) \($0.spec.usage)`" }
            return BotReply([.text("⚠️ \(message)"), .context("Usage: " + forms.joined(separator: "  ·  "))])
        case let .matched(command, plugin):
            guard role >= command.spec.role else {
                return .text("Sorry, `\(prefix) \(command.name)` needs the \(command.spec.role.rawValue) role; "
                    + "you are \(role.withArticle).")
            }
            guard let plugin else { return help(command.value("command"), role: role) }
            var log = logger
            log[metadataKey: "plugin"] = .string(plugin.name)
            log[metadataKey: "command"] = .string(command.name)
            do {
                return try await plugin.handle(command, context: CommandContext(
                    invoker: .member(TeamMember(user: user, role: role, channel: channel)), logger: log, replyLater: replyLater))
            } catch let error as BotError {
                log.notice("command refused", metadata: ["reason": .string(error.description)])
                return .text(error.userMessage)
            } catch {
                let reference = String(UInt32.random(in: 0...UInt32.max), radix: 16)
                log.error("command failed", metadata: ["error": .string(String(describing: error)),
                                                       "reference": .string(reference)])
                return .text("Sorry, something went wrong on my side (reference `\(reference)`). "
                    + "The admins can find it in the log.")
            }
        }
    }

    /// Hands a submitted modal to the plugin that opened it, as the team member who submitted it.
    public func submit(_ submission: ModalSubmission, user: SlackUserID, channel: String?, logger: Logger,
                       replyLater: (@Sendable (BotReply) async -> Void)? = nil) async -> ModalOutcome {
        guard let role = access.role(of: user) else {
            return .inputError("You are not on perfbot's list of users.")
        }
        guard let plugin = entries.compactMap(\.plugin).first(where: { $0.modalCallbacks.contains(submission.callbackID) }) else {
            return .close(.text("That window is no longer in use; nothing was done."))
        }
        var log = logger
        log[metadataKey: "plugin"] = .string(plugin.name)
        log[metadataKey: "modal"] = .string(submission.callbackID)
        do {
            return try await plugin.submit(submission, context: CommandContext(
                invoker: .member(TeamMember(user: user, role: role, channel: channel)), logger: log, replyLater: replyLater))
        } catch let error as BotError {
            log.notice("modal refused", metadata: ["reason": .string(error.description)])
            return .close(.text(error.userMessage))
        } catch {
            let reference = String(UInt32.random(in: 0...UInt32.max), radix: 16)
            log.error("modal failed", metadata: ["error": .string(String(describing: error)), "reference": .string(reference)])
            return .close(.text("Sorry, something went wrong on my side (reference `\(reference)`). The admins can find it in the log."))
        }
    }

    /// Answers `text` written by a store's contact (an e-mail command): only the customer grammar, scoped
    /// to their stores by the plugins through `context.invoker.contact`.
    public func route(_ text: String, contact: Contact, logger: Logger) async -> BotReply {
        switch match(text, audience: .customer) {
        case .empty:
            return customerHelp()
        case let .unknown(word):
            let names = Array(Set(entries.filter { $0.spec.audience == .customer }.map(\.spec.name))).sorted()
            let close = NameSuggester.closest(to: word, in: names, limit: 2)
            let hint = close.isEmpty ? "" : " Did you mean " + close.map { "\"\($0)\"" }.joined(separator: " or ") + "?"
            return .text("perfbot does not know the command \"\(word.prefix(40))\".\(hint) Write \"help\" for the list.")
        case let .usage(name, message):
            let forms = entries.filter { $0.spec.name == name && $0.spec.audience == .customer }.map { $0.spec.usage }
            return BotReply([.text("\(message)"), .context("Write it as: " + forms.joined(separator: "  or  "))])
        case let .matched(command, plugin):
            guard let plugin else { return customerHelp() }
            var log = logger
            log[metadataKey: "plugin"] = .string(plugin.name)
            log[metadataKey: "command"] = .string("email:" + command.name)
            do {
                return try await plugin.handle(command, context: CommandContext(invoker: .contact(contact), logger: log))
            } catch let error as BotError {
                return .text(error.userMessage.replacingOccurrences(of: "`", with: "\""))
            } catch {
                log.error("e-mail command failed", metadata: ["error": .string(String(describing: error))])
                return .text("Sorry, something went wrong on our side; your hosting team has been told.")
            }
        }
    }

    /// The e-mail commands a store's contact may write.
    public func customerHelp() -> BotReply {
        let lines = entries.filter { $0.spec.audience == .customer }.map { "  • \($0.spec.usage) — \($0.spec.summary)" }
        return BotReply([.header("What you can ask perfbot by e-mail"),
                         .text("Write one command as the first line of your e-mail (or as its subject):\n"
                               + (["  • help — this list"] + lines).joined(separator: "\n")),
                         .context("With several stores, name one: \"status acme-store\". Commands that change something "
                                  + "are confirmed by a reply before anything runs.")])
    }

    /// The help text: every command, or one in detail.
    public func help(_ name: String?, role: Role) -> BotReply {
        if let name = name?.lowercased() {
            let forms = entries.filter { $0.spec.name == name && $0.spec.audience == .team }.map(\.spec)
            guard let first = forms.first else {
                return .text("There is no command `\(name.prefix(40))`. Try `\(prefix) help`.")
            }
            var blocks: [ReplyBlock] = [.header("\(prefix) \(name)"), .text(first.summary)]
            blocks.append(.text(forms.map { "`\(prefix) \($0.usage)`" + roleNote($0.role) }.joined(separator: "\n")))
            let flags = Dictionary(forms.flatMap(\.flags).map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
            if !flags.isEmpty {
                blocks.append(.fields(flags.values.sorted { $0.name < $1.name }.map { ("--\($0.name)", $0.help) }))
            }
            let examples = forms.flatMap(\.examples).map { "`\(prefix) \($0)`" }
            blocks.append(.context("Examples: " + examples.joined(separator: "  ·  ")))
            return BotReply(blocks)
        }
        let lines = entries.filter { $0.spec.audience == .team }.map { entry in
            "`\(prefix) \(entry.spec.usage)`\(roleNote(entry.spec.role)) — \(entry.spec.summary)"
        }
        return BotReply([
            .header("perfbot commands"),
            .text(lines.joined(separator: "\n")),
            .context("You are \(role.withArticle). `\(prefix) help <command>` shows options and examples."),
        ])
    }

    private func roleNote(_ role: Role) -> String {
        role == .viewer ? "" : " _(\(role.rawValue))_"
    }
}
