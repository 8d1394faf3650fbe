import BotChannels
import BotCore
import BotPlaybooks
import BotStore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Testing

/// Text from outside perfbot reaches Slack inert; the outbox waits instead of dropping; `/metrics` shows
/// the scheduler, the jobs and the outbox.
@Suite struct SafeOperationTests {
    let auth: HTTPFields = [.authorization: "Bearer \(webhookToken)", .contentType: "application/json"]

    func deliverer(_ bot: TestBot, api: String, mail: (@Sendable (CustomerMail) async throws -> Void)? = nil) -> OutboxDeliverer {
        OutboxDeliverer(store: bot.store, clock: bot.clock, slackAPI: api, slackToken: "xoxb-test-token",
                        logger: Logger(label: "test"), pacing: .zero, mail: mail)
    }

    @Test func anAlertCannotPingTheChannelOrDisguiseALink() async throws {
        let bot = try await TestBot(extra: ["SLACK_ALERTS_CHANNEL": "C0ALERTS"])
        let hostile = try sample("alertmanager-firing.json")
            .replacingOccurrences(of: "Redis hit rate below 80% on acme-store",
                                  with: "<!channel> wake up & see <https://evil.example|the dashboard>")
            .replacingOccurrences(of: "\"alertname\": \"RedisHitRateLow\",\n    \"severity\": \"warning\",\n    \"store\": \"acme-store\"",
                                  with: "\"alertname\": \"<!here>Redis\",\n    \"severity\": \"warning\",\n    \"store\": \"acme-store\"")
        try await bot.app.test(.router) { client in
            let response = try await client.execute(uri: "/webhooks/alertmanager", method: .post, headers: auth,
                                                    body: ByteBuffer(string: hostile))
            #expect(response.status == .ok)
        }
        let slack = SlackStandIn()
        try await slack.serve { base in
            _ = try await deliverer(bot, api: base + "/api").deliverDue()
        }
        let bodies = await slack.received.map(\.body)
        let alert = try #require(bodies.first { $0.contains("evil.example") }, "\(bodies)")
        #expect(alert.contains("&lt;!channel&gt; wake up &amp; see &lt;https://evil.example|the dashboard&gt;"))
        #expect(alert.contains("&lt;!here&gt;Redis"))
        #expect(!bodies.contains { $0.contains("<!channel>") || $0.contains("<!here>") || $0.contains("<https://evil") })
    }

