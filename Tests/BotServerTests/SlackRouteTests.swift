import BotCore
import BotStore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@Suite struct SlackRouteTests {
    @Test func aSignedStoreCommandGetsTheStoreView() async throws {
        let bot = try await TestBot()
        try await bot.app.test(.router) { client in
            let body = TestBot.commandBody("store acme-store")
            let response = try await client.execute(uri: "/slack/commands", method: .post,
                                                    headers: bot.slackHeaders(body), body: ByteBuffer(string: body))
            #expect(response.status == .ok)
            let reply = try json(response)
            #expect(reply["response_type"] as? String == "ephemeral")
            let text = try #require(reply["text"] as? String)
            #expect(text.contains("acme-store · WooCommerce · premium plan"))
            #expect(text.contains("/ 100"))
            let blocks = try #require(reply["blocks"] as? [[String: Any]])
            #expect(blocks.first?["type"] as? String == "header")
        }
    }

    @Test func badSignaturesAre401WithJSONAndCounted() async throws {
        let bot = try await TestBot()
        try await bot.app.test(.router) { client in
            let body = TestBot.commandBody("fleet")
            let cases: [(HTTPFields, String)] = [
                (bot.slackHeaders(body, secret: "wrong-secret"), "bad_signature"),
                (bot.slackHeaders(body, at: t0.addingTimeInterval(-301)), "stale"),
                ([.contentType: "application/x-www-form-urlencoded"], "missing_headers"),
            ]
            for (headers, code) in cases {
                let response = try await client.execute(uri: "/slack/commands", method: .post, headers: headers,
                                                        body: ByteBuffer(string: body))
                #expect(response.status == .unauthorized)
                #expect(try json(response)["error"] as? String == code)
            }
            let tampered = try await client.execute(uri: "/slack/commands", method: .post, headers: bot.slackHeaders(body),
                                                    body: ByteBuffer(string: body + "&text=admin"))
            #expect(tampered.status == .unauthorized)
            let metrics = try await client.execute(uri: "/metrics", method: .get)
            let text = String(buffer: metrics.body)
            #expect(text.contains(#"perfbot_verification_failures_total{route="/slack/commands",reason="stale"} 1"#))
            #expect(text.contains(#"perfbot_verification_failures_total{route="/slack/commands",reason="bad_signature"} 2"#))
        }
        #expect(try await bot.store.deliveryCount(source: "slack_command") == 0)
    }

    @Test func wrongContentTypeIs415AndOversizedIs413() async throws {
        let bot = try await TestBot(bodyLimit: 2048)
        try await bot.app.test(.router) { client in
            let body = TestBot.commandBody("fleet")
            let wrongType = try await client.execute(uri: "/slack/commands", method: .post,
                                                     headers: bot.slackHeaders(body, contentType: "text/plain"),
                                                     body: ByteBuffer(string: body))
            #expect(wrongType.status == .unsupportedMediaType)
            #expect(try json(wrongType)["error"] as? String == "unsupported_media_type")
            // The media type is compared without case, parameters or the blanks around it.
            let spelled = try await client.execute(uri: "/slack/commands", method: .post,
                                                   headers: bot.slackHeaders(body, contentType: " Application/X-WWW-Form-URLEncoded\t; charset=utf-8"),
                                                   body: ByteBuffer(string: body))
            #expect(spelled.status == .ok)
            let prefixed = try await client.execute(uri: "/slack/commands", method: .post,
                                                    headers: bot.slackHeaders(body, contentType: "application/x-www-form-urlencodedx"),
                                                    body: ByteBuffer(string: body))
            #expect(prefixed.status == .unsupportedMediaType)
            let big = TestBot.commandBody(String(repeating: "x", count: 4000))
            let tooLarge = try await client.execute(uri: "/slack/commands", method: .post, headers: bot.slackHeaders(big),
                                                    body: ByteBuffer(string: big))
            #expect(tooLarge.status == .contentTooLarge)
            #expect(try json(tooLarge)["error"] as? String == "too_large")
        }
    }

    @Test func malformedCommandNamesTheField() async throws {
        let bot = try await TestBot()
        try await bot.app.test(.router) { client in
            let body = "command=%2Fperf&text=fleet"
            let response = try await client.execute(uri: "/slack/commands", method: .post, headers: bot.slackHeaders(body),
                                                    body: ByteBuffer(string: body))
            #expect(response.status == .badRequest)
            #expect(try json(response)["message"] as? String == "user_id: missing")
        }
    }

    /// A read-only command may be computed again, but the retry gets the first answer and one record.
    @Test func aRetriedCommandGetsTheFirstAnswerAndOneRecord() async throws {
        let bot = try await TestBot()
        try await bot.app.test(.router) { client in
            let body = TestBot.commandBody("fleet", trigger: "111.222.same")
            var headers = bot.slackHeaders(body)
            let first = try await client.execute(uri: "/slack/commands", method: .post, headers: headers,
                                                 body: ByteBuffer(string: body))
            headers[HTTPField.Name("X-Slack-Retry-Num")!] = "1"
            let retry = try await client.execute(uri: "/slack/commands", method: .post, headers: headers,
                                                 body: ByteBuffer(string: body))
            #expect(String(buffer: first.body) == String(buffer: retry.body))
            let metrics = String(buffer: try await client.execute(uri: "/metrics", method: .get).body)
            #expect(metrics.contains(#"perfbot_duplicate_deliveries_total{source="slack_command"} 1"#))
        }
        await bot.server.flushDeliveryRecords()
        #expect(try await bot.store.deliveryCount(source: "slack_command") == 1)
    }

    /// A read-only command is answered before its record is written (the recorder writes them in batches, so an answer
    /// never waits behind other writes); by the time the server has stopped, every one is written, each once.
    @Test func readOnlyCommandsAreRecordedAfterTheirAnswersAndAllBeforeTheServerStops() async throws {
        let bot = try await TestBot()
        try await bot.app.test(.live) { client in
            try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for index in 0..<24 {
                    group.addTask {
                        let body = TestBot.commandBody("fleet", trigger: "batch.\(index % 18)")
                        return try await client.execute(uri: "/slack/commands", method: .post, headers: bot.slackHeaders(body),
                                                        body: ByteBuffer(string: body)).status
                    }
                }
                for try await status in group { #expect(status == .ok) }
            }
        }
        // 18 distinct deliveries, 6 of them sent twice (within the per-user limit of the commands).
        #expect(try await bot.store.deliveryCount(source: "slack_command") == 18)
    }

    @Test func aViewerIsRefusedPolitelyAndAStrangerToo() async throws {
        let bot = try await TestBot()
        try await bot.app.test(.router) { client in
            let body = TestBot.commandBody("fleet", user: "U0NOBODY1")
            let response = try await client.execute(uri: "/slack/commands", method: .post, headers: bot.slackHeaders(body),
                                                    body: ByteBuffer(string: body))
            #expect(response.status == .ok)
            #expect((try json(response)["text"] as? String)?.contains("not on perfbot's list") == true)
        }
    }

    @Test func sslCheckIsAcknowledged() async throws {
        let bot = try await TestBot()
        try await bot.app.test(.router) { client in
            let body = "ssl_check=1&token=x"
            let response = try await client.execute(uri: "/slack/commands", method: .post, headers: bot.slackHeaders(body),
                                                    body: ByteBuffer(string: body))
            #expect(response.status == .ok)
        }
    }

    @Test func urlVerificationEchoesTheChallenge() async throws {
        let bot = try await TestBot()
        try await bot.app.test(.router) { client in
            let body = try sample("slack-event-url-verification.json")
            let response = try await client.execute(uri: "/slack/events", method: .post,
                                                    headers: bot.slackHeaders(body, contentType: "application/json"),
                                                    body: ByteBuffer(string: body))
            #expect(try json(response)["challenge"] as? String == "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P")
        }
    }

    @Test func anAppMentionGoesThroughTheRouterOnceEvenWhenRetried() async throws {
        let bot = try await TestBot()
        try await bot.app.test(.router) { client in
            let body = try sample("slack-event-app-mention.json")
            for retry in 0..<3 {
                var headers = bot.slackHeaders(body, contentType: "application/json")
                if retry > 0 { headers[HTTPField.Name("X-Slack-Retry-Num")!] = String(retry) }
                let response = try await client.execute(uri: "/slack/events", method: .post, headers: headers,
                                                        body: ByteBuffer(string: body))
                #expect(response.status == .ok)
            }
        }
        let queued = try await bot.store.pendingMessages()
        #expect(queued.count == 1)
        let answer = try #require(queued.first)
        #expect(answer.destination == "C0OPS0001")
        guard case let .post(reply, replyingTo) = answer.message else { Issue.record("not a post: \(answer.message)"); return }
        #expect(reply.plainText.contains("acme-store · WooCommerce · premium plan"))
        #expect(replyingTo == "1767225700.000200")
    }

    @Test func interactionsAreVerifiedDecodedAndRecorded() async throws {
        let bot = try await TestBot()
        try await bot.app.test(.router) { client in
            let body = try sample("slack-interaction.form")
            let response = try await client.execute(uri: "/slack/interactions", method: .post,
                                                    headers: bot.slackHeaders(body), body: ByteBuffer(string: body))
            #expect(response.status == .ok)
            let broken = "payload=%7B%22type%22%3A1%7D"
            let bad = try await client.execute(uri: "/slack/interactions", method: .post,
                                               headers: bot.slackHeaders(broken), body: ByteBuffer(string: broken))
            #expect(bad.status == .badRequest)
            #expect(try json(bad)["message"] as? String == "payload.type: expected a string")
        }
        #expect(try await bot.store.deliveryCount(source: "slack_interaction") == 1)
    }

    @Test func withoutASecretSlackRoutesAreClosedNotOpen() async throws {
        let bot = try await TestBot(slack: false)
        try await bot.app.test(.router) { client in
            let body = TestBot.commandBody("fleet")
            let response = try await client.execute(uri: "/slack/commands", method: .post, headers: bot.slackHeaders(body),
                                                    body: ByteBuffer(string: body))
            #expect(response.status == .serviceUnavailable)
            #expect(try json(response)["message"] as? String == "Slack requests: turned off until SLACK_SIGNING_SECRET is set.")
        }
    }
}

