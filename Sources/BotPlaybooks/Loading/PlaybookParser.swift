import BotCore
import Foundation
import Yams

/// One problem in a playbook file, where it is.
public struct PlaybookProblem: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int
    public var message: String

    public var description: String { "\(file):\(line):\(column): \(message)" }

    public init(file: String, line: Int, column: Int, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.message = message
    }
}

/// Reads one playbook file and checks everything about it that can be checked before a run.
public struct PlaybookParser: Sendable {
    static let topKeys: Set<String> = ["name", "title", "platform", "trigger", "actions", "notifications", "premium_only",
                                           "intervention", "changes", "checklist"]
    static let actionKeys: Set<String> = ["name", "run", "configured", "target", "when", "wait", "timeout", "tags", "reversible",
                                          "safe", "only"]
    static let notificationKeys: Set<String> = ["dashboard", "email", "slack"]
    /// Programs that would interpret a string as code; a playbook never runs them.
    static let interpreters: Set<String> = ["sh", "bash", "dash", "zsh", "ksh", "csh", "tcsh", "fish", "busybox",
                                            "eval", "env", "xargs", "su", "sudo", "python", "python3", "perl", "php"]
    static let maxWait: TimeInterval = 1800
    static let maxTimeout: TimeInterval = 3600

    /// Detection rule names a trigger may name (besides `manual`).
    public var knownRules: Set<String>
    /// The metrics a `when:` may name: the core's and the platform's own.
    public var metrics: MetricCatalogue

    public init(knownRules: Set<String>, metrics: MetricCatalogue = .core) {
        self.knownRules = knownRules
        self.metrics = metrics
    }

