import BotCore
import BotPlaybooks
import BotStore
import Foundation
import PerfbotApp
import Testing

@Suite struct GrammarTests {
    func router() throws -> CommandRouter {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("perfbot-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let store = try SQLiteStore(path: directory.appendingPathComponent("db.sqlite").path, metrics: Wiring.metricCatalogue)
        let playbooks = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Playbooks").path
        var configuration = PerfbotConfiguration()
        configuration.playbooksPath = playbooks
        return try Wiring(configuration: configuration, store: store).commandRouter()
    }

    /// Every example in help parses to exactly one grammar entry, and it is the one that declared it.
    @Test func everyExampleParsesToExactlyOneEntry() throws {
        let router = try router()
        var examples = 0
        for spec in router.specs {
            #expect(!spec.examples.isEmpty, "\(spec.name) has no example")
            for example in spec.examples {
                examples += 1
                let words = CommandTokenizer.words(example)
                // Each audience (the team in Slack, customers by e-mail) has a grammar of its own.
                let matching = router.specs.filter {
                    $0.audience == spec.audience && $0.name == words.first
                        && (try? CommandParser.parse(Array(words.dropFirst()), as: $0).get()) != nil
                }
                #expect(matching.count == 1, "\(example) matches \(matching.count) entries")
                #expect(matching.first?.formKey == spec.formKey, "\(example) matches another form")
                guard case .matched = router.match(example, audience: spec.audience) else {
                    Issue.record("\(example) does not route")
                    continue
                }
            }
        }
        #expect(examples == router.specs.map(\.examples.count).reduce(0, +))
    }

    @Test func helpShowsEveryRegisteredCommand() throws {
        let router = try router()
        let help = router.help(nil, role: .admin).plainText
        for name in ["help", "fleet", "store", "optimize", "playbooks", "run", "automation"] {
            #expect(help.contains("`/perf \(name)"))
        }
    }
}

@Suite struct DemoFleetTests {
    @Test func demoCreatesTwentyStoresWithTwoDaysOfMinuteSamples() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("perfbot-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let store = try SQLiteStore(path: directory.appendingPathComponent("demo.sqlite").path, metrics: Wiring.metricCatalogue)
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let written = try await DemoFleet().populate(store, now: now)
        let customers = try await store.allCustomers()
        #expect(customers.count == 20)
        #expect(Set(customers.map(\.platform)) == Set(Wiring.platforms.map(\.platform)))
        #expect(Set(customers.map(\.platform.displayName)) == ["WooCommerce", "Magento"])
        #expect(written > 20 * 2880 * 9)
        let rollups = try await store.hourlyRollups(.cpuPercent, store: StoreID("acme-store")!,
                                                    from: now.addingTimeInterval(-48 * 3600), to: now)
        #expect(rollups.count == 48)
        #expect(try await store.openIssues(store: nil).count >= 5)
    }
}

@Suite struct StartupTests {
    @Test func invalidPlaybooksStopPerfbotFromStarting() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("perfbot-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("magento"), withIntermediateDirectories: true)
        try "name: broken\ntitle: Broken\nplatform: magento\ntrigger: manual\nactions:\n  - name: x\n    run: \"rm -rf /\"\n    reversible: true\n    safe: true\n"
            .write(to: directory.appendingPathComponent("magento/broken.yaml"), atomically: true, encoding: .utf8)
        var configuration = PerfbotConfiguration()
        configuration.playbooksPath = directory.path
        let store = try SQLiteStore(path: directory.appendingPathComponent("db.sqlite").path, metrics: Wiring.metricCatalogue)
        #expect(throws: PlaybookErrors.self) { try Wiring(configuration: configuration, store: store) }
    }
}
