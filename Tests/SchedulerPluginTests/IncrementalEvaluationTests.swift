import BotCore
import BotPostgres
import Foundation
import Logging
import PerfbotApp
import SchedulerPlugin
import Testing
import TestSupport

/// The check cycle that keeps its rules' state in memory and reads only new samples opens and resolves exactly
/// the issues that the cycle reading every window from the tables does, over the same recorded stream.
@Suite struct IncrementalEvaluationTests {
    /// A reproducible stream (a linear congruential generator: no randomness between runs).
    struct Stream {
        var state: UInt64 = 0x2545F4914F6CDD1D
        mutating func next() -> Double {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Double(state >> 11) / Double(1 << 53)
        }
    }

    static let metrics: [(MetricName, calm: ClosedRange<Double>, hot: ClosedRange<Double>)] = [
        (.memoryPercent, 40...70, 86...99), (.cpuPercent, 20...60, 91...180), (.slowQueryCount, 0...1, 2...6),
        (.slowQuery3sCount, 0...0, 0...2), (.activeConnections, 10...60, 125...150), (.diskPercent, 40...60, 91...98),
        (.redisHitRate, 90...99, 40...75), (.ttfbMs, 200...600, 1_600...3_000), (.oomKills, 0...0, 0...1),
        (.uptimePercent, 100...100, 0...100),
    ]

    func cycle(_ bot: SchedulerBot, _ evaluation: CheckCycle.Evaluation) -> CheckCycle {
        bot.wiring.checkCycle(inline: true, evaluation: evaluation)
    }

    static let customers = (1...6).map { shop("shop-\($0)", level: .notifyOnly) }

    @Test func bothEvaluationsOpenAndResolveTheSameIssues() async throws {
        try await compare(try await SchedulerBot(customers: Self.customers), with: try await SchedulerBot(customers: Self.customers))
    }

    /// The incremental cycle on PostgreSQL, where the leader takes the journal's rows out as it reads them, against
    /// the full one on SQLite.
    @Test func theIncrementalCycleOnPostgreSQLMatchesTheFullOneOnSQLite() async throws {
        try await PostgresTestDatabase.with("incremental") { database in
            let store = PostgresStore(database: database, replica: "leader", metrics: Wiring.metricCatalogue)
            try await self.compare(try await SchedulerBot(customers: Self.customers, on: store),
                                   with: try await SchedulerBot(customers: Self.customers))
        }
    }

