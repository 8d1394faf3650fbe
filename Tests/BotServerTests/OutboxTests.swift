import BotChannels
import BotCore
import BotStore
import Foundation
import Logging
import BotPlaybooks
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@Suite struct OutboxTests {
    func deliverer(_ bot: TestBot, api: String, pacing: Duration = .zero) -> OutboxDeliverer {
        OutboxDeliverer(store: bot.store, clock: bot.clock, slackAPI: api, slackToken: "xoxb-test-token",
                        logger: Logger(label: "test"), pacing: pacing)
    }

    @Test func messagesToOneChannelAreSpacedAboutASecondApart() async throws {
        let bot = try await TestBot()
        let slack = SlackStandIn()
        try await slack.serve { base in
            for index in 0..<3 {
                try await bot.store.enqueue(.slack("C0OPS0001", .text("\(index)")), at: bot.clock.now)
            }
            try await bot.store.enqueue(.slack("C0OTHER01", .text("other")), at: bot.clock.now)
            let started = ContinuousClock.now
            #expect(try await deliverer(bot, api: base + "/api", pacing: .seconds(1)).deliverDue() == 4)
            #expect(ContinuousClock.now - started >= .seconds(2))
        }
    }

    @Test func messagesAreDeliveredOnceThroughRetriesAndRateLimits() async throws {
        let bot = try await TestBot()
        let slack = SlackStandIn()
        await slack.script([
            .init(status: 429, headers: ["Retry-After": "7"], body: #"{"ok":false,"error":"ratelimited"}"#),
            .init(status: 500, body: "oops"),
            .init(status: 200, body: #"{"ok":false,"error":"channel_not_found"}"#),
        ])
        try await slack.serve { base in
            let outbox = deliverer(bot, api: base + "/api")
            for text in ["first", "second", "third"] {
                try await bot.store.enqueue(.slack("C0OPS0001", .text(text)), at: bot.clock.now)
            }
            #expect(try await outbox.deliverDue() == 0)  // 429, 500, refused
            var entries = try await bot.store.outboxEntries()
            #expect(entries.map(\.status) == ["pending", "pending", "failed"])
            #expect(entries[2].lastError == "channel_not_found")
            bot.clock.advance(by: 6)
            #expect(try await outbox.deliverDue() == 0)  // Retry-After not yet over; back-off of the 500 neither
            bot.clock.advance(by: 5)
            #expect(try await outbox.deliverDue() == 2)
            #expect(try await outbox.deliverDue() == 0)
            entries = try await bot.store.outboxEntries()
            #expect(entries.map(\.status) == ["sent", "sent", "failed"])
        }
        let received = await slack.received
        #expect(received.count == 5)
        #expect(received.allSatisfy { $0.path == "/api/chat.postMessage" && $0.authorization == "Bearer xoxb-test-token" })
        let delivered = received.suffix(2).compactMap { try? JSONSerialization.jsonObject(with: Data($0.body.utf8)) as? [String: Any] }
        #expect(delivered.compactMap { $0["text"] as? String }.sorted() == ["first", "second"])
        #expect(delivered.allSatisfy { $0["channel"] as? String == "C0OPS0001" && $0["blocks"] is [Any] })
    }

    /// A held fix's alert loses its Approve/Reject buttons once the proposal is decided elsewhere or closes:
    /// the update waits for the alert to go out, then `chat.update`s it in place with the outcome.
    @Test func anAlertUpdateWaitsForTheAlertAndReplacesItsButtons() async throws {
        let bot = try await TestBot()
        let slack = SlackStandIn()
        let alert = BotReply([.text("High memory on acme-store"),
                              .buttons([ReplyButton(label: "Approve", actionID: "fix_approve", value: "fix_abcdefgh23",
                                                    command: "/perf approve fix_abcdefgh23")])])
        await slack.script([.init(status: 500, body: "oops")])
        try await slack.serve { base in
            let outbox = deliverer(bot, api: base + "/api")
            try await bot.store.enqueue(.slack("C0ALERTS", alert), thread: .issue(7), at: bot.clock.now)
            try await bot.store.enqueue(Addressed(destination: "C0ALERTS", message: .alertOutcome("✅ Approved by o@a.example by e-mail")),
                                        thread: .issue(7), at: bot.clock.now)
            // The alert fails once: its update waits for it rather than going out first.
            #expect(try await outbox.deliverDue() == 0)
            bot.clock.advance(by: 11)
            #expect(try await outbox.deliverDue() == 2)
        }
        let received = await slack.received
        #expect(received.map(\.path) == ["/api/chat.postMessage", "/api/chat.postMessage", "/api/chat.update"])
        let update = try #require(received.last.flatMap { try? JSONSerialization.jsonObject(with: Data($0.body.utf8)) as? [String: Any] })
        #expect(update["ts"] as? String == "1767225601.000100" && update["channel"] as? String == "C0ALERTS")
        let blocks = update["blocks"] as? [[String: Any]] ?? []
        #expect(blocks.map { $0["type"] as? String } == ["section", "context"])
        #expect(received.last?.body.contains("Approved by o@a.example by e-mail") == true)
        #expect(!(received.last?.body.contains("fix_approve") ?? true))
    }

    @Test func anUnreachableSlackKeepsTheMessageForLater() async throws {
        let bot = try await TestBot()
        let outbox = deliverer(bot, api: "http://127.0.0.1:9/api")  // nothing listens on port 9
        try await bot.store.enqueue(.slack("C0OPS0001", .text("x")), at: bot.clock.now)
        #expect(try await outbox.deliverDue() == 0)
        let entry = try #require(try await bot.store.outboxEntries().first)
        #expect(entry.status == "pending" && entry.attempts == 1)
        #expect(entry.lastError?.hasPrefix("network") == true)
    }

    @Test func jobsAnswerInTimeOrLater() async throws {
        let jobs = JobRunner()
        let late = LateReplies()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await jobs.run() }
            let quick = await jobs.run(patience: .seconds(10), work: { .text("quick") }, late: { await late.add($0) })
            #expect(quick?.plainText == "quick")
            let slow = await jobs.run(patience: .milliseconds(50), work: {
                try? await Task.sleep(for: .seconds(2))
                return .text("slow")
            }, late: { await late.add($0) })
            #expect(slow == nil)
            for _ in 0..<100 where await late.replies.isEmpty { try await Task.sleep(for: .milliseconds(100)) }
            #expect(await late.replies.map(\.plainText) == ["slow"])
            group.cancelAll()
        }
    }
}

