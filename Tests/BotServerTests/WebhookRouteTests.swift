import BotCore
import BotStore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@Suite struct WebhookRouteTests {
    let auth: HTTPFields = [.authorization: "Bearer \(webhookToken)", .contentType: "application/json"]

    @Test func aMetricBatchIsStoredAndUnknownsAreReportedBack() async throws {
        let bot = try await TestBot()
        try await bot.app.test(.router) { client in
            // The sample's times are 2026-11-26T17:00Z; the bot's clock is later, so none is "in the future".
            let response = try await client.execute(uri: "/webhooks/metrics", method: .post, headers: auth,
                                                    body: ByteBuffer(string: try sample("metrics.json")))
            #expect(response.status == .ok)
            let result = try json(response)
            #expect(result["accepted"] as? Int == 10)
            #expect(result["unknown_stores"] as? [String] == ["no-such-store"])
            #expect(result["unknown_metrics"] as? [String] == ["gpu_percent"])
        }
        let past = try await bot.store.metrics(of: StoreID("acme-store")!, asOf: Date(timeIntervalSince1970: 1_795_712_460),
                                               lookback: 60)
        #expect(past[.memoryPercent] == 92)
    }

    /// A pack's own metric is a metric like the core's: accepted on push and read back with its freshness.
    @Test func aPacksMetricIsAcceptedAndReadBack() async throws {
        let bot = try await TestBot()
        try await bot.app.test(.router) { client in
            let body = #"{"samples":[{"store":"acme-store","at":"2027-01-15T07:00:00Z","metrics":{"autoload_bytes":1240000,"queue_backlog":3}}]}"#
            let response = try await client.execute(uri: "/webhooks/metrics", method: .post, headers: auth, body: ByteBuffer(string: body))
            #expect(try json(response)["accepted"] as? Int == 1)
            #expect(try json(response)["unknown_metrics"] as? [String] == ["queue_backlog"])
        }
        // Read an hour later: WordPress's autoload size is read rarely and stays current for two hours.
        let latest = try await bot.store.metrics(of: StoreID("acme-store")!, asOf: Date(timeIntervalSince1970: 1_800_000_000),
                                                 lookback: bot.store.metrics.longestFreshness)
        let autoload = try #require(latest.values.keys.first { $0.rawValue == "autoload_bytes" })
        #expect(latest[autoload] == 1_240_000)
        #expect(autoload.freshness == 2 * 3600 && autoload.unit == "bytes" && autoload.plainName.contains("WordPress"))
    }

    @Test func aResentBatchActsOnce() async throws {
        let bot = try await TestBot()
        try await bot.app.test(.router) { client in
            var headers = auth
            headers[HTTPField.Name("Idempotency-Key")!] = "batch-0001"
            let body = #"{"samples":[{"store":"acme-store","at":"2027-01-15T07:59:30Z","metrics":{"cpu_percent":12}}]}"#
            let first = try await client.execute(uri: "/webhooks/metrics", method: .post, headers: headers, body: ByteBuffer(string: body))
            let second = try await client.execute(uri: "/webhooks/metrics", method: .post, headers: headers, body: ByteBuffer(string: body))
            #expect(try json(first)["accepted"] as? Int == 1)
            #expect(String(buffer: first.body) == String(buffer: second.body))
        }
        #expect(try await bot.store.deliveryCount(source: "metrics") == 1)
    }

    @Test func badSamplesAreRejectedOneByOne() async throws {
        let bot = try await TestBot()
        try await bot.app.test(.router) { client in
            let body = #"""
            {"samples":[{"store":"Bad Store","at":"2027-01-15T07:59:00Z","metrics":{}},
                        {"store":"acme-store","at":"yesterday","metrics":{"cpu_percent":1}},
                        {"store":"acme-store","at":"2027-01-16T00:00:00Z","metrics":{"cpu_percent":1}},
                        {"store":"acme-store","at":"2027-01-15T07:59:30.250Z","metrics":{"cpu_percent":250,"disk_percent":140,"memory_percent":10001}}]}
            """#
            let response = try await client.execute(uri: "/webhooks/metrics", method: .post, headers: auth,
                                                    body: ByteBuffer(string: body))
            let result = try json(response)
            let reasons = (result["rejected"] as? [[String: Any]] ?? []).compactMap { $0["reason"] as? String }
            #expect(reasons == ["store is not a store name", "at is not an ISO 8601 time such as 2026-11-26T17:00:00Z",
                                "at is in the future", "disk_percent = 140.0 is out of range",
                                "memory_percent = 10001.0 is out of range"])
            // A container at 2.5 times its CPU allocation is a real reading (kept up to 10,000 %); a disk is never 140 % full.
            #expect(result["accepted"] as? Int == 1)
        }
    }

    @Test func malformedJSONNamesTheField() async throws {
        let bot = try await TestBot()
        try await bot.app.test(.router) { client in
            let cases = [
                (#"{"samples":[{"store":"acme-store","at":"2027-01-15T07:59:00Z","metrics":{"cpu_percent":"high"}}]}"#,
                 "samples[0].metrics.cpu_percent: expected a number"),
                (#"{"samples":[{"at":"2027-01-15T07:59:00Z","metrics":{}}]}"#, "samples[0].store: missing"),
                ("{", "body: is not valid JSON"),
                ("[]", "body: expected an object or list"),
            ]
            for (body, message) in cases {
                let response = try await client.execute(uri: "/webhooks/metrics", method: .post, headers: auth,
                                                        body: ByteBuffer(string: body))
                #expect(response.status == .badRequest)
                #expect(try json(response)["message"] as? String == message)
            }
        }
    }

    @Test func aMissingOrWrongTokenIs401BeforeTheBodyIsRead() async throws {
        let bot = try await TestBot()
        try await bot.app.test(.router) { client in
            for header in ["Bearer nope", "", "Basic \(webhookToken)"] {
                let response = try await client.execute(
                    uri: "/webhooks/metrics", method: .post,
                    headers: [.authorization: header, .contentType: "application/json"], body: ByteBuffer(string: "{"))
                #expect(response.status == .unauthorized)
                #expect(try json(response)["error"] as? String == "bad_token")
            }
        }
        #expect(try await bot.store.deliveryCount(source: "metrics") == 0)
    }

    @Test func unknownRoutesAndMethodsAnswerInJSON() async throws {
        let bot = try await TestBot()
        try await bot.app.test(.router) { client in
            let missing = try await client.execute(uri: "/webhooks/nope", method: .post, headers: auth)
            #expect(missing.status == .notFound)
            #expect(try json(missing)["error"] as? String == "not_found")
            let health = try await client.execute(uri: "/healthz", method: .get)
            #expect(try json(health)["status"] as? String == "ok")
        }
    }

    @Test func hostileBodiesNeverCrashTheServer() async throws {
        let bot = try await TestBot()
        try await bot.app.test(.router) { client in
            var random = SystemRandomNumberGenerator()
            for round in 0..<60 {
                let length = Int.random(in: 0...600, using: &random)
                let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &random) }
                let body = round % 2 == 0 ? String(decoding: bytes, as: UTF8.self)
                    : "payload=" + String(decoding: bytes.map { $0 % 94 + 33 }, as: UTF8.self)
                for route in ["/slack/commands", "/slack/interactions", "/slack/events", "/webhooks/metrics"] {
                    var headers = route.hasPrefix("/slack") ? bot.slackHeaders(body) : auth
                    if route == "/slack/events" { headers[.contentType] = "application/json" }
                    let response = try await client.execute(uri: route, method: .post, headers: headers,
                                                            body: ByteBuffer(string: body))
                    #expect(response.status.code < 500, "\(route) answered \(response.status) to round \(round)")
                }
            }
        }
    }
}

@Suite struct LiveServerTests {
    /// The real server on a loopback port with a real SQLite file, through a real HTTP client.
    @Test func endToEndOverLoopback() async throws {
        let bot = try await TestBot()
        try await bot.app.test(.live) { client in
            let body = TestBot.commandBody("fleet --sort cpu")
            let command = try await client.execute(uri: "/slack/commands", method: .post, headers: bot.slackHeaders(body),
                                                   body: ByteBuffer(string: body))
            #expect(command.status == .ok)
            let text = try #require(try json(command)["text"] as? String)
            #expect(text.contains("Fleet overview"))
            #expect(text.contains("Sorted by cpu."))
            bot.clock.advance(by: 30)
            let push = #"{"samples":[{"store":"acme-store","at":"2027-01-15T08:00:20Z","metrics":{"memory_percent":97}}]}"#
            let pushed = try await client.execute(
                uri: "/webhooks/metrics", method: .post,
                headers: [.authorization: "Bearer \(webhookToken)", .contentType: "application/json"],
                body: ByteBuffer(string: push))
            #expect(try json(pushed)["accepted"] as? Int == 1)
            let after = TestBot.commandBody("store acme-store")
            let store = try await client.execute(uri: "/slack/commands", method: .post, headers: bot.slackHeaders(after),
                                                 body: ByteBuffer(string: after))
            #expect((try json(store)["text"] as? String)?.contains("Memory 97%") == true)
        }
        #expect(try await bot.store.latestMetrics(stores: nil)[StoreID("acme-store")!]?[.memoryPercent] == 97)
    }
}