@Suite struct ApprovalButtonTests {
    func click(_ bot: TestBot, user: String, action: String, approval: String) throws -> String {
        let payload = #"{"type":"block_actions","user":{"id":"\#(user)"},"trigger_id":"1.2.\#(UUID().uuidString)","#
            + #""response_url":"https://hooks.slack.com/actions/T0BOT0001/444/xyz","container":{"type":"message","channel_id":"C0OPS0001"},"#
            + #""actions":[{"type":"button","action_id":"\#(action)","value":"\#(approval)","action_ts":"\#(Date().timeIntervalSince1970)"}]}"#
        return "payload=" + (payload.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")
    }

    @Test func anOperatorsClickDecidesAndReplacesTheOriginalMessage() async throws {
        let bot = try await TestBot()
        let approval = Approval(id: "fix_abcdefgh23", store: StoreID("acme-store")!, issueID: nil, playbook: "cache_miss_storm",
                                steps: ["Check the Redis object cache"], createdAt: t0, expiresAt: t0.addingTimeInterval(86400))
        try await bot.store.createApproval(approval, tokenHash: String(repeating: "a", count: 64))
        try await bot.app.test(.router) { client in
            let viewerClick = try click(bot, user: "U0DEMOVEW", action: "fix_reject", approval: approval.id)
            let refused = try await client.execute(uri: "/slack/interactions", method: .post,
                                                   headers: bot.slackHeaders(viewerClick), body: ByteBuffer(string: viewerClick))
            #expect(refused.status == .ok)
            let operatorClick = try click(bot, user: "U0DEMOOPS", action: "fix_reject", approval: approval.id)
            let decided = try await client.execute(uri: "/slack/interactions", method: .post,
                                                   headers: bot.slackHeaders(operatorClick), body: ByteBuffer(string: operatorClick))
            #expect(decided.status == .ok)
        }
        #expect(try await bot.store.approval(id: approval.id)?.status == .rejected)
        #expect(try await bot.store.approval(id: approval.id)?.decidedBy == "U0DEMOOPS")
        let responses = try await bot.store.pendingMessages().filter { $0.channel == "slack_response" }
        #expect(responses.count == 2)
        guard case let .response(refused, replaceRefused) = responses[0].message,
              case let .response(rejected, replaceRejected) = responses[1].message else {
            Issue.record("not responses: \(responses.map(\.message))")
            return
        }
        #expect(refused.plainText.contains("needs the operator role") && !replaceRefused)
        #expect(rejected.plainText.contains("❌ Rejected by <@U0DEMOOPS>") && replaceRejected)
        #expect(responses.allSatisfy { $0.destination == "https://hooks.slack.com/actions/T0BOT0001/444/xyz" })
    }
}
