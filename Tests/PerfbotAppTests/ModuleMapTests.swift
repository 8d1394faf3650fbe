import Foundation
import Testing

/// The README's module map matches the package: every target it names exists where it says, every target of the
/// product is named, each target imports only the targets it declares, and plugins import only the core and the
/// job path (as the README says).
@Suite struct ModuleMapTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    struct Target {
        var name: String
        var path: String
        var dependencies: Set<String>
        var isTest: Bool
    }

    /// The targets of `Package.swift`: name, path and the local targets it depends on.
    static func targets() throws -> [String: Target] {
        let manifest = try String(contentsOf: root.appendingPathComponent("Package.swift"), encoding: .utf8)
        let kinds = [".target(", ".executableTarget(", ".systemLibrary(", ".testTarget("]
        var starts: [(String.Index, String)] = []
        for kind in kinds {
            var search = manifest.startIndex..<manifest.endIndex
            while let found = manifest.range(of: kind, range: search) {
                starts.append((found.lowerBound, kind))
                search = found.upperBound..<manifest.endIndex
            }
        }
        starts.sort { $0.0 < $1.0 }
        var chunks: [(String, Substring)] = []
        for (index, (start, kind)) in starts.enumerated() {
            let end = index + 1 < starts.count ? starts[index + 1].0 : manifest.endIndex
            chunks.append((kind, manifest[start..<end]))
        }
        var names: [(String, Substring, Bool)] = []
        for (kind, chunk) in chunks {
            guard let name = chunk.firstMatch(of: /name: "([^"]+)"/)?.output.1 else { continue }
            names.append((String(name), chunk, kind == ".testTarget("))
        }
        let local = Set(names.map(\.0))
        var result: [String: Target] = [:]
        for (name, chunk, isTest) in names {
            // Quoted names in the dependency list that are targets of this package (products are `name:`/`package:` pairs).
            let listed = String(chunk).replacing(/\.product\([^)]*\)/, with: "").replacing(/name: "[^"]*"/, with: "")
            let dependencies = Set(listed.matches(of: /"([A-Za-z][A-Za-z0-9-]*)"/).map { String($0.output.1) })
                .intersection(local).subtracting([name])
            let path = chunk.firstMatch(of: /path: "([^"]+)"/).map { String($0.output.1) }
                ?? (isTest ? "Tests/\(name)" : "Sources/\(name)")
            result[name] = Target(name: name, path: path, dependencies: dependencies, isTest: isTest)
        }
        return result
    }

    /// The local modules each Swift file of `path` imports.
    static func imports(in path: String, local: Set<String>) -> [String: Set<String>] {
        var found: [String: Set<String>] = [:]
        let folder = root.appendingPathComponent(path)
        guard let files = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: nil) else { return [:] }
        for case let file as URL in files where file.pathExtension == "swift" {
            let text = (try? String(contentsOf: file, encoding: .utf8)) ?? ""
            for match in text.matches(of: /(?m)^(?:@testable |public |internal )?import (\w+)/) where local.contains(String(match.output.1)) {
                found[file.lastPathComponent, default: []].insert(String(match.output.1))
            }
        }
        return found
    }

    @Test func everyTargetImportsOnlyWhatItDeclares() throws {
        let targets = try Self.targets()
        #expect(targets.count >= 20, "Package.swift read as \(targets.count) targets")
        let local = Set(targets.keys)
        // What a target may import: what it declares, and what those declare, all the way down.
        func reach(_ name: String) -> Set<String> {
            var seen = Set<String>(), queue = Array(targets[name]?.dependencies ?? [])
            while let next = queue.popLast() {
                if seen.insert(next).inserted { queue += targets[next]?.dependencies ?? [] }
            }
            return seen
        }
        for target in targets.values {
            let allowed = reach(target.name)
            for (file, modules) in Self.imports(in: target.path, local: local) {
                let undeclared = modules.subtracting(allowed).subtracting([target.name])
                #expect(undeclared.isEmpty, "\(target.path)/\(file) imports \(undeclared.sorted()), which \(target.name) does not depend on")
            }
        }
    }

    /// A plugin imports only `BotCore` and `BotPlaybooks`, without exception (database advice reaches the database
    /// tools through `DatabaseAdvisor`).
    @Test func pluginsImportOnlyTheCoreAndTheJobPath() throws {
        for target in try Self.targets().values where target.path.hasPrefix("Plugins/") {
            let allowed = Set(["BotCore", "BotPlaybooks"])
            #expect(target.dependencies.isSubset(of: allowed), "\(target.name) depends on \(target.dependencies.sorted())")
        }
    }

    @Test func theReadmesModuleMapMatchesThePackage() throws {
        let readme = try String(contentsOf: Self.root.appendingPathComponent("README.md"), encoding: .utf8)
        let section = try #require(readme.components(separatedBy: "## Modules").dropFirst().first?
            .components(separatedBy: "\n## ").first)
        var listed: [String: String] = [:]
        for line in section.split(separator: "\n") where line.hasPrefix("| `") {
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count >= 2 else { continue }
            let names = cells[0].matches(of: /`([^`]+)`/).map { String($0.output.1) }
            let paths = cells[1].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            for (index, name) in names.enumerated() { listed[name] = paths[min(index, paths.count - 1)] }
        }
        let targets = try Self.targets()
        for (name, path) in listed {
            #expect(targets[name]?.path == path, "README lists \(name) at \(path); Package.swift has \(targets[name]?.path ?? "no such target")")
        }
        let product = targets.values.filter { !$0.isTest && $0.name != "TestSupport" }.map(\.name)
        for name in product { #expect(listed[name] != nil, "README's module map does not name \(name)") }
    }
}
