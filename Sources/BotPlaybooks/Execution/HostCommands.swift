import BotCore
import Foundation

/// The hosting company's own tools that interventions call on perfbot's host (ORIGINAL-DESIGN §3.4): each an argv
/// template an operator configured (`PERFBOT_PROVISION_COMMAND`, `PERFBOT_CACHING_COMMAND`), run by the local
/// executor with a scrubbed environment, never through a shell.
public struct HostCommands: Sendable, Equatable {
    /// The configurable commands, by the name a playbook step gives in `configured:`.
    public enum Name: String, Sendable, CaseIterable {
        /// Moves a store to another plan: `{store}` and `{plan}`.
        case provision
        /// Gives a store Redis or Varnish of its own: `{store}` and `{cache}`.
        case caching

        /// The setting that configures it.
        public var variable: String {
            switch self {
            case .provision: "PERFBOT_PROVISION_COMMAND"
            case .caching: "PERFBOT_CACHING_COMMAND"
            }
        }

        /// The placeholders its argv must carry, so the tool knows what to change.
        public var required: [TemplateVariable] {
            switch self {
            case .provision: [.store, .plan]
            case .caching: [.store, .cache]
            }
        }
    }

    public private(set) var templates: [Name: [String]]

    public static let none = HostCommands(templates: [:])

    public init(templates: [Name: [String]]) { self.templates = templates }

    /// The placeholders a configured command may use: the store's identity and the change's value.
    public static let allowed: Set<TemplateVariable> = [.store, .plan, .cache, .container, .host]

    /// Reads one command: a JSON array of strings, or words separated by spaces (no quoting, no shell). The program
    /// is an absolute path and never a variable; placeholders are `{store}`, `{plan}`, `{cache}`, `{container}` and
    /// `{host}`, and the command carries those its change needs. - Returns: the argv template, or why not.
    public static func parse(_ text: String, for name: Name) -> Result<[String], BotError> {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        let argv: [String]
        if trimmed.hasPrefix("[") {
            guard let list = try? JSONDecoder().decode([String].self, from: Data(trimmed.utf8)) else {
                return .failure(.invalid("not a JSON array of strings"))
            }
            argv = list
        } else {
            argv = trimmed.split(whereSeparator: \.isWhitespace).map(String.init)
        }
        guard let program = argv.first, program.hasPrefix("/"), !program.contains("{") else {
            return .failure(.invalid("the first word must be the program's absolute path"))
        }
        guard argv.count <= 32, argv.allSatisfy({ $0.utf8.count <= 255 && !$0.contains("\n") && !$0.contains("\0") }) else {
            return .failure(.invalid("at most 32 words, each one line of at most 255 bytes"))
        }
        var used = Set<TemplateVariable>()
        for element in argv {
            guard let names = ArgvTemplate.placeholders(in: element) else {
                return .failure(.invalid("unbalanced braces in `\(element.prefix(40))`"))
            }
            for placeholder in names {
                guard let variable = TemplateVariable(rawValue: placeholder), allowed.contains(variable) else {
                    return .failure(.invalid("unknown placeholder {\(placeholder.prefix(30))}; it may use "
                        + allowed.map { "{\($0.rawValue)}" }.sorted().joined(separator: ", ")))
                }
                used.insert(variable)
            }
        }
        let missing = name.required.filter { !used.contains($0) }
        guard missing.isEmpty else {
            return .failure(.invalid("the command must carry " + missing.map { "{\($0.rawValue)}" }.joined(separator: " and ")))
        }
        return .success(argv)
    }
}
