import BotChannels
import BotCore
import BotServer
import BotStore
import CustomerChannels
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PerfbotApp
import Testing
import TestSupport

/// Every entry point answers 429 with `Retry-After` past its limit, counts it, and acts on nothing it refused;
/// each sender has its own token, and a store's token pushes that store only.
@Suite struct RateLimitTests {
    let json: HTTPFields = [.contentType: "application/json"]

    func metricBody(_ store: String, cpu: Int = 12) -> ByteBuffer {
        ByteBuffer(string: #"{"samples":[{"store":"\#(store)","at":"2027-01-15T07:59:30Z","metrics":{"cpu_percent":\#(cpu)}}]}"#)
    }

    func bearer(_ token: String) -> HTTPFields {
        [.contentType: "application/json", .authorization: "Bearer \(token)"]
    }

    func metricsText(_ client: some TestClientProtocol) async throws -> String {
        String(buffer: try await client.execute(uri: "/metrics", method: .get).body)
    }

    @Test func aTokenOverItsLimitIsAnswered429AndCounted() async throws {
        let bot = try await TestBot(extra: ["PERFBOT_RATE_SOURCE_TOKEN": "2/min"])
        try await bot.app.test(.router) { client in
            var statuses: [HTTPResponse.Status] = []
            var retryAfter: String?
            for cpu in 1...3 {
                let response = try await client.execute(uri: "/webhooks/metrics", method: .post, headers: bearer(webhookToken),
                                                        body: metricBody("acme-store", cpu: cpu))
                statuses.append(response.status)
                if response.status == .tooManyRequests {
                    retryAfter = response.headers[.retryAfter]
                    let answer = try BotServerTests.json(response)
                    #expect(answer["error"] as? String == "rate_limited")
                    #expect((answer["message"] as? String)?.contains("not acted on; send it again in 30 s") == true)
                }
            }
            #expect(statuses == [.ok, .ok, .tooManyRequests])
            #expect(retryAfter == "30")
            #expect(try await metricsText(client).contains(
                #"perfbot_rate_limited_total{route="/webhooks/metrics",key_kind="source_token"} 1"#))
            bot.clock.advance(by: 30)
            let later = try await client.execute(uri: "/webhooks/metrics", method: .post, headers: bearer(webhookToken),
                                                 body: metricBody("acme-store", cpu: 4))
            #expect(later.status == .ok)
        }
        // The refused push stored nothing: three of four were acted on.
        #expect(try await bot.store.deliveryCount(source: "metrics") == 3)
    }

    @Test func eachSlackUserHasTheirOwnLimit() async throws {
        let bot = try await TestBot(extra: ["PERFBOT_RATE_SLACK_USER": "2/min"])
        try await bot.app.test(.router) { client in
            func send(_ user: String) async throws -> TestResponse {
                let body = TestBot.commandBody("help", user: user)
                return try await client.execute(uri: "/slack/commands", method: .post, headers: bot.slackHeaders(body),
                                                body: ByteBuffer(string: body))
            }
            #expect(try await send("U0DEMOVEW").status == .ok)
            #expect(try await send("U0DEMOVEW").status == .ok)
            let refused = try await send("U0DEMOVEW")
            #expect(refused.status == .tooManyRequests && refused.headers[.retryAfter] == "30")
            #expect(try await send("U0DEMOOPS").status == .ok)
            #expect(try await metricsText(client).contains(
                #"perfbot_rate_limited_total{route="/slack/commands",key_kind="slack_user"} 1"#))
        }
        // The user is told once, by a reply to the command (queued for its response_url).
        let notices = try await bot.store.pendingMessages().filter { $0.message.slackText?.contains("faster than perfbot") == true }
        #expect(notices.count == 1)
    }

    @Test func aStatusLinkAndAnEmailSenderAreLimited() async throws {
        let bot = try await TestBot(extra: [
            "PERFBOT_RATE_STATUS_LINK": "2/min", "PERFBOT_RATE_EMAIL_CONTACT": "2/h",
            "PERFBOT_LINK_SECRET": "status-link-secret-0001", "PERFBOT_PUBLIC_URL": "https://perfbot.example.com",
            "PERFBOT_REPLY_DOMAIN": "fix.example.com", "PERFBOT_MAIL_AUTHSERV_ID": "mx.fix.example.com",
        ])
        let issuer = StatusLinkIssuer(link: try #require(bot.wiring.statusLink()), store: bot.store)
        let link = try await issuer.issue(for: StoreID("acme-store")!, contact: "owner@acme-store.example", now: bot.clock.now)
        let path = String(link.dropFirst("https://perfbot.example.com".count))
        try await bot.app.test(.router) { client in
            var statuses: [HTTPResponse.Status] = []
            for _ in 1...3 { statuses.append(try await client.execute(uri: path, method: .get).status) }
            #expect(statuses == [.ok, .ok, .tooManyRequests])
            let page = try await client.execute(uri: path, method: .get)
            #expect(page.headers[.retryAfter] != nil && String(buffer: page.body).contains("Nothing was changed"))

            var mails: [HTTPResponse.Status] = []
            for number in 1...3 {
                let raw = "From: Owner <owner@acme-store.example>\r\nTo: perfbot@fix.example.com\r\nSubject: status\r\n"
                    + "Message-ID: <m\(number)@acme-store.example>\r\n\r\nstatus\r\n"
                mails.append(try await client.execute(uri: "/email/inbound", method: .post,
                                                      headers: [.contentType: "message/rfc822", .authorization: "Bearer \(webhookToken)"],
                                                      body: ByteBuffer(string: raw)).status)
            }
            #expect(mails == [.ok, .ok, .tooManyRequests])
            let counted = try await metricsText(client)
            #expect(counted.contains(#"perfbot_rate_limited_total{route="/status/{store}",key_kind="status_link"} 2"#))
            #expect(counted.contains(#"perfbot_rate_limited_total{route="/email/inbound",key_kind="email_contact"} 1"#))
        }
        #expect(try await bot.store.deliveryCount(source: "raw_mail") == 2)
    }

    @Test func aStoreTokenPushesItsOwnStoreOnly() async throws {
        let own = "metrics-source-token-0001"
        let bot = try await TestBot(extra: ["PERFBOT_TOKEN_METRICS": own])
        let token = WebhookToken.generate()
        try await bot.store.issueStoreToken(digest: WebhookToken.digest(token), store: StoreID("acme-store")!, at: bot.clock.now)
        try await bot.app.test(.router) { client in
            func push(_ token: String, _ store: String, uri: String = "/webhooks/metrics") async throws -> TestResponse {
                try await client.execute(uri: uri, method: .post, headers: bearer(token), body: metricBody(store))
            }
            let foreign = try await push(token, "widgets-inc")
            #expect(foreign.status == .forbidden)
            #expect(try BotServerTests.json(foreign)["error"] as? String == "wrong_store")
            #expect(try await push(token, "acme-store").status == .ok)
            // The source's own token pushes any store; once it is set, the shared token no longer opens metrics...
            #expect(try await push(own, "widgets-inc").status == .ok)
            #expect(try await push(webhookToken, "widgets-inc").status == .unauthorized)
            // ...but still opens the senders that have none of their own, and a store token opens nothing else.
            let uptime = ByteBuffer(string: #"{"results":[{"store":"acme-store","at":"2027-01-15T07:59:30Z","up":true}]}"#)
            #expect(try await client.execute(uri: "/webhooks/uptime", method: .post, headers: bearer(webhookToken), body: uptime).status == .ok)
            #expect(try await client.execute(uri: "/webhooks/uptime", method: .post, headers: bearer(token), body: uptime).status == .unauthorized)
            _ = try await bot.store.revokeStoreTokens(store: StoreID("acme-store")!, at: bot.clock.now)
            #expect(try await push(token, "acme-store").status == .unauthorized)
        }
    }

    @Test func limitsAndTokensAreCheckedWhenRead() throws {
        #expect(RateLimit(parsing: "30/min") == RateLimit(30, per: 60))
        #expect(RateLimit(parsing: "5/s") == RateLimit(5, per: 1))
        for bad in ["fast", "0/min", "30/week", "-1/s", "30"] { #expect(RateLimit(parsing: bad) == nil) }
        #expect(throws: ConfigurationError.self) { try PerfbotConfiguration(values: ["PERFBOT_RATE_SLACK_USER": "lots"]) }
        #expect(throws: ConfigurationError.self) {
            try PerfbotConfiguration(values: ["PERFBOT_TOKEN_METRICS": "same-token-for-two-0001", "PERFBOT_TOKEN_UPTIME": "same-token-for-two-0001"])
        }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("perfbot-\(UUID().uuidString).yaml").path
        try "rate_limits:\n  slack_user: 5/s\ntokens:\n  grafana: grafana-token-00000001\n".write(toFile: file, atomically: true, encoding: .utf8)
        let loaded = try PerfbotConfiguration.load(environment: [:], file: file)
        #expect(loaded.rateLimits[.slackUser] == RateLimit(5, per: 1))
        #expect(loaded.sourceTokens[.grafana] == "grafana-token-00000001")
    }
}
