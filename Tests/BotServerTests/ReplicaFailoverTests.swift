import BotCore
@testable import BotPostgres
import Foundation
import Testing
import TestSupport
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Two `perfbot serve` processes on one PostgreSQL. The leader, which also runs a job, is killed with SIGKILL: the
/// other takes the lead within one check interval, records the job `interrupted` and runs the one queued behind it,
/// and every Slack message queued by either replica is posted exactly once, those the leader held when it died too.
@Suite(.serialized) struct ReplicaFailoverTests {
    static let token = "replica-webhook-token-0123456789"
    /// Long enough that the whole suite's load on two cores (which delays every replica's timers and queries, by 5 s
    /// seen) stays far from it: the lease is 5 s, renewed every 1.25 s, so on an idle machine a replica takes over
    /// about 6 s after a kill at the latest.
    static let interval = 15.0

    /// An Alertmanager delivery of `names` firing for acme-store: each opens an issue and queues one Slack alert.
    static func alerts(_ names: [String]) -> Data {
        let alerts = names.map { name in
            #"{"status":"firing","labels":{"alertname":"\#(name)","store":"acme-store","severity":"warning"},"#
                + #""annotations":{"summary":"\#(name) on acme-store"},"startsAt":"2026-12-01T09:00:00Z","#
                + #""endsAt":"0001-01-01T00:00:00Z","fingerprint":"\#(name.lowercased())"}"#
        }
        return Data((#"{"version":"4","status":"firing","receiver":"perfbot","groupKey":"{}","alerts":["#
            + alerts.joined(separator: ",") + "]}").utf8)
    }

    static func post(_ body: Data, to bot: LiveBot) async throws -> Int {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(bot.port)/webhooks/alertmanager")!)
        request.httpMethod = "POST"
        request.httpBody = body
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        return (try await URLSession.shared.data(for: request).1 as? HTTPURLResponse)?.statusCode ?? 0
    }

