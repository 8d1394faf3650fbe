import BotCore
import BotPostgres
import BotStore
import Foundation
import Subprocess
import Synchronization
import Testing
import TestSupport
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `perfbot serve` is killed (SIGKILL) while metric pushes are in flight: every sample it acknowledged is stored
/// when the file is opened again (on PostgreSQL, when a replica starts), rolled up and journaled exactly once.
@Suite struct IngestCrashTests {
    @Test func aKilledBotLosesNoAcknowledgedSample() async throws {
        try await killMidStream(postgres: nil)
    }

    @Test func aKilledReplicaLosesNoAcknowledgedSample() async throws {
        try await killMidStream(postgres: try await PostgresTestDatabase.createURL("ingest-crash"))
    }

    func killMidStream(postgres: String?) async throws {
        let token = "push-token-\(UUID().uuidString)"
        let bot = try await LiveBot(stepSeconds: 1, extra: ["PERFBOT_WEBHOOK_TOKEN": token,
                                                            "PERFBOT_RATE_SOURCE_TOKEN": "100000/min"], postgres: postgres)
        let acknowledged = Acknowledged()
        let base = Date().addingTimeInterval(-60).timeIntervalSince1970.rounded(.down)
        let killed = try await bot.serve { pid in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for sender in 0..<3 {
                    group.addTask {
                        // Each push: one minute of its own, ten metrics of acme-store.
                        for index in stride(from: sender, to: 2000, by: 3) {
                            let at = Date(timeIntervalSince1970: base - Double(index) * 60)
                            let body = #"{"samples":[{"store":"acme-store","at":"\#(at.formatted(.iso8601))","metrics":{"#
                                + (0..<10).map { #""\#(Self.metrics[$0])":\#(index % 50 + $0)"# }.joined(separator: ",") + "}}]}"
                            var request = URLRequest(url: URL(string: "http://127.0.0.1:\(bot.port)/webhooks/metrics")!)
                            request.httpMethod = "POST"
                            request.httpBody = Data(body.utf8)
                            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
                            request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
                            guard let (_, response) = try? await URLSession.shared.data(for: request) else { return }
                            if (response as? HTTPURLResponse)?.statusCode == 200 { acknowledged.list.withLock { $0.append(index) } }
                            // Paced, so the other suites running beside this one keep their share of the machine.
                            try await Task.sleep(for: .milliseconds(5))
                        }
                    }
                }
                // Killed mid-stream, after a hundred and fifty pushes.
                while acknowledged.list.withLock({ $0.count }) < 150 { try await Task.sleep(for: .milliseconds(5)) }
                kill(pid, SIGKILL)
                try await group.waitForAll()
            }
        }
        #expect(killed == .signaled(SIGKILL))
        let indexes = acknowledged.list.withLock { $0 }
        guard let postgres else { return try await verify(SQLiteStore(path: bot.database), acknowledged: indexes, base: base) }
        try await PostgresPool.with(try PostgresEndpoint(url: postgres), logger: PostgresTestDatabase.logger) { pool in
            // What a replica does as it starts: files what the killed one acknowledged and left in the inbox.
            let store = PostgresStore(database: pool, replica: "restarted")
            try await store.fileInbox()
            try await verify(store, acknowledged: indexes, base: base)
        }
    }

    func verify(_ store: any SampleReader & MetricReader, acknowledged indexes: [Int], base: TimeInterval) async throws {
        let acme = StoreID("acme-store")!
        let from = Date(timeIntervalSince1970: base - 2000 * 60), to = Date(timeIntervalSince1970: base + 1)
        for (offset, name) in Self.metrics.enumerated() {
            let metric = try #require(MetricCatalogue.core.metric(named: name))
            let stored = Dictionary(uniqueKeysWithValues: try await store.samples(metric, of: acme, from: from, to: to)
                .map { (Int(($0.at.timeIntervalSince1970 - base) / -60), $0.value) })
            for index in indexes {
                #expect(stored[index] == Double(index % 50 + offset), "\(name) of push \(index) was lost")
            }
        }
        // Each stored sample is in its hour's rollup once.
        let stored = try await store.samples(.cpuPercent, of: acme, from: from, to: to)
        var counted = 0
        for hour in Set(stored.map { Int($0.at.timeIntervalSince1970) / 3600 }) {
            let start = Date(timeIntervalSince1970: Double(hour * 3600))
            let means = try await store.hourlyMeans(.cpuPercent, of: acme, from: start, to: start.addingTimeInterval(3600))
            let inHour = stored.filter { Int($0.at.timeIntervalSince1970) / 3600 == hour }
            #expect(means.first?.value == inHour.map(\.value).reduce(0, +) / Double(inHour.count))
            counted += 1
        }
        #expect(counted > 0)
    }

    final class Acknowledged: Sendable {
        let list = Mutex<[Int]>([])
    }

    static let metrics = ["cpu_percent", "memory_percent", "disk_percent", "ttfb_ms", "redis_hit_rate", "slow_query_count",
                          "slow_query_3s_count", "active_connections", "uptime_percent", "requests"]
}