actor LateReplies {
    private(set) var replies: [BotReply] = []
    func add(_ reply: BotReply) { replies.append(reply) }
}

@Suite struct LongRunTests {
    /// A real slash command whose run outlasts Slack's limit: answered at once, the result posted to the
    /// command's response URL through the outbox, against the live server and a live Slack stand-in.
    @Test func aLongRunAnswersAtOnceAndPostsTheResultLater() async throws {
        let docker = try standInDocker("sleep 0.8\nexit 0")
        let slack = SlackStandIn()
        try await slack.serve { base in
            let bot = try await TestBot(extra: ["SLACK_API_URL": base + "/api"],
                                        executors: ExecutorFactory(docker: docker))
            try await bot.appWithServices.test(.live) { client in
                let body = TestBot.commandBody("optimize acme-store", user: "U0DEMOOPS")
                    .replacingOccurrences(of: "https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT%2F1%2Fx",
                                          with: (base + "/commands/T/1/x").addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")
                let started = Date()
                let response = try await client.execute(uri: "/slack/commands", method: .post,
                                                        headers: bot.slackHeaders(body), body: ByteBuffer(string: body))
                // Patience is 2 s, the run 4 s: the "⏳ Running" text below proves the answer did not wait for the run;
                // the bound only catches a hang (the suite runs MariaDB, Prometheus and others beside it).
                #expect(Date().timeIntervalSince(started) < 8)
                let first = try #require(try json(response)["text"] as? String)
                #expect(first.hasPrefix("⏳ Running *One-click optimize (WooCommerce)* on acme-store (5 steps) as job "))
                // The outbox polls on the bot's clock: each second moved lets it look again, until the run's result is sent.
                for _ in 0..<100 where await slack.received.isEmpty {
                    bot.clock.advance(by: 1)
                    try await Task.sleep(for: .milliseconds(100))
                }
            }
        }
        let received = await slack.received
        #expect(received.count == 1)
        #expect(received.first?.path == "/commands/T/1/x")
        #expect(received.first?.body.contains("One-click optimize (WooCommerce) · acme-store") == true)
        #expect(received.first?.body.contains(#""replace_original":false"#) == true)
    }
}


@Suite struct CrashRecoveryTests {
    /// `perfbot serve` is killed (SIGKILL) while it delivers, then started again: every message arrives.
    @Test func aKilledBotDeliversTheRestAfterARestart() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("perfbot-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let database = directory.appendingPathComponent("bot.sqlite").path
        let store = try SQLiteStore(path: database)
        let texts = (1...6).map { "message \($0)" }
        for text in texts {
            try await store.enqueue(.slack("C0OPS0001", .text(text)), at: Date())
        }
        let binary = repositoryPath(".build/debug/perfbot")
        let slack = SlackStandIn()
        try await slack.serve { base in
            try """
                PERFBOT_DATABASE: \(database)
                PERFBOT_PORT: 0
                PERFBOT_PLAYBOOKS: \(repositoryPath("Playbooks"))
                SLACK_BOT_TOKEN: xoxb-crash-test
                SLACK_API_URL: \(base)/api
                """.write(toFile: directory.appendingPathComponent("perfbot.yaml").path, atomically: true, encoding: .utf8)
            let serve = ["serve", "--config", directory.appendingPathComponent("perfbot.yaml").path]
            // About one message a second per channel: killed after a few.
            let killed = try await LocalExecutor().run(CommandRequest(argv: [binary] + serve, timeout: 4,
                                                                      workingDirectory: directory.path))
            #expect(killed.timedOut && killed.signal == 9)
            let delivered = await slack.received.count
            #expect(delivered > 0 && delivered < texts.count, "delivered \(delivered) before the kill")
            _ = try await LocalExecutor().run(CommandRequest(argv: [binary] + serve, timeout: 10, workingDirectory: directory.path))
        }
        let received = await slack.received.map(\.body)
        for text in texts {
            #expect(received.contains { $0.contains(text) }, "\(text) was lost")
        }
        // Sent is recorded after Slack's ok: a kill between the two can repeat one message, never lose one.
        #expect(received.count <= texts.count + 1)
        #expect(try await store.outboxEntries().allSatisfy { $0.status == "sent" })
    }
}
