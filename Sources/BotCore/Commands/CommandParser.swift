import Foundation

/// Why a command line did not match a spec.
public struct CommandParseError: Error, Equatable, Sendable {
    /// What is wrong, in words fit for chat.
    public let message: String
    /// How far the line got before failing; the best-matching form is the one that went furthest.
    let progress: Int
}

/// Matches words against one `CommandSpec`.
public enum CommandParser {
    /// Parses `words` (without the command name) against `spec`.
    public static func parse(_ words: [String], as spec: CommandSpec) -> Result<ParsedCommand, CommandParseError> {
        var flags: [String: String] = [:]
        var positional: [String] = []
        var index = 0
        var restStarted = false
        let restIndex = spec.arguments.firstIndex { $0.kind == .rest }
        while index < words.count {
            let word = words[index]
            // After a free-text argument has begun, everything is text.
            if restStarted || !word.hasPrefix("--") || word == "--" {
                positional.append(word)
                if let restIndex, positional.count > restIndex { restStarted = true }
                index += 1
                continue
            }
            var name = String(word.dropFirst(2))
            var inlineValue: String?
            if let equals = name.firstIndex(of: "=") {
                inlineValue = String(name[name.index(after: equals)...])
                name = String(name[..<equals])
            }
            guard let flag = spec.flags.first(where: { $0.name == name }) else {
                let known = spec.flags.map { "--\($0.name)" }.joined(separator: ", ")
                return .failure(.init(
                    message: "`\(spec.name)` has no option `--\(name)`" + (known.isEmpty ? "." : " (options: \(known))."),
                    progress: positional.count))
            }
            if let allowed = flag.values {
                let value: String
                if let inlineValue {
                    value = inlineValue
                } else if index + 1 < words.count {
                    index += 1
                    value = words[index]
                } else {
                    return .failure(.init(message: "`--\(name)` needs a value.", progress: positional.count))
                }
                if !allowed.isEmpty && !allowed.contains(value.lowercased()) {
                    return .failure(.init(
                        message: "`--\(name)` takes one of \(allowed.joined(separator: ", ")), not `\(value.prefix(40))`.",
                        progress: positional.count))
                }
                flags[name] = allowed.isEmpty ? value : value.lowercased()
            } else {
                if inlineValue != nil {
                    return .failure(.init(message: "`--\(name)` takes no value.", progress: positional.count))
                }
                flags[name] = ""
            }
            index += 1
        }
        return bindPositional(positional, spec: spec).map {
            ParsedCommand(spec: spec, arguments: $0, flags: flags)
        }
    }

    private static func bindPositional(_ words: [String], spec: CommandSpec) -> Result<[String: [String]], CommandParseError> {
        var values: [String: [String]] = [:]
        var cursor = 0
        for (position, argument) in spec.arguments.enumerated() {
            if argument.kind == .rest {
                let text = words[cursor...].joined(separator: " ")
                if text.isEmpty && !argument.isOptional {
                    return .failure(.init(message: "missing <\(argument.name)>.", progress: cursor))
                }
                if !text.isEmpty { values[argument.name] = [text] }
                cursor = words.count
                break
            }
            guard cursor < words.count else {
                if argument.isOptional { continue }
                return .failure(.init(message: "missing \(argument.usage).", progress: cursor))
            }
            if argument.isRepeated {
                var accepted: [String] = []
                for word in words[cursor...] {
                    switch check(word, against: argument) {
                    case let .success(value): accepted.append(value)
                    case let .failure(message):
                        return .failure(.init(message: message, progress: cursor + accepted.count))
                    }
                }
                values[argument.name] = accepted
                cursor = words.count
                continue
            }
            switch check(words[cursor], against: argument) {
            case let .success(value):
                values[argument.name] = [value]
                cursor += 1
            case let .failure(message):
                // An optional argument that does not fit leaves the word to the next argument.
                if argument.isOptional && position < spec.arguments.count - 1 { continue }
                return .failure(.init(message: message, progress: cursor))
            }
        }
        if cursor < words.count {
            return .failure(.init(
                message: "unexpected `\(words[cursor].prefix(40))`.", progress: cursor))
        }
        return .success(values)
    }

    private enum Check { case success(String), failure(String) }

    private static func check(_ word: String, against argument: ArgumentSpec) -> Check {
        let shown = word.prefix(40)
        switch argument.kind {
        case .store:
            let lowered = word.lowercased()
            return StoreID.isValid(lowered) ? .success(lowered)
                : .failure("`\(shown)` is not a store name (lowercase letters, digits and -).")
        case .word:
            let ok = !word.isEmpty && word.count <= 64 && word.unicodeScalars.allSatisfy {
                CharacterSet.alphanumerics.contains($0) || "-_.".unicodeScalars.contains($0)
            }
            return ok ? .success(word) : .failure("`\(shown)` is not a valid <\(argument.name)>.")
        case let .choice(words):
            let lowered = word.lowercased()
            return words.contains(lowered) ? .success(lowered)
                : .failure("<\(argument.name)> is one of \(words.joined(separator: ", ")), not `\(shown)`.")
        case let .keyword(keyword):
            return word.lowercased() == keyword ? .success(keyword) : .failure("expected `\(keyword)`, got `\(shown)`.")
        case let .integer(range):
            guard let number = Int(word), range.contains(number) else {
                return .failure("<\(argument.name)> is a number from \(range.lowerBound) to \(range.upperBound), not `\(shown)`.")
            }
            return .success(String(number))
        case .duration:
            return BotDuration(word) != nil ? .success(word.lowercased())
                : .failure("`\(shown)` is not a duration (like 30m, 2h or 1d).")
        case .rest:
            return .success(word)
        }
    }
}

/// A length of time written as `45s`, `30m`, `2h`, `1d` or `1w`.
public struct BotDuration: Sendable, Equatable {
    public let seconds: TimeInterval

    /// Parses `text`; nil when it is not a positive duration of at most 90 days.
    public init?(_ text: String) {
        let lowered = text.lowercased()
        guard let unit = lowered.last, let amount = Int(lowered.dropLast()), amount > 0 else { return nil }
        let scale: TimeInterval
        switch unit {
        case "s": scale = 1
        case "m": scale = 60
        case "h": scale = 3600
        case "d": scale = 86400
        case "w": scale = 604_800
        default: return nil
        }
        let total = TimeInterval(amount) * scale
        guard total <= 90 * 86400 else { return nil }
        seconds = total
    }
}
