import BotCore
import BotPlaybooks
import BotStore
import Foundation
import PerfbotApp
import Testing
import TestSupport

/// The slow-log collector reads a store's log through its executor (`stat`, then `dd` from the cursor), as the
/// file grows, is truncated and is rotated.
@Suite struct SlowLogCollectorTests {
    /// One entry as MySQL writes it: `use db;` only when the database changes.
    static func entry(_ n: Int, seconds: Double, at: Int, use database: String? = nil, user: String = "shop",
                      table: String = "wp_options") -> String {
        """
        # Time: 2027-01-15T08:00:00.000000Z
        # User@Host: \(user)[\(user)] @ localhost []  Id: 7
        # Query_time: \(seconds)  Lock_time: 0.000100 Rows_sent: 1  Rows_examined: \(1000 * n)
        \(database.map { "use \($0);\n" } ?? "")SET timestamp=\(at);
        SELECT * FROM \(table) WHERE option_name = 'key\(n)';

        """
    }

    @Test func growingTruncatedAndRotatedLogs() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("slowlog-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let path = folder.appendingPathComponent("slow.log").path
        let customer = Customer(id: StoreID("log-shop")!, platform: .woocommerce, plan: .premium, contactEmail: "o@log.example",
                                executor: .local, probes: [.slowLog], settings: ["slow_log": path, "db_name": "shop"])
        let bot = try await SchedulerBot(customers: [customer])
        let now = Int(bot.clock.now.timeIntervalSince1970)
        func count() async throws -> Int {
            try await bot.store.slowQueryClasses(customer.id, since: Date(timeIntervalSince1970: 0), limit: 10, offset: 0).classes
                .reduce(0) { $0 + $1.count }
        }
        func latest(_ metric: MetricName) async throws -> Double? { try await bot.store.latestMetrics(stores: nil)[customer.id]?[metric] }

        try (Self.entry(1, seconds: 4, at: now - 10, use: "shop") + Self.entry(2, seconds: 0.2, at: now - 5)).write(toFile: path, atomically: true, encoding: .utf8)
        _ = try await bot.cycle()
        #expect(try await count() == 2)
        #expect(try await latest(.slowQuery3sCount) == 1)

        // It grows: only the new entry is read (its database carried over from the entries before).
        bot.clock.advance(by: 60)
        let handle = try #require(FileHandle(forWritingAtPath: path))
        handle.seekToEndOfFile()
        handle.write(Data(Self.entry(3, seconds: 1.5, at: now + 50).utf8))
        try handle.close()
        _ = try await bot.cycle()
        #expect(try await count() == 3)
        #expect(try await latest(.slowQueryCount) == 1)
        #expect(try await latest(.slowQuery3sCount) == 0)

        // Truncated in place (same inode, shorter): read again from the start.
        bot.clock.advance(by: 60)
        let truncate = try #require(FileHandle(forWritingAtPath: path))
        try truncate.truncate(atOffset: 0)
        truncate.write(Data(Self.entry(4, seconds: 3.5, at: now + 110, use: "shop").utf8))
        try truncate.close()
        _ = try await bot.cycle()
        #expect(try await count() == 4)
        #expect(try await latest(.slowQuery3sCount) == 1)

        // Rotated: a new file (new inode) under the same name, longer than the old offset.
        bot.clock.advance(by: 60)
        try FileManager.default.moveItem(atPath: path, toPath: path + ".1")
        try (Self.entry(5, seconds: 0.1, at: now + 170, use: "shop") + Self.entry(6, seconds: 0.1, at: now + 171) + Self.entry(7, seconds: 0.1, at: now + 172))
            .write(toFile: path, atomically: true, encoding: .utf8)
        _ = try await bot.cycle()
        #expect(try await count() == 7)
        let cursor = try #require(try await bot.store.slowLogCursor(customer.id))
        #expect(cursor.offset == Int64(try FileManager.default.attributesOfItem(atPath: path)[.size] as! Int))
        // Nothing new: nothing counted twice.
        bot.clock.advance(by: 60)
        _ = try await bot.cycle()
        #expect(try await count() == 7)
        // Only fingerprints are stored.
        let classes = try await bot.store.slowQueryClasses(customer.id, since: Date(timeIntervalSince1970: 0), limit: 10, offset: 0).classes
        #expect(classes.map(\.fingerprint) == ["select * from wp_options where option_name = ?"])
    }

    /// A shared server's slow log holds every tenant's statements: each store keeps only its own database's
    /// (and account's, where set), and two stores may not share a log without telling them apart.
    @Test func aSharedSlowLogKeepsEachTenantsEntriesApart() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("slowlog-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let path = folder.appendingPathComponent("slow.log").path
        func tenant(_ name: String, database: String, user: String? = nil) -> Customer {
            Customer(id: StoreID(name)!, platform: .woocommerce, plan: .premium, contactEmail: "o@\(name).example", executor: .local,
                     probes: [.slowLog], settings: ["slow_log": path, "db_name": database].merging(user.map { ["db_user": $0] } ?? [:]) { a, _ in a })
        }
        let ours = tenant("our-shop", database: "ours", user: "ours_app"), theirs = tenant("their-shop", database: "theirs")
        let bot = try await SchedulerBot(customers: [ours, theirs])
        let now = Int(bot.clock.now.timeIntervalSince1970)
        try (Self.entry(1, seconds: 4, at: now - 30, use: "ours", user: "ours_app", table: "our_orders")
            + Self.entry(2, seconds: 5, at: now - 20, use: "theirs", user: "theirs_app", table: "their_secret_customers")
            + Self.entry(3, seconds: 6, at: now - 15, user: "theirs_app", table: "their_secret_customers")
            // Our database, but another account (an admin's tool, another tenant granted access): not the store's.
            + Self.entry(4, seconds: 7, at: now - 10, use: "ours", user: "intruder", table: "our_orders"))
            .write(toFile: path, atomically: true, encoding: .utf8)
        _ = try await bot.cycle()
        func fingerprints(_ store: Customer) async throws -> [String] {
            try await bot.store.slowQueryClasses(store.id, since: Date(timeIntervalSince1970: 0), limit: 10, offset: 0).classes.map(\.fingerprint)
        }
        #expect(try await fingerprints(ours) == ["select * from our_orders where option_name = ?"])
        #expect(try await fingerprints(theirs) == ["select * from their_secret_customers where option_name = ?"])
        let ourCounts = try await bot.store.slowQueryClasses(ours.id, since: Date(timeIntervalSince1970: 0), limit: 10, offset: 0).classes
        #expect(ourCounts.map(\.count) == [1])
        let latest = try await bot.store.latestMetrics(stores: nil)
        #expect(latest[ours.id]?[.slowQuery3sCount] == 1 && latest[theirs.id]?[.slowQuery3sCount] == 2)
    }
}