    /// Feeds both bots the same 110 minutes of samples (gaps, late and skewed samples, resends, a silence) and runs
    /// `incremental`'s cycle with its memory and `full`'s reading the tables, comparing every cycle.
    func compare(_ incremental: SchedulerBot, with full: SchedulerBot) async throws {
        let customers = Self.customers
        let fast = cycle(incremental, .incremental), reference = cycle(full, .full)
        var stream = Stream()
        var hot: [String: Bool] = [:]
        var late: [MetricSample] = []
        var previous: [MetricSample] = []
        var opened = 0, resolved = 0
        for minute in 0..<110 {
            let now = incremental.clock.now
            var batch: [MetricSample] = []
            for customer in customers {
                if minute % 30 == 0 {
                    batch.append(MetricSample(store: customer.id, metric: .maxConnections, at: now, value: 151))
                }
                for (metric, calm, high) in Self.metrics {
                    let key = "\(customer.id)/\(metric)"
                    if stream.next() < 0.08 { hot[key] = !(hot[key] ?? false) }
                    let range = hot[key] == true ? high : calm
                    let sample = MetricSample(store: customer.id, metric: metric, at: now,
                                              value: (range.lowerBound + stream.next() * (range.upperBound - range.lowerBound)).rounded())
                    switch stream.next() {
                    case ..<0.04: continue  // a gap
                    case ..<0.08: late.append(MetricSample(store: sample.store, metric: sample.metric,
                                                           at: now.addingTimeInterval(-Double(Int(stream.next() * 4) * 60)),
                                                           value: sample.value))
                    case ..<0.10: batch.append(MetricSample(store: sample.store, metric: sample.metric,
                                                            at: now.addingTimeInterval(20), value: sample.value))  // clock skew
                    default: batch.append(sample)
                    }
                }
            }
            // Late samples arrive a few minutes after they were taken; some of the last batch is sent again.
            if minute % 3 == 0 { batch += late; late = [] }
            batch += previous.prefix(5)
            previous = batch
            if minute == 40 {
                for bot in [incremental, full] {
                    _ = try await bot.engine.addSilence(StoreID("shop-2")!, until: now.addingTimeInterval(900), reason: "deploy",
                                                       by: "U0OPS0001", at: now)
                }
            }
            let stored = try await incremental.engine.insert(batch)
            #expect(try await full.engine.insert(batch) == stored)
            let a = try await fast.run(), b = try await reference.run()
            func events(_ list: [CycleReport.Event]) -> [String] { list.map { "\($0.store) \($0.what)" }.sorted() }
            #expect(events(a.opened) == events(b.opened), "minute \(minute)")
            #expect(events(a.resolved) == events(b.resolved), "minute \(minute)")
            #expect(events(a.actions) == events(b.actions), "minute \(minute)")
            #expect(Set(a.snapshots.map { "\($0.store)=\($0.score)" }) == Set(b.snapshots.map { "\($0.store)=\($0.score)" }),
                    "minute \(minute)")
            // The first cycle builds the memory; every later one reads only what was stored since.
            #expect(a.rebuilt == (minute == 0), "minute \(minute)")
            if minute > 0 { #expect(a.newSamples == stored, "minute \(minute)") }
            opened += a.opened.count
            resolved += a.resolved.count
            for bot in [incremental, full] { bot.clock.advance(by: 60) }
        }
        // The stream exercised the rules: issues opened and resolved, on several stores.
        #expect(opened >= 15 && resolved >= 10, "opened \(opened), resolved \(resolved)")
        let left = try await incremental.engine.openIssues(store: nil).map { "\($0.store) \($0.type)" }.sorted()
        #expect(left == (try await full.engine.openIssues(store: nil).map { "\($0.store) \($0.type)" }.sorted()))
        let due = incremental.clock.now.addingTimeInterval(86400)
        let alerts = try await incremental.engine.dueMessages(now: due, limit: 10_000).compactMap(\.message.slackText)
        let expected = try await full.engine.dueMessages(now: due, limit: 10_000).compactMap(\.message.slackText)
        #expect(alerts.count == expected.count && alerts.count >= 15)
        // The same alerts (stores are checked concurrently, so their order within a cycle may differ); only the
        // proposals' random ids differ.
        func same(_ texts: [String]) -> [String] { texts.map { $0.replacing(/fix_[a-z0-9]+/, with: "fix_…") }.sorted() }
        #expect(same(alerts) == same(expected))
    }

    /// After a long pause the memory is built again from the tables, and the journal is emptied as it is read by
    /// the service's cycle only.
    @Test func aLongPauseRebuildsAndTheJournalIsForgotten() async throws {
        let bot = try await SchedulerBot(customers: [shop("acme-store", level: .notifyOnly)])
        let cycle = cycle(bot, .incremental)
        try await bot.feed("acme-store", .memoryPercent, Array(repeating: 92, count: 7))
        #expect(try await cycle.run().rebuilt)
        bot.clock.advance(by: 60)
        try await bot.feed("acme-store", .memoryPercent, [93])
        // A cycle run once beside the service (`perfbot check --once`) reads the tables and leaves the journal alone.
        _ = try await bot.wiring.checkCycle(inline: true).run()
        let second = try await cycle.run()
        #expect(!second.rebuilt && second.newSamples == 1)
        #expect(try await bot.store.journal(after: 0, limit: 10).samples.isEmpty)
        bot.clock.advance(by: 2 * 3600)
        #expect(try await cycle.run().rebuilt)
    }
}
