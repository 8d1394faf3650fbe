import BotCore
import BotPlaybooks
import BotStore
import Foundation
import PerfbotApp
import Testing

@Suite struct RuleEvaluationTests {
    /// A store with memory samples given as (minutes ago, value), evaluated against the real SQLite file.
    func firing(_ points: [(Int, Double)], rules: [DetectionRule] = StandardRules.all, extra: [MetricSample] = [])
        async throws -> [String] {
        let bot = try await OperationsBot(customers: [woo()], metrics: [:])
        let id = StoreID("acme-store")!
        try await bot.store.insert(points.map {
            MetricSample(store: id, metric: .memoryPercent, at: now.addingTimeInterval(TimeInterval(-$0.0 * 60)), value: $0.1)
        } + extra)
        return try await RuleEvaluator(samples: bot.store).firing(rules, store: id, now: now).map(\.name)
    }

    @Test func aSpikeShorterThanTheWindowDoesNotFire() async throws {
        #expect(try await firing([(6, 50), (5, 50), (4, 50), (3, 90), (2, 90), (1, 90), (0, 90)]).isEmpty)
    }

    @Test func aSustainedBreachFiresItsRuleOnly() async throws {
        #expect(try await firing((0...6).map { ($0, 90) }) == ["high_memory"])
        #expect(try await firing((0...6).map { ($0, 97) }) == ["high_memory", "critical_memory"])
    }

    @Test func aGapInSamplesDoesNotCountAsHeld() async throws {
        #expect(try await firing([(7, 90), (6, 90), (5, 90), (2, 90), (1, 90), (0, 90)]).isEmpty)
    }

    @Test func connectionUseIsMeasuredAgainstMaxConnections() async throws {
        let id = StoreID("acme-store")!
        let extra = [MetricSample(store: id, metric: .maxConnections, at: now.addingTimeInterval(-600), value: 100),
                     MetricSample(store: id, metric: .activeConnections, at: now, value: 85)]
        #expect(try await firing([], extra: extra) == ["connection_exhaustion"])
    }

    @Test func thresholdsAreOverriddenByPlanThenCustomer() throws {
        let directory = try temporaryDirectory()
        let file = directory.appendingPathComponent("thresholds.yaml").path
        try """
            plans:
              premium:
                high_memory: {threshold: 90}
            customers:
              acme-store:
                high_memory: {for: 10m}
            """.write(toFile: file, atomically: true, encoding: .utf8)
        let thresholds = try RuleThresholds.load(file: file, rules: StandardRules.all)
        let memory = try #require(thresholds.rules(StandardRules.all, for: woo()).first { $0.name == "high_memory" })
        #expect(memory.threshold == 90 && memory.window == 600)
        let other = try #require(thresholds.rules(StandardRules.all, for: woo("other-shop", plan: .basic))
            .first { $0.name == "high_memory" })
        #expect(other.threshold == 85 && other.window == 300)
    }

    @Test func badThresholdsAreReportedWithTheirPosition() throws {
        let directory = try temporaryDirectory()
        let file = directory.appendingPathComponent("thresholds.yaml").path
        try "plans:\n  basic:\n    high_memery: {threshold: 90}\n    high_cpu: {threshold: 140}\n"
            .write(toFile: file, atomically: true, encoding: .utf8)
        do {
            _ = try RuleThresholds.load(file: file, rules: StandardRules.all)
            Issue.record("accepted")
        } catch {
            #expect(error.problems.map(\.description) == [
                "\(file):3:5: unknown rule 'high_memery'",
                "\(file):4:27: threshold of high_cpu must be a number from 0 to 100",
            ])
        }
    }

    @Test func theShippedThresholdsApplyToBasicPlans() async throws {
        let bot = try await OperationsBot(customers: [woo()])
        let cpu = try #require(bot.wiring.rules(for: woo(plan: .basic)).first { $0.name == "high_cpu" })
        #expect(cpu.threshold == 95 && cpu.window == 900)
        #expect(bot.wiring.rules(for: magento()).contains { $0.name == "varnish_hit_rate_low" })
    }
}
