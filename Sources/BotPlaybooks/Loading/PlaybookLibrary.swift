import BotCore
import Foundation

/// Every playbook under a directory (`Playbooks/<platform>/*.yaml`), checked as a whole.
public struct PlaybookLibrary: Sendable {
    public let playbooks: [Playbook]
    /// Each platform's service settings and their guardrails, from its pack.
    public var tuning: [Platform: TuningCatalogue] = [:]

    public init(_ playbooks: [Playbook]) {
        self.playbooks = playbooks.sorted { ($0.platform, $0.name) < ($1.platform, $1.name) }
    }

    /// The settings of `platform`'s services perfbot can change.
    public func tuning(for platform: Platform) -> TuningCatalogue { tuning[platform] ?? .empty }

    /// The shared playbooks perfbot ships (a package resource: `shared/*.yaml`).
    public static var sharedRoot: String? { Bundle.module.path(forResource: "Playbooks", ofType: nil) }

    /// Loads and checks every playbook of each platform folder in `directory` (and its `shared/`).
    /// - Parameters:
    ///   - knownRules: per platform, the rule names a trigger may name.
    ///   - metrics: per platform, the metrics a step's `when:` may name (the core's alone where none is given).
    /// - Throws: `PlaybookErrors` with every problem of every file.
    public static func load(directory: String, knownRules: [Platform: Set<String>],
                            folders: [Platform: [String]] = [:],
                            metrics: [Platform: MetricCatalogue] = [:]) throws(PlaybookErrors) -> PlaybookLibrary {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw PlaybookErrors([PlaybookProblem(file: directory, line: 1, column: 1, message: "no such directory")])
        }
        return try load(roots: [directory], knownRules: knownRules, folders: folders, metrics: metrics)
    }

    /// Loads layers of playbooks: each root holds `<platform>/` folders and `shared/`; a later root's playbook
    /// replaces an earlier one of the same name (the packs' own, then an operator's directory), and a platform's
    /// own playbook replaces a shared one. Every file of every layer is checked.
    public static func load(roots: [String], knownRules: [Platform: Set<String>],
                            folders: [Platform: [String]] = [:],
                            metrics: [Platform: MetricCatalogue] = [:]) throws(PlaybookErrors) -> PlaybookLibrary {
        let files = FileManager.default
        var playbooks: [Playbook] = []
        var problems: [PlaybookProblem] = []
        // The platforms are the packs' (the keys of `knownRules`): none is listed here.
        for platform in knownRules.keys.sorted() {
            let parser = PlaybookParser(knownRules: knownRules[platform] ?? [], metrics: metrics[platform] ?? .core)
            // Lowest priority first: the layers' shared playbooks, then the layers' own.
            var layers: [(folder: String, shared: Bool)] = roots.map { (($0 as NSString).appendingPathComponent("shared"), true) }
            for root in roots {
                for folder in folders[platform] ?? [platform.rawValue] {
                    layers.append(((root as NSString).appendingPathComponent(folder), false))
                }
            }
            var chosen: [String: Playbook] = [:]
            for (folder, shared) in layers {
                let names = ((try? files.contentsOfDirectory(atPath: folder)) ?? [])
                    .filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted()
                var seen: [String: String] = [:]
                for name in names {
                    let path = (folder as NSString).appendingPathComponent(name)
                    guard let data = files.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
                        problems.append(PlaybookProblem(file: path, line: 1, column: 1, message: "cannot read the file as UTF-8"))
                        continue
                    }
                    switch parser.parse(text, file: path, platform: platform, shared: shared) {
                    case let .success(playbook):
                        if let other = seen[playbook.name] {
                            problems.append(PlaybookProblem(file: path, line: 1, column: 1,
                                                            message: "playbook name '\(playbook.name)' is already used by \(other)"))
                        } else {
                            seen[playbook.name] = path
                            // A shared playbook with no step for this platform leaves what was there.
                            if !playbook.actions.isEmpty { chosen[playbook.name] = playbook }
                        }
                    case let .failure(errors):
                        // A shared playbook's problem is the same for every platform: reported once.
                        if !shared || platform == knownRules.keys.sorted().first { problems += errors.problems }
                    }
                }
            }
            playbooks += chosen.values
        }
        guard problems.isEmpty else { throw PlaybookErrors(problems) }
        return PlaybookLibrary(playbooks)
    }

    /// The playbook `name` for `platform`.
    /// Database changes perfbot builds (`db:…`) resolve here too, so they plan, approve and run like the rest.
    public func playbook(_ name: String, for platform: Platform) -> Playbook? {
        if let change = DatabaseChange(name: name) { return change.playbook(for: platform) }
        return playbooks.first { $0.name == name && $0.platform == platform }
    }

    /// What a job of `kind` runs on `platform`: its playbook, or the one-step playbook of a database change; nil for a
    /// setting (perfbot applies those itself) or a playbook that no longer exists.
    public func playbook(for kind: JobKind, platform: Platform) -> Playbook? {
        switch kind {
        case let .playbook(name): playbooks.first { $0.name == name && $0.platform == platform }
        case let .database(change): change.playbook(for: platform)
        case let .hosting(change):
            playbooks.first { $0.name == change.playbook && $0.platform == platform && $0.changes == change.target.subject }?
                .making(change.target)
        case let .tuning(change): tuning(for: platform).playbook(for: change, platform: platform)
        case let .operation(operation): ServiceOperations.playbook(for: operation, platform: platform, cron: tuning(for: platform).cron)
        case .setting: nil
        }
    }

    /// The playbook a detection rule triggers on `platform`.
    public func playbook(triggeredBy rule: String, for platform: Platform) -> Playbook? {
        playbooks.first { $0.trigger == .rule(rule) && $0.platform == platform }
    }

    /// Playbooks of one platform, or all.
    public func list(_ platform: Platform?) -> [Playbook] {
        playbooks.filter { platform == nil || $0.platform == platform }
    }
}
