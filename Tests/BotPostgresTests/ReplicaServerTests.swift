import BotCore
@testable import BotPostgres
import BotServer
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Testing
import TestSupport

/// Two replicas' HTTP servers on one PostgreSQL, over real HTTP on loopback: each verifies, records deliveries and
/// ingests, and a retry that reaches the other replica is still recognised and never acts twice.
@Suite struct ReplicaServerTests {
    static let token = "metrics-token-0123456789abcdef"
    static let alertToken = "alertmanager-token-0123456789ab"

    static func server(_ store: PostgresStore, clock: ManualClock) throws -> some ApplicationProtocol {
        var settings = ServerSettings()
        settings.sourceTokens = [.metrics: token, .alertmanager: alertToken]
        settings.alertsChannel = "#perf-alerts"
        let server = PerfbotServer(store: store, commands: try CommandRouter(plugins: [], access: AccessList()), clock: clock,
                                   settings: settings, metrics: ServerMetrics(), logger: Logger(label: "replica-\(store.replica)"),
                                   metricCatalogue: .core)
        return try server.makeApplication(host: "127.0.0.1", port: 0)
    }

    static func push(_ store: String, minute: Int, cpu: Int) -> ByteBuffer {
        let at = ISO8601DateFormatter().string(from: t0.addingTimeInterval(Double(minute) * 60 - 3600))
        return ByteBuffer(string: #"{"samples":[{"store":"\#(store)","at":"\#(at)","metrics":{"cpu_percent":\#(cpu),"memory_percent":50}}]}"#)
    }

    @Test func twoReplicasIngestAndRecognizeEachOthersRetries() async throws {
        try await PostgresTestDatabase.with("replicas", connections: 8) { database in
            let clock = ManualClock(t0)
            let (one, two) = (PostgresStore(database: database, replica: "r1"), PostgresStore(database: database, replica: "r2"))
            try await one.upsert([shop("acme-store"), shop("widgets-inc")], at: t0)
            let metrics: HTTPFields = [.contentType: "application/json", .authorization: "Bearer \(Self.token)"]
            let alerts: HTTPFields = [.contentType: "application/json", .authorization: "Bearer \(Self.alertToken)"]
            let firing = ByteBuffer(bytes: try Data(contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent()
                .appendingPathComponent("../../webhooks/alertmanager-firing.json")))
            try await Self.server(one, clock: clock).test(.live) { first in
                try await Self.server(two, clock: clock).test(.live) { second in
                    // A push, then its retry on the other replica: stored once, and the retry gets the first answer.
                    let push = Self.push("acme-store", minute: 1, cpu: 40)
                    let answer = try await first.execute(uri: "/webhooks/metrics", method: .post, headers: metrics, body: push)
                    #expect(answer.status == .ok)
                    let retry = try await second.execute(uri: "/webhooks/metrics", method: .post, headers: metrics, body: push)
                    #expect(retry.status == .ok)
                    #expect(String(buffer: retry.body) == String(buffer: answer.body))
                    // Each replica files what it took in; either files the other's.
                    #expect(try await two.fileInbox() <= 2)
                    #expect(try await database.count("metric_samples") == 2)
                    // A wrong token is refused before anything is read or recorded.
                    let refused = try await second.execute(uri: "/webhooks/metrics", method: .post,
                                                           headers: [.contentType: "application/json", .authorization: "Bearer wrong-token-0123456789"],
                                                           body: Self.push("acme-store", minute: 2, cpu: 1))
                    #expect(refused.status == .unauthorized)
                    // Forty pushes split between the replicas at once: every sample stored, every rollup whole.
                    try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                        for minute in 2..<42 {
                            let client: any TestClientProtocol = minute % 2 == 0 ? first : second
                            group.addTask {
                                try await client.execute(uri: "/webhooks/metrics", method: .post, headers: metrics,
                                                         body: Self.push(minute % 3 == 0 ? "widgets-inc" : "acme-store", minute: minute, cpu: minute)).status
                            }
                        }
                        for try await status in group { #expect(status == .ok) }
                    }
                    _ = try await one.fileInbox()
                    #expect(try await database.count("sample_inbox") == 0)
                    #expect(try await database.count("metric_samples") == 82)
                    #expect(try await database.count("sample_journal") == 82)
                    let counted = try await database.rows("SELECT SUM(count)::bigint FROM metric_rollups").first?.decode(Int.self)
                    #expect(counted == 82)
                    // An alert delivered to both replicas opens one issue and queues one message.
                    let opened = try await first.execute(uri: "/webhooks/alertmanager", method: .post, headers: alerts, body: firing)
                    #expect(opened.status == .ok)
                    let again = try await second.execute(uri: "/webhooks/alertmanager", method: .post, headers: alerts, body: firing)
                    #expect(again.status == .ok)
                    #expect(try await database.count("performance_issues") == 2, "acme-store's and widgets-inc's alert, once each")
                    #expect(try await one.outboxPending()["slack"] == 2)
                }
            }
            let deliveries = try await database.rows("SELECT source, retry_count FROM webhook_deliveries ORDER BY id")
                .map { try $0.decode((String, Int).self) }
            #expect(deliveries.count == 42)
            #expect(deliveries.first! == ("metrics", 1), "the retry was counted on the first delivery")
            #expect(deliveries.last! == ("alertmanager", 1))
        }
    }
}