    @Test func aKilledLeaderIsReplacedAndItsJobRecordedInterrupted() async throws {
        let slack = SlackStandIn()
        let url = try await PostgresTestDatabase.createURL("failover")
        let before = (1...6).map { "BeforeKill\($0)" }, after = (1...6).map { "AfterKill\($0)" }
        try await slack.serve { base in
            let first = try await LiveBot(stepSeconds: 30, extra: [
                "SLACK_BOT_TOKEN": "xoxb-live-test", "SLACK_API_URL": base + "/api", "SLACK_ALERTS_CHANNEL": "C0ALERTS",
                "PERFBOT_CHECK_INTERVAL": "\(Int(Self.interval))", "PERFBOT_WEBHOOK_TOKEN": Self.token,
            ], postgres: url)
            let second = try first.replica()
            let killed = try await first.serve { firstPID in
                for _ in 0..<50 where await !first.leads() { try await Task.sleep(for: .milliseconds(100)) }
                #expect(await first.leads(), "the first replica should lead")
                let survived = try await second.serve { secondPID in
                    #expect(await !second.leads())
                    // A job on the leader, and one queued behind it; alerts queued through the leader.
                    _ = try await first.command("run slow_step acme-store")
                    _ = try await first.waitForJob { $0.state == .running }
                    let queued = try await first.command("run cache_miss_storm acme-store")
                    #expect(queued.hasPrefix("⏳ Queued *Cache miss storm* on acme-store as job 2"), "\(queued)")
                    #expect(try await Self.post(Self.alerts(before), to: first) == 200)
                    // The leader is killed with alerts in hand: it claimed them all and sends them a second apart
                    // (Slack's pace for one channel). It dies between the first and the second, once the first is
                    // recorded sent.
                    try await PostgresPool.with(try PostgresEndpoint(url: url), connections: 1, logger: PostgresTestDatabase.logger) {
                        for _ in 0..<400 {
                            let first = try await $0.rows("SELECT status FROM outbox WHERE payload LIKE '%BeforeKill1 on%'").first
                            if try first?.decode(String.self) == "sent" { break }
                            try await Task.sleep(for: .milliseconds(25))
                        }
                    }
                    kill(firstPID, SIGKILL)
                    let killedAt = ContinuousClock.now
                    for _ in 0..<400 where await !second.leads() { try await Task.sleep(for: .milliseconds(50)) }
                    let takeover = ContinuousClock.now - killedAt
                    #expect(await second.leads(), "the second replica never took the lead")
                    #expect(takeover < .seconds(Self.interval), "took \(takeover) to take the lead")
                    // The dead replica's job is recorded interrupted, and the queued one runs on the survivor.
                    let interrupted = try await second.waitForJob(1, { $0.state.isFinal }, seconds: 20)
                    #expect(interrupted.state == .interrupted && interrupted.steps.isEmpty, "\(interrupted.state) \(interrupted.steps)")
                    let resumed = try await second.waitForJob(2, { $0.state.isFinal }, seconds: 20)
                    // `wp` does not exist on this host: its steps fail, but they ran, once.
                    #expect(resumed.state == .failed && resumed.steps.count == 2, "\(resumed.state) \(resumed.steps)")
                    #expect(try await Self.post(Self.alerts(after), to: second) == 200)
                    // Until the outbox is empty: the alerts, the interruption and the resumed job's outcome went out.
                    try await PostgresPool.with(try PostgresEndpoint(url: url), connections: 1, logger: PostgresTestDatabase.logger) {
                        let outbox = PostgresStore(database: $0, replica: "test")
                        for _ in 0..<150 where try await outbox.outboxEntries().contains(where: { $0.status == "pending" }) {
                            try await Task.sleep(for: .milliseconds(100))
                        }
                    }
                    kill(secondPID, SIGTERM)
                }
                #expect(survived == .exited(0))
            }
            #expect(killed == .signaled(SIGKILL))
        }
        let posted = await slack.received.filter { $0.path.hasSuffix("chat.postMessage") }.map(\.body)
        for name in before + after {
            #expect(posted.filter { $0.contains("\(name) on acme-store") }.count == 1, "\(name) posted \(posted.filter { $0.contains(name) }.count) times")
        }
        #expect(posted.filter { $0.contains("Job 1") && $0.contains("interrupted") }.count == 1)
        try await PostgresPool.with(try PostgresEndpoint(url: url), connections: 1, logger: PostgresTestDatabase.logger) { database in
            let outbox = try await PostgresStore(database: database, replica: "test").outboxEntries()
            #expect(!outbox.isEmpty && outbox.allSatisfy { $0.status == "sent" && $0.attempts == 1 }, "\(outbox)")
        }
    }

    /// SIGTERM to a replica whose step outlasts the lease: it drains as it would alone (the step finishes, the next
    /// does not start, the job is recorded `interrupted` with what ran), and the other replica, which sees it alive
    /// until its drain window ends, records nothing over it.
    @Test func aStoppingReplicaFinishesItsStepWithoutTheOtherInterruptingIt() async throws {
        let slack = SlackStandIn()
        let url = try await PostgresTestDatabase.createURL("draining")
        try await slack.serve { base in
            let first = try await LiveBot(stepSeconds: 12, extra: [
                "SLACK_BOT_TOKEN": "xoxb-live-test", "SLACK_API_URL": base + "/api", "SLACK_ALERTS_CHANNEL": "C0ALERTS",
                "PERFBOT_CHECK_INTERVAL": "\(Int(Self.interval))",
            ], postgres: url)
            let second = try first.replica()
            _ = try await second.serve { secondPID in
                let stopped = try await first.serve { firstPID in
                    _ = try await first.command("run slow_step acme-store")
                    _ = try await first.waitForJob { $0.state == .running }
                    kill(firstPID, SIGTERM)
                }
                #expect(stopped == .exited(0))
                let job = try await second.waitForJob(1, { $0.state.isFinal }, seconds: 5)
                #expect(job.state == .interrupted && job.steps.map(\.status) == [.succeeded], "\(job.state) \(job.steps)")
                // Long enough for the survivor's heartbeat to look at the stopped replica's job again.
                try await Task.sleep(for: .seconds(2))
                kill(secondPID, SIGTERM)
            }
        }
        // The job was the stopping replica's to record; the other one reports no interruption of its own.
        let reports = await slack.received.filter { $0.body.contains("Job 1") && $0.body.contains("interrupted") }
        #expect(reports.isEmpty, "\(reports.map(\.body))")
    }
}
