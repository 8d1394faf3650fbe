import BotCore
import Foundation

/// Where an action runs, within the customer's hosting.
public enum TargetRole: String, Sendable, CaseIterable {
    case app, db, cache, web, varnish
}

/// A comparison on a current metric (`memory_percent > 85`).
public struct MetricCondition: Sendable, Equatable, CustomStringConvertible {
    public enum Operator: String, Sendable, CaseIterable {
        case above = ">", below = "<", atLeast = ">=", atMost = "<="
    }

    public var metric: MetricName
    public var op: Operator
    public var threshold: Double

    public init(metric: MetricName, op: Operator, threshold: Double) {
        self.metric = metric
        self.op = op
        self.threshold = threshold
    }

    /// Whether `value` satisfies the condition.
    public func holds(for value: Double) -> Bool {
        switch op {
        case .above: value > threshold
        case .below: value < threshold
        case .atLeast: value >= threshold
        case .atMost: value <= threshold
        }
    }

    public var description: String { "\(metric.rawValue) \(op.rawValue) \(Wording.number(threshold))" }
}

/// One step of a playbook: an argv template and what it may do.
public struct PlaybookAction: Sendable, Equatable {
    public var name: String
    /// The command as argv; elements may hold `{variable}` placeholders, never a shell.
    public var run: [String]
    public var target: TargetRole
    /// Run only when this holds on the current metrics (after `wait`).
    public var when: MetricCondition?
    /// Wait this long before checking `when` (letting earlier steps take effect).
    public var wait: TimeInterval
    public var timeout: TimeInterval
    public var tags: Set<ActionTag>
    public var reversible: Bool
    public var safe: Bool
    /// Set for a step that runs one of the hosting company's own tools on perfbot's host (`configured:`), whose
    /// argv the operator configured; `run` is then empty.
    public var hostCommand: HostCommands.Name?

    public init(name: String, run: [String], target: TargetRole = .app, when: MetricCondition? = nil,
                wait: TimeInterval = 0, timeout: TimeInterval = 60, tags: Set<ActionTag> = [],
                reversible: Bool, safe: Bool, hostCommand: HostCommands.Name? = nil) {
        self.hostCommand = hostCommand
        self.name = name
        self.run = run
        self.target = target
        self.when = when
        self.wait = wait
        self.timeout = timeout
        self.tags = tags
        self.reversible = reversible
        self.safe = safe
    }

    /// Safe or reversible: what level 2 may run without asking.
    public var isLowRisk: Bool { safe || reversible }

    /// What a store owner would notice, in words (`deletes files the store no longer needs; cannot be undone`).
    public var plainEffect: String {
        let changes = tags.sorted().filter { $0 != .readOnly }
        if changes.isEmpty { return tags.contains(.readOnly) ? ActionTag.readOnly.consequence : "changes nothing visible" }
        // Caches refill and services come back by themselves; only lost files and settings need undoing.
        let lasting = !reversible && changes.contains { $0 == .deleteFiles || $0 == .rewrite }
        return changes.map(\.consequence).joined(separator: "; ") + (lasting ? "; cannot be undone" : "")
    }

    /// What the automation policy needs to know about it.
    public var traits: ActionTraits { ActionTraits(name: name, safe: safe, reversible: reversible, tags: tags) }
}

/// What a playbook triggers on.
public enum PlaybookTrigger: Sendable, Equatable, CustomStringConvertible {
    /// A detection rule's name (`high_memory`).
    case rule(String)
    /// Run only when someone asks.
    case manual

    public var description: String {
        switch self {
        case let .rule(name): name
        case .manual: "manual"
        }
    }
}

/// Who hears about a run.
public struct PlaybookNotifications: Sendable, Equatable {
    /// The line shown in the insights feed.
    public var dashboard: String?
    /// The e-mail sent to the customer after an automatic run.
    public var email: AutomaticFixMail?
    /// Whether the admins' Slack channel is told.
    public var slack: Bool

    public init(dashboard: String? = nil, email: AutomaticFixMail? = nil, slack: Bool = true) {
        self.dashboard = dashboard
        self.email = email
        self.slack = slack
    }
}

/// How an intervention playbook is guarded.
public struct Intervention: Sendable, Equatable {
    /// Whether the admin confirms it with a second-factor code (every destructive one does).
    public var mfa: Bool
    /// Whether a second admin must approve it before it runs.
    public var twoPerson: Bool

    public init(mfa: Bool = true, twoPerson: Bool = false) {
        self.mfa = mfa
        self.twoPerson = twoPerson
    }
}

/// A named, ordered list of actions for one platform: pure data, loaded from YAML.
public struct Playbook: Sendable, Equatable {
    public var name: String
    public var title: String
    public var platform: Platform
    public var trigger: PlaybookTrigger
    public var actions: [PlaybookAction]
    public var notifications: PlaybookNotifications
    /// Only for plans other than basic (ORIGINAL-DESIGN §1.4–1.6).
    public var premiumOnly: Bool
    /// The file it came from, for messages.
    public var file: String
    /// The database change it was built from, for the playbooks perfbot builds itself.
    public var databaseChange: DatabaseChange?
    /// Set for the admins' interventions (ORIGINAL-DESIGN §3.4): run only through `/perf intervene`, with a reason.
    public var intervention: Intervention?
    /// What an intervention that changes the store's hosting carries (`changes: plan`): `/perf intervene` asks for it.
    public var changes: HostingChange.Subject?
    /// What the admin checks before an intervention runs, shown above its plan.
    public var checklist: [String] = []
    /// The change it was made for, once `/perf intervene` gave the value (`{plan}`, `{cache}` in its steps).
    public var hostingChange: HostingChange?
    /// The service setting it changes, for the playbooks perfbot builds from a `TuningChange`.
    public var tuningChange: TuningChange?
    /// The operation it does, for the playbooks perfbot builds from a `ServiceOperation`.
    public var serviceOperation: ServiceOperation?

    /// What a job of it does.
    public var kind: JobKind {
        if let tuningChange { return .tuning(tuningChange) }
        if let serviceOperation { return .operation(serviceOperation) }
        if let hostingChange { return .hosting(hostingChange) }
        return databaseChange.map(JobKind.database) ?? .playbook(name)
    }

    /// This playbook made for `target`: its steps' `{plan}` or `{cache}` take the value, and its job records the change.
    public func making(_ target: HostingChange.Target) -> Playbook {
        var made = self
        made.hostingChange = HostingChange(playbook: name, target: target)
        return made
    }

    public init(name: String, title: String, platform: Platform, trigger: PlaybookTrigger, actions: [PlaybookAction],
                notifications: PlaybookNotifications = .init(), premiumOnly: Bool = false, file: String = "") {
        self.name = name
        self.title = title
        self.platform = platform
        self.trigger = trigger
        self.actions = actions
        self.notifications = notifications
        self.premiumOnly = premiumOnly
        self.file = file
    }

    /// Risky when some action is neither safe nor reversible: running it by hand needs the admin role.
    public var isRisky: Bool { actions.contains { !$0.isLowRisk } }

    /// Every tag of every action.
    public var tags: Set<ActionTag> { actions.reduce(into: []) { $0.formUnion($1.tags) } }

    /// `safe`, `reversible`, or `risky`, for listings.
    public var safetyLabel: String {
        if actions.allSatisfy(\.safe) { return "safe" }
        if actions.allSatisfy(\.isLowRisk) { return "safe or reversible" }
        return "risky"
    }
}
