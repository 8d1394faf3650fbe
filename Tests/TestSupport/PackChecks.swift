import BotCore
import BotPlaybooks
import Foundation

/// What every platform pack's tests check: its rules fire on a breach held past their window (and not at
/// the threshold), its playbooks trigger on its own rules, and the exact argv of each playbook for a sample store.
public enum PackChecks {
    public static let now = Date(timeIntervalSince1970: 1_800_000_000)

    /// One sample a minute for the rule's window and two minutes more, each `value` (the reference of a
    /// `percentOf` rule is 100).
    public static func samples(_ rule: DetectionRule, value: Double) -> [(at: Date, value: Double)] {
        let minutes = Int(rule.window / 60) + 2
        return (0...minutes).reversed().map { (now.addingTimeInterval(TimeInterval(-$0 * 60)), value) }
    }

    /// A value that breaches the rule: past its threshold on every sample, or, for a sum, in one sample.
    public static func fires(_ rule: DetectionRule) -> Bool {
        let breach = rule.comparison == .above ? rule.threshold + 1 : max(0, rule.threshold - 1)
        switch rule.mode {
        case .sumOver:
            var points = samples(rule, value: 0)
            points[points.count - 1].value = breach
            return rule.fires(samples: points, now: now)
        case .percentOf:
            return rule.fires(samples: samples(rule, value: breach), now: now, reference: 100)
        case .sustained:
            return rule.fires(samples: samples(rule, value: breach), now: now)
        }
    }

    /// The same series at the threshold itself: no breach.
    public static func staysQuietAtItsThreshold(_ rule: DetectionRule) -> Bool {
        let points = samples(rule, value: rule.mode == .sumOver ? 0 : rule.threshold)
        return !rule.fires(samples: points, now: now, reference: 100)
    }

    /// Rule names of `pack` that do not fire on a breach, or fire at their threshold (empty when all is well).
    public static func misbehavingRules(of pack: any PlatformPlugin) -> [String] {
        pack.rules.filter { !fires($0) || !staysQuietAtItsThreshold($0) }.map(\.name)
    }

    /// Playbooks of `pack` whose trigger is not one of its rules (`name → rule`).
    public static func foreignTriggers(of pack: any PlatformPlugin, packs: [any PlatformPlugin]) throws -> [String] {
        let names = Set(pack.rules.map(\.name))
        return try playbooks(of: pack, packs: packs).compactMap { playbook in
            if case let .rule(rule) = playbook.trigger, !names.contains(rule) { return "\(playbook.name) → \(rule)" }
            return nil
        }
    }

    /// Every playbook of `pack`'s platform, loaded and validated against every pack's rules.
    public static func playbooks(of pack: any PlatformPlugin, packs: [any PlatformPlugin]) throws -> [Playbook] {
        let roots = [PlaybookLibrary.sharedRoot].compactMap { $0 } + packs.compactMap(\.playbookRoot)
        return try PlaybookLibrary.load(roots: roots, packs: packs).list(pack.platform)
    }

    /// Each playbook's steps with their exact argv for `customer` (docker executor), one line per step.
    public static func argvListing(_ playbooks: [Playbook], pack: any PlatformPlugin, customer: Customer) throws -> String {
        // The hosting company's tools as an operator might configure them, and a change for each hosting playbook.
        let tools = HostCommands(templates: [.provision: ["/opt/hosting/bin/provision", "--store", "{store}", "--plan", "{plan}"],
                                             .caching: ["/opt/hosting/bin/cache", "enable", "{store}", "{cache}"]])
        let planner = JobPlanner(executors: ExecutorFactory(hostCommands: tools), platforms: [pack])
        var lines: [String] = []
        for shipped in playbooks.sorted(by: { $0.name < $1.name }) {
            let playbook = switch shipped.changes {
            case .plan: shipped.making(.plan("enterprise"))
            case .cache: shipped.making(.caching(.redis))
            case nil: shipped
            }
            lines.append("\(playbook.name) (\(playbook.trigger)):")
            for step in try planner.plan(playbook, for: customer, held: [:]) {
                lines.append("  \(step.name): \(step.argv.map { $0.contains(" ") ? "'\($0)'" : $0 }.joined(separator: " "))")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The fixture `name` beside the calling test, as committed: a test never writes the file it compares with. When
    /// a change is meant, the failing test prints the new listing to paste in.
    public static func fixture(_ name: String, file: String = #filePath) -> String? {
        let path = URL(fileURLWithPath: file).deletingLastPathComponent().appendingPathComponent("Fixtures/\(name)").path
        return try? String(contentsOfFile: path, encoding: .utf8)
    }
}