    @Test func commandOutputCannotPingTheChannel() async throws {
        // The step fails after Slack's 3-second window, so its result goes to the response URL.
        let docker = try standInDocker("sleep 2.5\necho 'Error: <!channel> <https://evil.example|click here>'\nexit 3")
        let slack = SlackStandIn()
        try await slack.serve { base in
            let bot = try await TestBot(extra: ["SLACK_API_URL": base + "/api"], executors: ExecutorFactory(docker: docker))
            // Without the background services: no check cycle starts jobs of its own on the demo stores.
            try await bot.app.test(.live) { client in
                let body = TestBot.commandBody("run cache_miss_storm acme-store", user: "U0DEMOOPS")
                    .replacingOccurrences(of: "https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT%2F1%2Fx",
                                          with: (base + "/commands/T/1/x").addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")
                let response = try await client.execute(uri: "/slack/commands", method: .post,
                                                        headers: bot.slackHeaders(body), body: ByteBuffer(string: body))
                #expect(try json(response)["text"] as? String == "⏳ Running *Cache miss storm* on acme-store (2 steps) as job 1. "
                    + "The result will follow here.")
                _ = await bot.wiring.engine.outcome(of: 1)
            }
            // The late result waits in the outbox for its response URL.
            _ = try await deliverer(bot, api: base + "/api").deliverDue()
        }
        let result = try #require(await slack.received.first?.body)
        #expect(result.contains("❌ Check the Redis object cache — exit 3: Error: &lt;!channel&gt; &lt;https://evil.example|click here&gt;"),
                "\(result)")
        #expect(!result.contains("<!channel>") && !result.contains("<https://evil"))
    }

    @Test func withoutSMTPAProposalWaitsRatherThanBeingDropped() async throws {
        let bot = try await TestBot()
        try await bot.store.enqueue(.mail(Self.proposal), at: bot.clock.now)
        let outbox = deliverer(bot, api: "http://127.0.0.1:9/api")
        // Far more than the 8 attempts (about 35 minutes) after which a failing message is given up.
        for _ in 0..<20 {
            _ = try await outbox.deliverDue()
            bot.clock.advance(by: 301)
        }
        let entry = try #require(try await bot.store.outboxEntries().first)
        #expect(entry.status == "pending" && entry.attempts == 0)
        #expect(entry.lastError == "waiting: SMTP_URL is not set")
        #expect(try await bot.store.outboxPending() == ["email": 1])
    }

    @Test func aMessageGivenUpLosesItsTokenAndItsThreadGoesOnWithoutIt() async throws {
        let bot = try await TestBot()
        let slack = SlackStandIn()
        await slack.script([.init(status: 200, body: #"{"ok":false,"error":"channel_not_found"}"#)])
        try await slack.serve { base in
            // A proposal e-mail whose delivery keeps failing, and an alert thread whose first message is refused.
            try await bot.store.enqueue(.mail(Self.proposal), at: bot.clock.now)
            try await bot.store.enqueue(.slack("C0ALERTS", .text("head")), thread: .issue(7), at: bot.clock.now)
            try await bot.store.enqueue(.slack("C0ALERTS", .text("follow-up")), thread: .issue(7), at: bot.clock.now)
            let outbox = deliverer(bot, api: base + "/api", mail: { _ in throw SMTPFailure() })
            for _ in 0..<12 {
                _ = try await outbox.deliverDue()
                bot.clock.advance(by: 1000)
            }
        }
        let mail = try #require(try await bot.store.outboxListing(includeSent: true, limit: 10).first { $0.channel == "email" })
        #expect(mail.status == "failed")
        #expect(mail.message?.mail != nil && mail.message?.mail?.replyTo == nil, "the token outlived the message: \(String(describing: mail.message))")
        let bodies = await slack.received.map(\.body)
        #expect(bodies.count == 2)
        #expect(bodies.last?.contains("follow-up") == true && bodies.last?.contains("thread_ts") == false)
    }

    struct SMTPFailure: Error {}

    static let proposal = CustomerMail(
        to: "o@acme-store.example", store: StoreID("acme-store"), replyTo: "approve+abcdefghijklmnopqrstuvwxyz234567@fix.example.com",
        kind: .proposal(issue: "High memory", explanation: "Memory is high.", playbook: "High memory usage", steps: ["Flush"],
                        expiresAt: Date(timeIntervalSince1970: 1_800_000_000), requested: false))

    @Test func metricsShowTheSchedulerTheJobsAndTheOutbox() async throws {
        let bot = try await TestBot()
        try await bot.store.enqueue(.mail(Self.proposal), at: bot.clock.now)
        let report = try await bot.wiring.checkCycle(inline: true).run()
        bot.wiring.metrics.recordCycle(duration: .seconds(report.duration), checked: report.checked,
                                       errors: report.errors.count, completedAt: bot.clock.now)
        let router = try bot.wiring.commandRouter()
        _ = await router.route("optimize acme-store", user: SlackUserID("U0DEMOOPS")!, channel: nil, logger: Logger(label: "t"))
        try await bot.app.test(.router) { client in
            let text = String(buffer: try await client.execute(uri: "/metrics", method: .get).body)
            #expect(text.contains("perfbot_check_cycle_stores 3"))
            #expect(text.contains("perfbot_check_cycle_last_complete_timestamp_seconds 1800000000"))
            #expect(text.contains("perfbot_check_cycle_duration_seconds_count 1"))
            let counts = try await bot.store.jobCounts()
            #expect(counts.values.reduce(0, +) >= 1)
            for state in JobState.allCases {
                #expect(text.contains("perfbot_jobs{state=\"\(state.rawValue)\"} \(counts[state] ?? 0)"), "\(state)")
            }
            #expect(text.contains(#"perfbot_outbox_pending{channel="email"} 1"#))
            // The one replica on a SQLite file leads.
            #expect(text.contains("perfbot_leader 1"))
        }
    }
}
