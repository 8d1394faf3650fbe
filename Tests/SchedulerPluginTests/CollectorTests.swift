import BotCore
import BotPlaybooks
import BotStore
import Foundation
import PerfbotApp
import Testing
import TestSupport

@Suite(.serialized) struct CollectorTests {
    @Test func theCycleCollectsFromARealRedisAndTurnsCountersIntoARate() async throws {
        let port = freePort()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("redis-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        // The store's own `redis-cli` reaches its Redis; here a shim points it at the test server.
        let shim = directory.appendingPathComponent("redis-cli").path
        try "#!/bin/sh\nexec /usr/bin/redis-cli -p \(port) \"$@\"\n".write(toFile: shim, atomically: true, encoding: .utf8)
        chmod(shim, 0o755)
        let local = LocalExecutor(searchPath: [directory.path, "/usr/bin", "/bin"])
        let started = try await local.run(CommandRequest(argv: [
            "redis-server", "--port", "\(port)", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--maxmemory", "64mb",
            "--daemonize", "yes", "--dir", directory.path], timeout: 10))
        #expect(started.exitCode == 0)
        do {
            try await exercise(local: local)
        } catch {
            _ = try? await LocalExecutor().run(CommandRequest(argv: ["redis-cli", "-p", "\(port)", "SHUTDOWN", "NOSAVE"], timeout: 5))
            throw error
        }
        _ = try await LocalExecutor().run(CommandRequest(argv: ["redis-cli", "-p", "\(port)", "SHUTDOWN", "NOSAVE"], timeout: 5))
    }

    func exercise(local: LocalExecutor) async throws {
        for _ in 0..<50 where try await !local.run(CommandRequest(argv: ["redis-cli", "PING"], timeout: 2)).output.hasPrefix("PONG") {
            try await Task.sleep(for: .milliseconds(100))
        }
        let customer = Customer(id: StoreID("cache-shop")!, platform: .magento, plan: .premium, contactEmail: "o@c.example",
                                url: "http://127.0.0.1:9/", executor: .local, probes: [.redis, .http])
        let bot = try await SchedulerBot(customers: [customer], local: local)
        _ = try await bot.cycle()
        for key in 0..<4 { _ = try await local.run(CommandRequest(argv: ["redis-cli", "GET", key == 0 ? "missing" : "hit"], timeout: 5)) }
        _ = try await local.run(CommandRequest(argv: ["redis-cli", "SET", "hit", "1"], timeout: 5))
        for _ in 0..<3 { _ = try await local.run(CommandRequest(argv: ["redis-cli", "GET", "hit"], timeout: 5)) }
        bot.clock.advance(by: 60)
        _ = try await bot.cycle()
        let latest = try #require(try await bot.store.latestMetrics(stores: nil)[customer.id])
        // 4 misses before the key existed, then 3 hits: 3 / 7.
        #expect(latest[.redisHitRate].map { abs($0 - 300.0 / 7) < 0.01 } == true)
        #expect((latest[.redisMemoryBytes] ?? 0) > 0)
        // Used memory against the 64 MB limit, and no key evicted between the two readings.
        #expect(latest[.redisMemoryPercent].map { $0 > 0 && $0 < 10 } == true, "\(latest[.redisMemoryPercent] ?? -1)")
        #expect(latest[.redisEvictions] == 0)
        #expect(latest[.uptimePercent] == 0)  // nothing listens on port 9: the store is down
    }
}
