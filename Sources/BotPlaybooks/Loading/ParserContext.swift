import BotCore
import Foundation
import Yams

extension PlaybookParser {
    /// Collects problems with their positions while a file is read.
    struct Context {
        let file: String
        var problems: [PlaybookProblem] = []

        init(file: String) { self.file = file }

        mutating func problem(at node: Node?, _ message: String) {
            problems.append(PlaybookProblem(file: file, line: node?.mark?.line ?? 1, column: node?.mark?.column ?? 1,
                                            message: message))
        }

        mutating func checkKeys(_ mapping: Node.Mapping, allowed: Set<String>, what: String) {
            for (key, _) in mapping {
                let name = key.string ?? ""
                if !allowed.contains(name) {
                    problem(at: key, "unknown key '\(name)' in \(what) (known: \(allowed.sorted().joined(separator: ", ")))")
                }
            }
        }

        mutating func requiredString(_ mapping: Node.Mapping, _ key: String, in parent: Node) -> (value: String, node: Node)? {
            guard let node = mapping[key] else {
                problem(at: parent, "missing '\(key)'")
                return nil
            }
            guard let text = node.scalar?.string, !text.isEmpty else {
                problem(at: node, "\(key) must be a text")
                return nil
            }
            return (text, node)
        }

        mutating func optionalString(_ mapping: Node.Mapping, _ key: String) -> (value: String, node: Node)? {
            guard let node = mapping[key] else { return nil }
            guard let text = node.scalar?.string, !text.isEmpty else {
                problem(at: node, "\(key) must be a text")
                return nil
            }
            return (text, node)
        }

        mutating func requiredBool(_ mapping: Node.Mapping, _ key: String, in parent: Node) -> Bool? {
            guard mapping[key] != nil else {
                problem(at: parent, "missing '\(key)' (true or false)")
                return nil
            }
            return optionalBool(mapping, key)
        }

        mutating func optionalBool(_ mapping: Node.Mapping, _ key: String) -> Bool? {
            guard let node = mapping[key] else { return nil }
            switch node.scalar?.string {
            case "true": return true
            case "false": return false
            default:
                problem(at: node, "\(key) must be true or false")
                return nil
            }
        }

        mutating func optionalDuration(_ mapping: Node.Mapping, _ key: String, max: TimeInterval) -> TimeInterval? {
            guard let node = mapping[key] else { return nil }
            guard let text = node.scalar?.string, let duration = BotDuration(text) else {
                problem(at: node, "\(key) must be a duration such as 30s, 2m or 1h")
                return nil
            }
            guard duration.seconds <= max else {
                problem(at: node, "\(key) is at most \(Int(max / 60)) minutes")
                return nil
            }
            return duration.seconds
        }
    }
}
