import BotChannels
import BotCore
import BotStore
import Foundation
import Logging
import SchedulerPlugin
import TestSupport
import Testing

@Suite struct PredictionTests {
    /// One sample an hour for a week, ending at the clock.
    func week(_ bot: SchedulerBot, _ store: String, _ metric: MetricName, _ value: (Int) -> Double) async throws {
        try await bot.store.insert((0..<168).map { hour in
            MetricSample(store: StoreID(store)!, metric: metric,
                         at: start.addingTimeInterval(TimeInterval((hour - 167) * 3600)), value: value(hour))
        })
    }

    @Test func theDailyRunWarnsEscalatesAndTellsTheCustomer() async throws {
        let bot = try await SchedulerBot(customers: [shop("growing-shop"), shop("filling-shop"), shop("calm-shop"), shop("sale-shop")])
        bot.clock.advance(by: 1)
        try await week(bot, "growing-shop", .memoryPercent) { 50 + 4 * Double($0) / 24 }   // ~5.5 days to 100%
        try await week(bot, "filling-shop", .diskPercent) { 20 + 10 * Double($0) / 24 }    // ~1 day to 100%
        try await week(bot, "calm-shop", .memoryPercent) { 60 + sin(Double($0)) }
        try await week(bot, "sale-shop", .requests) { $0 == 167 ? 2400 : 300 + 200 * sin(Double($0 % 24) / 24 * 2 * .pi) }
        let notices = try await bot.wiring.predictions().dailyRun()
        #expect(notices.contains { $0.hasPrefix("warn: growing-shop will reach its memory limit in ~6 days (7-day trend +4%/day") })
        #expect(notices.contains { $0.hasPrefix("escalate: filling-shop will reach its disk limit in ~1 day (") })
        #expect(!notices.contains { $0.contains("calm-shop") })
        #expect(notices.contains { $0.hasPrefix("traffic: sale-shop has") && $0.contains("possibly a flash sale") })
        let queued = try await bot.store.pendingMessages()
        let emails = queued.filter { $0.channel == "email" }
        #expect(emails.map(\.destination).sorted() == ["o@filling-shop.example", "o@growing-shop.example"])
        #expect(emails.allSatisfy { $0.message.mail?.kind.name == "predictionNotice" })
        #expect(queued.filter { $0.channel == "slack" }.count == 3)
    }

    @Test func predictAnswersPerStoreAndForTheFleet() async throws {
        let bot = try await SchedulerBot(customers: [shop("growing-shop"), shop("calm-shop")])
        bot.clock.advance(by: 1)
        try await week(bot, "growing-shop", .memoryPercent) { 50 + 4 * Double($0) / 24 }
        try await week(bot, "calm-shop", .memoryPercent) { 60 + sin(Double($0)) }
        let router = try bot.wiring.commandRouter()
        let viewer = SlackUserID("U0VIEW001")!
        let fleet = await router.route("predict", user: viewer, channel: nil, logger: Logger(label: "t")).plainText
        #expect(fleet.contains("🟠 growing-shop: memory limit in ~6 days"))
        #expect(!fleet.contains("calm-shop"))
        let calm = await router.route("predict calm-shop", user: viewer, channel: nil, logger: Logger(label: "t")).plainText
        #expect(calm.contains("memory: 60.") && calm.contains("no limit ahead"))
    }
}

@Suite struct DailyRunTests {
    /// perfbot restarts (its services start again, each from scratch, on the same database): the day's
    /// prediction notices went out once, and are not sent again.
    @Test func aRestartSendsNoSecondPredictionNotice() async throws {
        let bot = try await SchedulerBot(customers: [shop("growing-shop")])
        bot.clock.advance(by: 1)
        try await PredictionTests().week(bot, "growing-shop", .memoryPercent) { 50 + 4 * Double($0) / 24 }
        func notices() async throws -> Int {
            try await bot.store.pendingMessages().filter { $0.message.mail?.kind.name == "predictionNotice" }.count
        }
        for start in 0..<2 {
            // Each start runs the scheduler plugin's services until its daily run had its chance.
            let services = bot.wiring.plugins().flatMap(\.services).filter { $0.name == "predictions" }
            #expect(services.count == 1)
            let running = Task { try await services[0].run() }
            // Its round is done once it sleeps on the bot's clock until the next one.
            // Generous: the round reads and writes a real database, on a machine busy with the other suites.
            #expect(await bot.clock.waitForSleepers(timeout: 60))
            running.cancel()
            _ = await running.result
            #expect(try await notices() == 1, "after start \(start + 1)")
            bot.clock.advance(by: 3600)
        }
    }
}