    /// Parses `text` from `file`; the playbook, or every problem found.
    /// - Parameter shared: a shared playbook (`Playbooks/shared/`), read for the platform `expected`: it names no
    ///   platform, `{platform}` in its title is the platform's name, and steps marked `only: <platform>` are kept for
    ///   that platform alone. - Returns: nil in `success` when no step is left for the platform.
    public func parse(_ text: String, file: String, platform expected: Platform? = nil, shared: Bool = false) -> Result<Playbook, PlaybookErrors> {
        var context = Context(file: file)
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            let mark = Self.mark(of: error)
            return .failure(PlaybookErrors([PlaybookProblem(file: file, line: mark.line, column: mark.column,
                                                            message: "not valid YAML: \(Self.reason(of: error))")]))
        } catch {
            return .failure(PlaybookErrors([PlaybookProblem(file: file, line: 1, column: 1, message: "not valid YAML")]))
        }
        guard let root, let mapping = root.mapping else {
            context.problem(at: root, "a playbook is a mapping with name, title, platform, trigger and actions")
            return .failure(PlaybookErrors(context.problems))
        }
        context.checkKeys(mapping, allowed: Self.topKeys, what: "playbook")
        let name = context.requiredString(mapping, "name", in: root)
        if let name, !Self.isName(name.value) {
            context.problem(at: name.node, "name must be lowercase letters, digits and _")
        }
        let title = context.requiredString(mapping, "title", in: root)
        var platform: Platform?
        if shared {
            platform = expected
            if let text = context.optionalString(mapping, "platform") {
                context.problem(at: text.node, "a shared playbook names no platform; mark a platform's own steps with only:")
            }
        } else if let text = context.requiredString(mapping, "platform", in: root) {
            platform = Platform(rawValue: text.value).map { found in expected.map { found.named(among: [$0]) } ?? found }
            if platform == nil {
                context.problem(at: text.node, "platform must be a platform pack's name (lowercase letters, digits, _ and -)")
            } else if let expected, platform != expected {
                context.problem(at: text.node, "platform \(text.value) does not match its folder (\(expected.rawValue))")
            }
        }
        var trigger = PlaybookTrigger.manual
        if let text = context.requiredString(mapping, "trigger", in: root) {
            if text.value == "manual" {
                trigger = .manual
            } else if knownRules.contains(text.value) {
                trigger = .rule(text.value)
            } else {
                context.problem(at: text.node, "unknown trigger '\(text.value)' (a detection rule name or manual)")
            }
        }
        let premiumOnly = context.optionalBool(mapping, "premium_only") ?? false
        var intervention: Intervention?
        if let node = mapping["intervention"] {
            if let fields = node.mapping {
                context.checkKeys(fields, allowed: ["mfa", "two_person"], what: "intervention")
                intervention = Intervention(mfa: context.optionalBool(fields, "mfa") ?? true,
                                            twoPerson: context.optionalBool(fields, "two_person") ?? false)
            } else {
                context.problem(at: node, "intervention must be a mapping of mfa and two_person")
            }
        }
        var changes: HostingChange.Subject?
        if let text = context.optionalString(mapping, "changes") {
            changes = HostingChange.Subject(rawValue: text.value)
            if changes == nil {
                context.problem(at: text.node, "changes must be one of "
                    + HostingChange.Subject.allCases.map(\.rawValue).joined(separator: ", "))
            } else if intervention == nil {
                context.problem(at: text.node, "only an intervention carries a change of the store's hosting")
            }
        }
        var checklist: [String] = []
        if let node = mapping["checklist"] {
            if let items = node.sequence, items.allSatisfy({ $0.scalar != nil }), !items.isEmpty {
                checklist = items.compactMap { $0.scalar?.string }
            } else {
                context.problem(at: node, "checklist must be a list of sentences")
            }
        }
        let notifications = parseNotifications(mapping["notifications"], &context)
        var actions: [PlaybookAction] = []
        if let list = mapping["actions"] {
            if let items = list.sequence, !items.isEmpty {
                for item in items {
                    // `only: <platform>`: a step of one platform in a shared playbook.
                    if let only = item.mapping.flatMap({ context.optionalString($0, "only") }) {
                        if !shared { context.problem(at: only.node, "only: is for shared playbooks") }
                        if Platform(rawValue: only.value) == nil { context.problem(at: only.node, "only: names a platform pack") }
                        if only.value != expected?.rawValue { _ = parseAction(item, &context); continue }
                    }
                    guard let action = parseAction(item, &context) else { continue }
                    if let tool = action.hostCommand, let node = item.mapping?["configured"] {
                        // The hosting company's tools run only for an admin's intervention that carries their change.
                        let needs: HostingChange.Subject = tool == .provision ? .plan : .cache
                        if intervention == nil {
                            context.problem(at: node, "a configured tool runs on perfbot's host: only an intervention may run one")
                        } else if changes != needs {
                            context.problem(at: node, "the \(tool.rawValue) tool needs the playbook to say `changes: \(needs.rawValue)`")
                        }
                    }
                    actions.append(action)
                }
            } else {
                context.problem(at: list, "actions must be a non-empty list")
            }
        } else {
            context.problem(at: root, "missing 'actions'")
        }
        guard context.problems.isEmpty, let name, let title, let platform else {
            return .failure(PlaybookErrors(context.problems))
        }
        let shownTitle = title.value.replacingOccurrences(of: "{platform}", with: platform.displayName)
        var playbook = Playbook(name: name.value, title: shownTitle, platform: platform, trigger: trigger,
                                actions: actions, notifications: notifications, premiumOnly: premiumOnly, file: file)
        playbook.intervention = intervention
        playbook.changes = changes
        playbook.checklist = checklist
        return .success(playbook)
    }

    func parseNotifications(_ node: Node?, _ context: inout Context) -> PlaybookNotifications {
        guard let node else { return PlaybookNotifications() }
        guard let mapping = node.mapping else {
            context.problem(at: node, "notifications must be a mapping of dashboard, email and slack")
            return PlaybookNotifications()
        }
        context.checkKeys(mapping, allowed: Self.notificationKeys, what: "notifications")
        let email = context.optionalString(mapping, "email")
        let mail = email.flatMap { AutomaticFixMail(rawValue: $0.value) }
        if let email, mail == nil {
            context.problem(at: email.node, "email must name a customer template: "
                + AutomaticFixMail.allCases.map(\.rawValue).sorted().joined(separator: ", "))
        }
        return PlaybookNotifications(dashboard: context.optionalString(mapping, "dashboard")?.value, email: mail,
                                     slack: context.optionalBool(mapping, "slack") ?? true)
    }

    func parseAction(_ node: Node, _ context: inout Context) -> PlaybookAction? {
        guard let mapping = node.mapping else {
            context.problem(at: node, "each action is a mapping with name, run, reversible and safe")
            return nil
        }
        let before = context.problems.count
        context.checkKeys(mapping, allowed: Self.actionKeys, what: "action")
        let name = context.requiredString(mapping, "name", in: node)
        var run: [String]?
        var hostCommand: HostCommands.Name?
        if let text = context.optionalString(mapping, "configured") {
            // One of the hosting company's tools, configured by the operator, run on perfbot's host.
            hostCommand = HostCommands.Name(rawValue: text.value)
            if hostCommand == nil {
                context.problem(at: text.node, "configured must name one of "
                    + HostCommands.Name.allCases.map(\.rawValue).joined(separator: ", "))
            }
            if let extra = mapping["run"] { context.problem(at: extra, "a step has run or configured, not both") }
            run = []
        } else {
            run = parseRun(mapping["run"], in: node, &context)
        }
        var target = TargetRole.app
        if let text = context.optionalString(mapping, "target") {
            if let role = TargetRole(rawValue: text.value) { target = role } else {
                context.problem(at: text.node, "target must be one of \(TargetRole.allCases.map(\.rawValue).joined(separator: ", "))")
            }
        }
        let when = context.optionalString(mapping, "when").flatMap { parseCondition($0.value, at: $0.node, &context) }
        let wait = context.optionalDuration(mapping, "wait", max: Self.maxWait) ?? 0
        let timeout = context.optionalDuration(mapping, "timeout", max: Self.maxTimeout) ?? 60
        var tags = Set<ActionTag>()
        if let list = mapping["tags"] {
            if let items = list.sequence {
                for item in items {
                    if let tag = item.string.flatMap(ActionTag.init(rawValue:)) { tags.insert(tag) } else {
                        context.problem(at: item, "unknown tag '\(item.string ?? "")' (known: \(ActionTag.allCases.map(\.rawValue).joined(separator: ", ")))")
                    }
                }
            } else {
                context.problem(at: list, "tags must be a list")
            }
        }
        let reversible = context.requiredBool(mapping, "reversible", in: node)
        let safe = context.requiredBool(mapping, "safe", in: node)
        if tags.contains(.readOnly) && tags.count > 1 {
            context.problem(at: mapping["tags"] ?? node, "read_only cannot be combined with tags that change things")
        }
        guard context.problems.count == before, let name, let run, let reversible, let safe else { return nil }
        return PlaybookAction(name: name.value, run: run, target: target, when: when, wait: wait, timeout: timeout,
                              tags: tags, reversible: reversible, safe: safe, hostCommand: hostCommand)
    }

    func parseRun(_ node: Node?, in parent: Node, _ context: inout Context) -> [String]? {
        guard let node else {
            context.problem(at: parent, "missing 'run'")
            return nil
        }
        guard let items = node.sequence, !items.isEmpty else {
            context.problem(at: node, "run must be an argv list such as [wp, cache, flush], never a shell string")
            return nil
        }
        var argv: [String] = []
        for (index, item) in items.enumerated() {
            guard let element = item.scalar?.string else {
                context.problem(at: item, "each argv element is a single string")
                return nil
            }
            guard !element.contains("\n"), !element.contains("\0") else {
                context.problem(at: item, "an argv element cannot contain a newline")
                return nil
            }
            guard let placeholders = ArgvTemplate.placeholders(in: element) else {
                context.problem(at: item, "unbalanced braces in '\(element)'")
                return nil
            }
            for placeholder in placeholders where TemplateVariable(rawValue: placeholder) == nil {
                context.problem(at: item, "unknown variable {\(placeholder)} (known: \(TemplateVariable.allCases.map { "{\($0.rawValue)}" }.joined(separator: ", ")))")
            }
            if index == 0 {
                let program = (element as NSString).lastPathComponent
                if !placeholders.isEmpty || element.isEmpty || element.contains(" ") {
                    context.problem(at: item, "the program must be written out, not a variable")
                } else if Self.interpreters.contains(program) {
                    context.problem(at: item, "'\(program)' interprets strings as code; playbooks run programs directly")
                }
            }
            argv.append(element)
        }
        return argv
    }

    func parseCondition(_ text: String, at node: Node, _ context: inout Context) -> MetricCondition? {
        let parts = text.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        guard parts.count == 3, let op = MetricCondition.Operator(rawValue: parts[1]), let threshold = Double(parts[2]) else {
            context.problem(at: node, "when must read '<metric> <op> <number>', e.g. memory_percent > 85")
            return nil
        }
        guard let metric = metrics.metric(named: parts[0]) else {
            context.problem(at: node, "unknown metric '\(parts[0])'")
            return nil
        }
        let condition = MetricCondition(metric: metric, op: op, threshold: threshold)
        let low = 0.0, high = metric.isPercent ? 100.0 : Double.infinity
        let impossible = switch op {
        case .above: threshold >= high
        case .atLeast: threshold > high
        case .below: threshold <= low
        case .atMost: threshold < low
        }
        if impossible {
            context.problem(at: node, "'\(text)' can never hold (\(metric.rawValue) is \(metric.isPercent ? "0–100" : "never negative"))")
            return nil
        }
        return condition
    }

    static func isName(_ text: String) -> Bool {
        (1...64).contains(text.count) && text.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_"
        }
    }

    static func mark(of error: YamlError) -> (line: Int, column: Int) {
        switch error {
        case let .scanner(_, _, mark, _), let .parser(_, _, mark, _), let .composer(_, _, mark, _):
            (mark.line, mark.column)
        default: (1, 1)
        }
    }

    static func reason(of error: YamlError) -> String {
        switch error {
        case let .scanner(_, problem, _, _), let .parser(_, problem, _, _), let .composer(_, problem, _, _): problem
        default: "unreadable"
        }
    }
}

/// Every problem of one or more playbook files.
public struct PlaybookErrors: Error, Sendable, CustomStringConvertible {
    public var problems: [PlaybookProblem]
    public init(_ problems: [PlaybookProblem]) { self.problems = problems }
    public var description: String { problems.map(\.description).joined(separator: "\n") }
}
