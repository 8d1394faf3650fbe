import BotCore
import Foundation
import Yams

/// Per-plan and per-customer overrides of detection thresholds (`Playbooks/thresholds.yaml`):
///
/// ```yaml
/// plans:
///   basic:
///     high_cpu: {threshold: 95}
/// customers:
///   acme-store:
///     high_memory: {threshold: 90, for: 10m}
/// ```
/// A customer's override wins over its plan's; anything not overridden keeps the plugin's value.
public struct RuleThresholds: Sendable, Equatable {
    /// One override: a new threshold and/or window.
    public struct Override: Sendable, Equatable {
        public var threshold: Double?
        public var window: TimeInterval?
    }

    public var plans: [String: [String: Override]]
    public var customers: [String: [String: Override]]

    public init(plans: [String: [String: Override]] = [:], customers: [String: [String: Override]] = [:]) {
        self.plans = plans
        self.customers = customers
    }

    /// `rules` with the overrides that apply to `customer`.
    public func rules(_ rules: [DetectionRule], for customer: Customer) -> [DetectionRule] {
        let plan = plans[customer.plan.rawValue], own = customers[customer.id.rawValue]
        // Most stores have no override: the rules as they are, shared rather than copied (every cycle asks for each).
        guard plan != nil || own != nil else { return rules }
        return rules.map { rule in
            var adjusted = rule
            for override in [plan?[rule.name], own?[rule.name]] {
                if let threshold = override?.threshold { adjusted.threshold = threshold }
                if let window = override?.window { adjusted.window = window }
            }
            return adjusted
        }
    }

    /// Reads the overrides in `file`; a missing file means none.
    /// - Parameter rules: the rules that may be overridden, to check names and ranges.
    public static func load(file: String, rules: [DetectionRule]) throws(PlaybookErrors) -> RuleThresholds {
        guard let data = FileManager.default.contents(atPath: file) else { return RuleThresholds() }
        var problems: [PlaybookProblem] = []
        func problem(_ node: Node?, _ message: String) {
            problems.append(PlaybookProblem(file: file, line: node?.mark?.line ?? 1, column: node?.mark?.column ?? 1,
                                            message: message))
        }
        let root: Node?
        do { root = try Yams.compose(yaml: String(decoding: data, as: UTF8.self)) } catch {
            throw PlaybookErrors([PlaybookProblem(file: file, line: 1, column: 1, message: "not valid YAML")])
        }
        let byName = Dictionary(rules.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        var result = RuleThresholds()
        for (sectionKey, section) in root?.mapping ?? [:] {
            guard let sectionName = sectionKey.string, sectionName == "plans" || sectionName == "customers" else {
                problem(sectionKey, "unknown key '\(sectionKey.string ?? "")' (known: customers, plans)")
                continue
            }
            for (scopeKey, scope) in section.mapping ?? [:] {
                let scopeName = scopeKey.string ?? ""
                if sectionName == "customers" && !StoreID.isValid(scopeName) {
                    problem(scopeKey, "'\(scopeName)' is not a store name")
                }
                var overrides: [String: Override] = [:]
                for (ruleKey, values) in scope.mapping ?? [:] {
                    guard let name = ruleKey.string, let rule = byName[name] else {
                        problem(ruleKey, "unknown rule '\(ruleKey.string ?? "")'")
                        continue
                    }
                    var override = Override()
                    for (field, value) in values.mapping ?? [:] {
                        switch field.string {
                        case "threshold":
                            guard let number = value.string.flatMap(Double.init), number >= 0,
                                  !rule.metric.isPercent || number <= 100 else {
                                problem(value, "threshold of \(name) must be a number\(rule.metric.isPercent ? " from 0 to 100" : " ≥ 0")")
                                continue
                            }
                            override.threshold = number
                        case "for":
                            guard let duration = value.string.flatMap(BotDuration.init) else {
                                problem(value, "for must be a duration such as 5m")
                                continue
                            }
                            override.window = duration.seconds
                        default:
                            problem(field, "unknown key '\(field.string ?? "")' (known: for, threshold)")
                        }
                    }
                    overrides[name] = override
                }
                if sectionName == "plans" { result.plans[scopeName] = overrides } else { result.customers[scopeName] = overrides }
            }
        }
        guard problems.isEmpty else { throw PlaybookErrors(problems) }
        return result
    }
}
