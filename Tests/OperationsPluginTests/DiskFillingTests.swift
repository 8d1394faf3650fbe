import BotCore
import BotPlaybooks
import Foundation
import MagentoPlugin
import PerfbotApp
import Testing
import TestSupport

/// Current metrics fixed by the test.
struct FixedMetrics: CurrentMetrics {
    let values: [MetricName: Double]
    func current(_ metric: MetricName, of store: StoreID) async throws -> Double? { values[metric] }
}

@Suite struct DiskFillingTests {
    /// A Magento tree with logs of different ages and full cache folders.
    func makeStore() throws -> URL {
        let root = try temporaryDirectory()
        let files = FileManager.default
        let old = Date().addingTimeInterval(-10 * 86400)
        let recent = Date().addingTimeInterval(-1 * 86400)
        let layout: [(String, Date)] = [
            ("var/log/system.log", Date()), ("var/log/system.log.1", old), ("var/log/exception.log.2", old),
            ("var/log/debug.log.1", recent), ("var/log/notes.txt", old),
            ("var/cache/mage--0/mage---abc", recent), ("var/cache/mage--f/mage---def", old),
            ("var/page_cache/mage--1/page", recent), ("var/view_preprocessed/pub/static/frontend/styles.css", recent),
            ("var/backups/1700000000_db.tgz", Date().addingTimeInterval(-20 * 86400)),
        ]
        for (path, modified) in layout {
            let url = root.appendingPathComponent(path)
            try files.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data("x".utf8).write(to: url)
            try files.setAttributes([.modificationDate: modified], ofItemAtPath: url.path)
        }
        return root
    }

    func remaining(under root: URL) -> Set<String> {
        let base = root.resolvingSymlinksInPath().path
        var found = Set<String>()
        let enumerator = FileManager.default.enumerator(at: root.resolvingSymlinksInPath(), includingPropertiesForKeys: nil)
        while let url = enumerator?.nextObject() as? URL {
            found.insert(String(url.resolvingSymlinksInPath().path.dropFirst(base.count + 1)))
        }
        return found
    }

    @Test func diskFillingRemovesExactlyOldRotatedLogsAndCacheContents() async throws {
        let root = try makeStore()
        let library = try Wiring.validatePlaybooks(in: repositoryPath("Playbooks"))
        let playbook = try #require(library.playbook("disk_filling", for: .magento))
        var values = TemplateValues()
        try values.set(.store, "widgets-inc")
        try values.set(.appPath, root.path)
        let runner = PlaybookRunner(metrics: FixedMetrics(values: [.diskPercent: 92]), sleeper: InstantSleeper(),
                                    clock: SystemClock())
        let report = try await runner.run(playbook, store: StoreID("widgets-inc")!, values: values,
                                          executor: LocalExecutor(), dryRun: false)
        #expect(report.succeeded)
        #expect(report.steps.last?.status == .skipped("disk_percent is 92%, not > 95%"))
        #expect(remaining(under: root) == [
            "var", "var/log", "var/log/system.log", "var/log/debug.log.1", "var/log/notes.txt",
            "var/cache", "var/page_cache", "var/view_preprocessed",
            "var/backups", "var/backups/1700000000_db.tgz",
        ])
    }
}
