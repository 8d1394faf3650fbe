import BotPlaybooks
import BotProbes
import Foundation
import Testing
import TestSupport

@Suite struct StatusParserTests {
    @Test func redisInfoFixtureAndHitRate() {
        let earlier = RedisInfo("# Stats\r\nkeyspace_hits:61000\r\nkeyspace_misses:39000\r\n# Memory\r\nused_memory:1048576\r\nmaxmemory:4194304\r\n")
        let later = RedisInfo("# Stats\r\nkeyspace_hits:61900\r\nkeyspace_misses:39100\r\nevicted_keys:7\r\n")
        #expect(RedisInfo.hitRate(from: RedisInfo(""), to: earlier) == nil)
        #expect(RedisInfo.hitRate(from: earlier, to: later) == 90)
        #expect(earlier.memoryPercent == 25)
        #expect(later.evictedKeys == 7)
        // A restart resets the counters: no rate rather than a wrong one.
        #expect(RedisInfo.hitRate(from: later, to: earlier) == nil)
    }

    @Test func varnishstatInBothLayouts() throws {
        let old = #"{"timestamp":"2026-11-26T10:00:00","MAIN.cache_hit":{"description":"Cache hits","flag":"c","format":"i","value":9000},"MAIN.cache_miss":{"description":"Cache misses","flag":"c","format":"i","value":1000}}"#
        let new = #"{"version":1,"timestamp":"2026-11-26T10:00:00","counters":{"MAIN.cache_hit":{"description":"Cache hits","flag":"c","format":"i","value":600},"MAIN.cache_miss":{"description":"Cache misses","flag":"c","format":"i","value":400}}}"#
        #expect(try VarnishStats(json: Array(old.utf8)).hitRate == 90)
        #expect(try VarnishStats(json: Array(new.utf8)).hitRate == 60)
        #expect(throws: ProbeParseError.self) { try VarnishStats(json: Array("{}".utf8)) }
    }

    @Test func phpFPMStatusWithSpacedKeys() throws {
        let json = #"{"pool":"www","process manager":"dynamic","start time":1767225600,"start since":3600,"accepted conn":1200,"listen queue":3,"max listen queue":9,"listen queue len":511,"idle processes":1,"active processes":9,"total processes":10,"max active processes":10,"max children reached":4,"slow requests":2}"#
        let status = try PHPFPMStatus(json: Array(json.utf8))
        #expect(status.activeProcesses == 9 && status.totalProcesses == 10)
        #expect(status.maxChildrenReached == 4 && status.listenQueue == 3 && status.slowRequests == 2)
    }

    @Test func mysqlStatusTable() {
        let status = MySQLStatus("Variable_name\tValue\nThreads_connected\t42\nSlow_queries\t17\nmax_connections\t151\n")
        #expect(status.number("threads_connected") == 42)
        #expect(status.number("Slow_queries") == 17)
        #expect(status.number("max_connections") == 151)
    }
}

@Suite(.serialized) struct RealRedisTests {
    /// A real redis-server on a free loopback port, for the duration of `body`.
    func withRedis(_ body: (_ port: Int) async throws -> Void) async throws {
        let port = freePort()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("redis-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let local = LocalExecutor()
        let started = try await local.run(CommandRequest(argv: [
            "redis-server", "--port", "\(port)", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--daemonize", "yes", "--dir", directory.path, "--pidfile", directory.appendingPathComponent("pid").path,
        ], timeout: 10))
        #expect(started.exitCode == 0, "redis-server did not start: \(started.output)")
        for _ in 0..<50 {
            if try await local.run(CommandRequest(argv: ["redis-cli", "-p", "\(port)", "PING"], timeout: 2)).output.hasPrefix("PONG") { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        do {
            try await body(port)
        } catch {
            _ = try? await local.run(CommandRequest(argv: ["redis-cli", "-p", "\(port)", "SHUTDOWN", "NOSAVE"], timeout: 5))
            throw error
        }
        _ = try await local.run(CommandRequest(argv: ["redis-cli", "-p", "\(port)", "SHUTDOWN", "NOSAVE"], timeout: 5))
    }

    @Test func hitRateFromRealHitsAndMisses() async throws {
        try await withRedis { port in
            let local = LocalExecutor()
            func cli(_ arguments: String...) async throws -> String {
                try await local.run(CommandRequest(argv: ["redis-cli", "-p", "\(port)"] + arguments, timeout: 5)).output
            }
            _ = try await cli("SET", "product:1", "cached")
            let before = RedisInfo(try await cli("INFO"))
            for _ in 0..<3 { _ = try await cli("GET", "product:1") }  // 3 hits
            _ = try await cli("GET", "product:2")  // 1 miss
            let after = RedisInfo(try await cli("INFO"))
            #expect(RedisInfo.hitRate(from: before, to: after) == 75)
            _ = try await cli("CONFIG", "SET", "maxmemory", "100mb")
            let limited = RedisInfo(try await cli("INFO", "memory"))
            #expect(limited.memoryPercent.map { $0 > 0 && $0 < 10 } == true)
        }
    }
}

@Suite struct ContainerStatsTests {
    @Test func dockerStatsJSONLine() throws {
        // `docker stats --no-stream --format '{{json .}}' acme-store-app` (Docker 24).
        let line = #"{"BlockIO":"12.3MB / 4.1MB","CPUPerc":"150.25%","Container":"acme-store-app","ID":"4b1f0e","MemPerc":"62.50%","MemUsage":"640MiB / 1GiB","Name":"acme-store-app","NetIO":"1.2MB / 3.4MB","PIDs":"37"}"#
        let stats = try DockerStats(json: line)
        #expect(stats.cpuPercentOfOneCore == 150.25 && stats.memoryPercent == 62.5)
        #expect(throws: ProbeParseError.self) { try DockerStats(json: "Error response from daemon: No such container: x") }
    }

    @Test func cgroupV2Files() throws {
        // `cat memory.current memory.max memory.events cpu.stat` in a container limited to 1 GiB.
        let output = """
            805306368
            1073741824
            low 0
            high 0
            max 12
            oom 3
            oom_kill 2
            oom_group_kill 0
            usage_usec 123456789
            user_usec 100000000
            system_usec 23456789
            nr_periods 0
            nr_throttled 0
            throttled_usec 0

            """
        let stats = try CgroupStats(output)
        #expect(stats.memoryPercent == 75 && stats.oomKills == 2 && stats.cpuMicroseconds == 123_456_789)
        #expect(try CgroupStats("1048576\nmax\noom_kill 0\nusage_usec 5\n").memoryLimit == nil)
        #expect(throws: ProbeParseError.self) { try CgroupStats("cat: /sys/fs/cgroup/memory.current: No such file or directory\n") }
    }

    @Test func dfOfARealDirectory() async throws {
        // The real `df -P -B1`, on this machine.
        let outcome = try await LocalExecutor().run(CommandRequest(argv: ["df", "-P", "-B1", "--", "/tmp"], timeout: 10))
        let usage = try DiskUsage(outcome.output)
        #expect(usage.sizeBytes > 0 && usage.usedBytes > 0 && usage.percent > 0 && usage.percent < 100, "\(outcome.output)")
        #expect(throws: ProbeParseError.self) { try DiskUsage("df: /nope: No such file or directory\n") }
    }
}
