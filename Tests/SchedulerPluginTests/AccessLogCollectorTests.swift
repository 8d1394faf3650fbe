import BotCore
import BotStore
import Foundation
import PerfbotApp
import Testing
import TestSupport

/// The access-log collector reads a store's log through its executor (`stat`, then `dd` from the cursor) into hourly
/// traffic, as the file grows and is rotated; `/perf traffic` shows what was kept.
@Suite struct AccessLogCollectorTests {
    static let chrome = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"

    /// A combined line at `seconds` after the clock's start.
    static func line(_ ip: String, _ seconds: Int, _ path: String, _ status: Int = 200, bytes: Int = 1000, agent: String = chrome) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "dd/MMM/yyyy:HH:mm:ss"
        let time = formatter.string(from: start.addingTimeInterval(TimeInterval(seconds)))
        return #"\#(ip) - - [\#(time) +0000] "GET \#(path) HTTP/1.1" \#(status) \#(bytes) "-" "\#(agent)""# + "\n"
    }

    @Test func aGrowingAndRotatedLogBecomesHourlyTrafficAndTheRequestsMetric() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("accesslog-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let path = folder.appendingPathComponent("access.log").path
        let customer = Customer(id: StoreID("log-shop")!, platform: .woocommerce, plan: .premium, contactEmail: "o@log.example",
                                executor: .local, probes: [.accessLog], settings: ["access_log": path])
        let bot = try await SchedulerBot(customers: [customer])
        func requests() async throws -> Int {
            try await bot.store.trafficHours(customer.id, from: start.addingTimeInterval(-86400), to: start.addingTimeInterval(86400))
                .reduce(0) { $0 + $1.requests }
        }
        func latest() async throws -> Double? { try await bot.store.latestMetrics(stores: nil)[customer.id]?[.requests] }

        // The first read: the whole (small) log, and no rate yet (its lines span an unknown time).
        try (Self.line("203.0.113.5", -50, "/") + Self.line("203.0.113.5", -49, "/style.css")
            + Self.line("66.249.66.1", -40, "/p/1/", agent: "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"))
            .write(toFile: path, atomically: true, encoding: .utf8)
        _ = try await bot.cycle()
        #expect(try await requests() == 3)
        #expect(try await latest() == nil)

        // It grows by four lines, the last one unfinished: three are read, and 3 a minute is the rate.
        bot.clock.advance(by: 60)
        let handle = try #require(FileHandle(forWritingAtPath: path))
        handle.seekToEndOfFile()
        handle.write(Data((Self.line("198.51.100.9", 10, "/cart/") + Self.line("198.51.100.9", 11, "/gone/", 404)
            + Self.line("198.51.100.9", 12, "/checkout/") + String(Self.line("198.51.100.9", 13, "/x/").prefix(30))).utf8))
        try handle.close()
        _ = try await bot.cycle()
        #expect(try await requests() == 6)
        #expect(try await latest() == 3)

        // Rotated: a new file under the same name is read from its start; nothing is counted twice.
        bot.clock.advance(by: 60)
        try FileManager.default.moveItem(atPath: path, toPath: path + ".1")
        try (Self.line("192.0.2.7", 70, "/") + Self.line("192.0.2.7", 71, "/")).write(toFile: path, atomically: true, encoding: .utf8)
        _ = try await bot.cycle()
        #expect(try await requests() == 8)
        bot.clock.advance(by: 60)
        _ = try await bot.cycle()
        #expect(try await requests() == 8)
        #expect(try await latest() == 0)

        // What was kept: aggregates, no address.
        let stored = try await bot.store.trafficHours(customer.id, from: start.addingTimeInterval(-86400), to: start.addingTimeInterval(86400))
        let text = String(decoding: try JSONEncoder().encode(stored), as: UTF8.self)
        #expect(!text.contains("203.0.113.5") && !text.contains("198.51.100.9"))
        #expect(stored.reduce(0) { $0 + $1.bots } == 1 && stored.reduce(0) { $0 + $1.notFound } == 1)

        // `/perf traffic` reads it back.
        let reply = await (try bot.wiring.commandRouter()).route("traffic log-shop", user: SlackUserID("U0VIEW001")!,
                                                               channel: nil, logger: .init(label: "t"))
        let shown = reply.plainText
        #expect(shown.contains("Traffic · log-shop · last 7 days"), "\(shown)")
        #expect(shown.contains("*8 requests* · people 88 % · crawlers 12 % · 8.0 KB"), "\(shown)")
        #expect(shown.contains("*Bandwidth* html 88 % (7.0 KB) · styles 13 % (1.0 KB)"), "\(shown)")
        #expect(shown.contains("Googlebot — 13 %: keep: it brings visitors from search"), "\(shown)")
        #expect(shown.contains("No countries: set PERFBOT_GEOIP_DATABASE"), "\(shown)")

        // The contact asks by e-mail: the same figures in words, without the operator's settings.
        let mail = await (try bot.wiring.commandRouter()).route("traffic", contact: Contact(email: "o@log.example", stores: [customer.id]),
                                                              logger: .init(label: "t")).plainText
        #expect(mail.hasPrefix("Traffic of log-shop, last 7 days: 8 requests"), "\(mail)")
        #expect(mail.contains("People 88 % · crawlers 12 %"), "\(mail)")
        #expect(mail.contains("Busiest: Friday 08:00–09:00."), "\(mail)")
        #expect(!mail.contains("PERFBOT_") && mail.contains("no visitors' addresses"), "\(mail)")
    }

    @Test func aStoreWhoseLogIsNotReadIsToldHow() async throws {
        let bot = try await SchedulerBot(customers: [shop("plain-shop")])
        let reply = await (try bot.wiring.commandRouter()).route("traffic plain-shop --days 3", user: SlackUserID("U0VIEW001")!,
                                                               channel: nil, logger: .init(label: "t"))
        #expect(reply.plainText == "No traffic for plain-shop in the last 3 days: its access log is not read: give it the "
            + "`access_log` probe and `access_log: /path/to/access.log` in the customers file.")
        let bad = await (try bot.wiring.commandRouter()).route("traffic plain-shop --days 400", user: SlackUserID("U0VIEW001")!,
                                                             channel: nil, logger: .init(label: "t"))
        #expect(bad.plainText.contains("`--days` is a number of days, 1–90."))
    }
}
