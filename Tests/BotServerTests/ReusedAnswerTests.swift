import BotCore
import BotStore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// A command that shows what is stored may be answered as the same question was a moment ago, but never once
/// something was stored since, never past a second, and never for someone else.
@Suite struct ReusedAnswerTests {
    let auth: HTTPFields = [.authorization: "Bearer \(webhookToken)", .contentType: "application/json"]

    func ask(_ client: some TestClientProtocol, _ bot: TestBot, _ text: String, user: String = "U0DEMOADM",
             trigger: String = UUID().uuidString) async throws -> String {
        let body = TestBot.commandBody(text, user: user, trigger: trigger)
        let response = try await client.execute(uri: "/slack/commands", method: .post, headers: bot.slackHeaders(body),
                                                body: ByteBuffer(string: body))
        #expect(response.status == .ok)
        return try #require(try json(response)["text"] as? String)
    }

    func reused(_ client: some TestClientProtocol) async throws -> Int {
        let metrics = String(buffer: try await client.execute(uri: "/metrics", method: .get).body)
        guard let line = metrics.split(separator: "\n").first(where: { $0.hasPrefix("perfbot_command_answers_reused_total ") }),
              let count = Int(line.split(separator: " ").last ?? "") else { return 0 }
        return count
    }

    @Test func theSameQuestionIsAnsweredAgainOnlyWhileNothingWasStored() async throws {
        let bot = try await TestBot()
        // The demo fleet's newest samples are at t0; half a minute later, a pushed sample is the newest.
        bot.clock.advance(by: 30)
        try await bot.app.test(.router) { client in
            let first = try await ask(client, bot, "store acme-store")
            #expect(try await ask(client, bot, "store acme-store") == first)
            #expect(try await reused(client) == 1)

            // Someone else asking, or asking something else, is answered afresh.
            _ = try await ask(client, bot, "store acme-store", user: "U0DEMOOPS")
            _ = try await ask(client, bot, "store magento-demo")
            #expect(try await reused(client) == 1)

            // A pushed sample is shown at once: the push stored something, so the kept answer is not given.
            let push = #"{"samples":[{"store":"acme-store","at":"2027-01-15T08:00:20Z","metrics":{"cpu_percent":97.5}}]}"#
            let pushed = try await client.execute(uri: "/webhooks/metrics", method: .post, headers: auth,
                                                  body: ByteBuffer(string: push))
            #expect(try json(pushed)["accepted"] as? Int == 1)
            let afterPush = try await ask(client, bot, "store acme-store")
            #expect(afterPush != first)
            #expect(afterPush.contains("CPU 97.5%"), "\(afterPush)")
            #expect(try await reused(client) == 1)

            // An admin's change through a command is shown at once too.
            let changed = try await ask(client, bot, "automation acme-store level 3")
            #expect(changed.contains("3"), "\(changed)")
            let afterChange = try await ask(client, bot, "store acme-store")
            #expect(afterChange.contains("automation level 3"), "\(afterChange)")
            #expect(try await reused(client) == 1)

            // Within the second it is reused; a second later it is built again (it tells times to the second).
            #expect(try await ask(client, bot, "store acme-store") == afterChange)
            #expect(try await reused(client) == 2)
            bot.clock.advance(by: 1)
            _ = try await ask(client, bot, "store acme-store")
            #expect(try await reused(client) == 2)
        }
        // Every question asked is recorded, reused answers included, each once.
        await bot.server.flushDeliveryRecords()
        #expect(try await bot.store.deliveryCount(source: "slack_command") == 9)
    }

    /// A command that reads live, from a store's container, is never answered from a kept answer.
    @Test func onlyCommandsThatShowWhatIsStoredAreKept() async throws {
        let bot = try await TestBot()
        let router = try bot.wiring.commandRouter()
        #expect(router.effect(of: "store acme-store") == .showsStored)
        #expect(router.effect(of: "fleet --sort cpu") == .showsStored)
        #expect(router.effect(of: "help") == .showsStored)
        #expect(router.effect(of: "settings acme-store") == .reads)
        #expect(router.effect(of: "automation acme-store") == .reads)
        #expect(router.effect(of: "automation acme-store level 3") == .acts)
        #expect(router.effect(of: "no-such-command") == .reads)
    }
}
