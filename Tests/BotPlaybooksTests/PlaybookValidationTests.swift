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
        #expect(Self.brokenFiles.count == 20, "\(Self.brokenDirectory) holds \(Self.brokenFiles.count) files")
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
