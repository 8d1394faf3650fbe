import BotCore
import Foundation

/// Every playbook under a directory (`Playbooks/<platform>/*.yaml`), checked as a whole.
public struct PlaybookLibrary: Sendable {
    public let playbooks: [Playbook]

    public init(_ playbooks: [Playbook]) {
        self.playbooks = playbooks.sorted { ($0.platform, $0.name) < ($1.platform, $1.name) }
    }

    /// Loads and checks every playbook of each platform folder in `directory`.
    /// - Parameter knownRules: per platform, the rule names a trigger may name.
    /// - Throws: `PlaybookErrors` with every problem of every file.
    /// - Parameter folders: each platform's folders under `directory` (a pack's `playbookFolders`); by default the
    ///   platform's name.
    public static func load(directory: String, knownRules: [Platform: Set<String>],
                            folders: [Platform: [String]] = [:]) throws(PlaybookErrors) -> PlaybookLibrary {
        let files = FileManager.default
        var playbooks: [Playbook] = []
        var problems: [PlaybookProblem] = []
        var isDirectory: ObjCBool = false
        guard files.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw PlaybookErrors([PlaybookProblem(file: directory, line: 1, column: 1, message: "no such directory")])
        }
        // The platforms are the packs' (the keys of `knownRules`): none is listed here. Each reads its own folder,
        // then the shared playbooks it has no file of its own for.
        let sharedFolder = (directory as NSString).appendingPathComponent("shared")
        for platform in knownRules.keys.sorted() {
            let parser = PlaybookParser(knownRules: knownRules[platform] ?? [])
            var seen: [String: String] = [:]
            let own = (folders[platform] ?? [platform.rawValue]).map { ((directory as NSString).appendingPathComponent($0), false) }
            for (folder, shared) in own + [(sharedFolder, true)] {
                let names = ((try? files.contentsOfDirectory(atPath: folder)) ?? [])
                    .filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted()
                for name in names {
                    let path = (folder as NSString).appendingPathComponent(name)
                    guard let data = files.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
                        problems.append(PlaybookProblem(file: path, line: 1, column: 1, message: "cannot read the file as UTF-8"))
                        continue
                    }
                    switch parser.parse(text, file: path, platform: platform, shared: shared) {
                    case let .success(playbook):
                        if let other = seen[playbook.name] {
                            // The platform's own file wins over the shared one of the same name.
                            if shared, !other.hasPrefix(sharedFolder) { continue }
                            problems.append(PlaybookProblem(file: path, line: 1, column: 1,
                                                            message: "playbook name '\(playbook.name)' is already used by \(other)"))
                        } else if !playbook.actions.isEmpty {
                            seen[playbook.name] = path
                            playbooks.append(playbook)
                        }
                    case let .failure(errors):
                        // A shared playbook's problem is the same for every platform: reported once.
                        if !shared || platform == knownRules.keys.sorted().first { problems += errors.problems }
                    }
                }
            }
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

    /// The playbook a detection rule triggers on `platform`.
    public func playbook(triggeredBy rule: String, for platform: Platform) -> Playbook? {
        playbooks.first { $0.trigger == .rule(rule) && $0.platform == platform }
    }

    /// Playbooks of one platform, or all.
    public func list(_ platform: Platform?) -> [Playbook] {
        playbooks.filter { platform == nil || $0.platform == platform }
    }
}
