import BotCore
import BotPlaybooks
import Foundation
import Testing
import TestSupport

/// A path inside the repository.
func repositoryPath(_ relative: String) -> String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent(relative).path
}

let knownRules: [Platform: Set<String>] = [
    .woocommerce: Set(StandardRules.all.map(\.name) + ["autoload_bloat"]),
    .magento: Set(StandardRules.all.map(\.name) + ["varnish_hit_rate_low"]),
]

@Suite struct PlaybookValidationTests {
    static let brokenDirectory = repositoryPath("Tests/BotPlaybooksTests/Fixtures/broken")
    /// A missing folder is no case at all: `brokenFilesAreThere` fails then, rather than this passing empty.
    static let brokenFiles = ((try? FileManager.default.contentsOfDirectory(atPath: brokenDirectory)) ?? []).sorted()

    @Test func brokenFilesAreThere() {
        #expect(Self.brokenFiles.count == 18, "\(Self.brokenDirectory) holds \(Self.brokenFiles.count) files")
    }

    /// Each broken file states its expected problems in `# expect: line:col: message` comments.
    @Test(arguments: brokenFiles)
    func brokenPlaybookReportsItsPosition(_ name: String) throws {
        let path = "\(Self.brokenDirectory)/\(name)"
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let expected = text.split(separator: "\n").filter { $0.hasPrefix("# expect: ") }.map { "\(path):" + $0.dropFirst(10) }
        #expect(!expected.isEmpty, "\(name) states no expectation")
        let parser = PlaybookParser(knownRules: knownRules[.magento]!.union(knownRules[.woocommerce]!))
        switch parser.parse(text, file: path, platform: name == "wrong_platform.yaml" ? .magento : nil) {
        case .success: Issue.record("\(name) was accepted")
        case let .failure(errors): #expect(errors.problems.map(\.description) == expected)
        }
    }

    @Test func theShippedPlaybooksAreValidAndComplete() throws {
        // What ships: the shared playbooks (a resource of this module) and each pack's.
        let roots = [PlaybookLibrary.sharedRoot!, repositoryPath("Plugins/WooCommerce/Playbooks"), repositoryPath("Plugins/Magento/Playbooks")]
        let library = try PlaybookLibrary.load(roots: roots, knownRules: knownRules)
        let required = ["high_memory", "critical_memory", "slow_queries", "query_explosion", "disk_filling", "disk_critical",
                        "cache_miss_storm", "connection_exhaustion", "container_oom", "response_time_degradation", "optimize"]
        for platform in [Platform.woocommerce, .magento] {
            for name in required {
                #expect(library.playbook(name, for: platform) != nil, "\(platform) lacks \(name)")
            }
        }
        // Every rule of the design has a playbook on both platforms.
        for rule in StandardRules.all {
            for platform in [Platform.woocommerce, .magento] {
                #expect(library.playbook(triggeredBy: rule.name, for: platform) != nil, "\(platform): nothing for \(rule.name)")
            }
        }
    }

    @Test func magentoCleansByDefaultAndPurgingIsIrreversible() throws {
        // What ships: the shared playbooks (a resource of this module) and each pack's.
        let roots = [PlaybookLibrary.sharedRoot!, repositoryPath("Plugins/WooCommerce/Playbooks"), repositoryPath("Plugins/Magento/Playbooks")]
        let library = try PlaybookLibrary.load(roots: roots, knownRules: knownRules)
        for playbook in library.list(.magento) where playbook.name != "flush_cache_storage" {
            #expect(!playbook.actions.contains { $0.run.contains("cache:flush") }, "\(playbook.name) flushes shared storage")
        }
        let purge = try #require(library.playbook("optimize", for: .magento)?.actions.first { $0.tags.contains(.purge) })
        #expect(!purge.reversible && !purge.safe)
        #expect(library.playbook("flush_cache_storage", for: .magento)?.isRisky == true)
    }

    @Test func aDuplicateNameAcrossFilesIsReported() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pb-\(UUID().uuidString)")
        let folder = directory.appendingPathComponent("magento")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let text = "name: twin\ntitle: Twin\nplatform: magento\ntrigger: manual\nactions:\n  - name: C\n    run: [bin/magento, cache:clean]\n    reversible: true\n    safe: true\n"
        try text.write(to: folder.appendingPathComponent("a.yaml"), atomically: true, encoding: .utf8)
        try text.write(to: folder.appendingPathComponent("b.yaml"), atomically: true, encoding: .utf8)
        #expect(throws: PlaybookErrors.self) { try PlaybookLibrary.load(directory: directory.path, knownRules: knownRules) }
    }
}
