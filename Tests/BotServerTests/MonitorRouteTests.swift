import BotChannels
import BotCore
import BotStore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import TestSupport

@Suite struct MonitorRouteTests {
    let auth: HTTPFields = [.authorization: "Bearer \(webhookToken)", .contentType: "application/json"]

    @Test func alertmanagerOpensIssuesReportsUnknownStoresAndDedupes() async throws {
        let bot = try await TestBot(extra: ["SLACK_ALERTS_CHANNEL": "C0ALERTS"])
        try await bot.app.test(.router) { client in
            let firing = try sample("alertmanager-firing.json")
            let first = try json(try await client.execute(uri: "/webhooks/alertmanager", method: .post, headers: auth,
                                                          body: ByteBuffer(string: firing)))
            #expect(first["alerts"] as? Int == 3)
            #expect(first["opened"] as? Int == 2)
            #expect(first["truncated"] as? Int == 2)
            #expect(first["unknown_stores"] as? [String] == ["ghost-shop"])
            // Alertmanager re-sends the same group (repeat_interval) with a new groupKey order: same alerts, no new issues.
            let resent = firing.replacingOccurrences(of: "\"receiver\": \"perfbot\"", with: "\"receiver\": \"perfbot\" ")
            let second = try json(try await client.execute(uri: "/webhooks/alertmanager", method: .post, headers: auth,
                                                           body: ByteBuffer(string: resent)))
            #expect(second["opened"] as? Int == 0)
            #expect(second["duplicates"] as? Int == 3)
            let resolved = try json(try await client.execute(uri: "/webhooks/alertmanager", method: .post, headers: auth,
                                                             body: ByteBuffer(string: try sample("alertmanager-resolved.json"))))
            #expect(resolved["resolved"] as? Int == 1)
        }
        let open = try await bot.store.openIssues(store: nil).filter { $0.type.hasPrefix("alert:") }
        #expect(open.map(\.type) == ["alert:MySQLConnectionsHigh"])
        #expect(open.first?.severity == .critical)
        #expect(try await bot.store.unmatchedAlerts().map(\.label) == ["ghost-shop"])
        let alerts = try await bot.store.pendingMessages().compactMap(\.message.slackText)
        #expect(alerts.count == 3)
        #expect(alerts.contains { $0.contains("Resolved: *RedisHitRateLow* on acme-store") })
    }

    /// A silenced store's alerts still open and resolve its issues, but post nothing to Slack.
    @Test func alertsOfASilencedStoreOpenIssuesButPostNothing() async throws {
        let bot = try await TestBot(extra: ["SLACK_ALERTS_CHANNEL": "C0ALERTS"])
        _ = try await bot.store.addSilence(StoreID("acme-store")!, until: t0.addingTimeInterval(3600), reason: "deploy",
                                           by: "U0DEMOOPS", at: t0.addingTimeInterval(-60))
        try await bot.app.test(.router) { client in
            let first = try json(try await client.execute(uri: "/webhooks/alertmanager", method: .post, headers: auth,
                                                          body: ByteBuffer(string: try sample("alertmanager-firing.json"))))
            #expect(first["opened"] as? Int == 2)
            #expect(first["silenced_stores"] as? [String] == ["acme-store"])
        }
        let open = try await bot.store.openIssues(store: StoreID("acme-store")!).filter { $0.type.hasPrefix("alert:") }
        #expect(open.map(\.type) == ["alert:RedisHitRateLow"])
        // Only the other store's alert is posted.
        let posted = try await bot.store.pendingMessages().compactMap(\.message.slackText)
        #expect(posted.count == 1 && posted.allSatisfy { $0.contains("MySQLConnectionsHigh") && !$0.contains("acme-store") }, "\(posted)")
    }

    @Test func malformedAndWrongVersionAlertsAreRefusedClearly() async throws {
        let bot = try await TestBot()
        try await bot.app.test(.router) { client in
            let missing = try await client.execute(uri: "/webhooks/alertmanager", method: .post, headers: auth,
                                                   body: ByteBuffer(string: #"{"version":"4","alerts":[{"labels":{}}]}"#))
            #expect(missing.status == .badRequest)
            #expect(try json(missing)["message"] as? String == "alerts[0].status: missing")
            let version = try await client.execute(uri: "/webhooks/alertmanager", method: .post, headers: auth,
                                                   body: ByteBuffer(string: #"{"version":"3","alerts":[]}"#))
            #expect(version.status == .unprocessableContent)
        }
    }

    @Test func grafanaIsAcceptedWithItsHMACInsteadOfTheToken() async throws {
        let secret = "grafana-hmac-secret-example"
        let bot = try await TestBot(extra: ["GRAFANA_HMAC_SECRET": secret])
        try await bot.app.test(.router) { client in
            let body = try sample("grafana-firing.json")
            let signature = GrafanaSignatureVerifier.sign(body: Array(body.utf8), secret: secret)
            let signed = try await client.execute(
                uri: "/webhooks/grafana", method: .post,
                headers: [.contentType: "application/json", HTTPField.Name("X-Grafana-Alerting-Signature")!: signature],
                body: ByteBuffer(string: body))
            #expect(try json(signed)["opened"] as? Int == 1)
            let forged = try await client.execute(
                uri: "/webhooks/grafana", method: .post,
                headers: [.contentType: "application/json", HTTPField.Name("X-Grafana-Alerting-Signature")!: String(repeating: "0", count: 64)],
                body: ByteBuffer(string: body))
            #expect(forged.status == .unauthorized)
            let bearer = try await client.execute(uri: "/webhooks/grafana", method: .post, headers: auth, body: ByteBuffer(string: body))
            #expect(bearer.status == .ok)
        }
        #expect(try await bot.store.openIssues(store: StoreID("widgets-inc")!).contains { $0.type == "alert:HighTTFB" })
    }

    @Test func lighthouseReportsOfSeveralMegabytesAreStoredByStoreOrURL() async throws {
        let bot = try await TestBot()
        try await bot.app.test(.router) { client in
            var report = try JSONSerialization.jsonObject(with: Data(try sample("lighthouse-report.json").utf8)) as? [String: Any] ?? [:]
            report["fullPageScreenshot"] = ["screenshot": ["data": String(repeating: "A", count: 3_000_000)]]
            let big = try JSONSerialization.data(withJSONObject: report)
            #expect(big.count > 3_000_000)
            let byURL = try await client.execute(uri: "/webhooks/lighthouse", method: .post, headers: auth,
                                                 body: ByteBuffer(bytes: big))
            #expect(byURL.status == .ok)
            let stored = try json(byURL)
            #expect(stored["store"] as? String == "acme-store")
            #expect(stored["performance_score"] as? Int == 62)
            #expect(stored["lcp_ms"] as? Double == 4120.7)
            #expect(stored["ttfb_ms"] as? Double == 612.3)
            let named = try await client.execute(uri: "/webhooks/lighthouse?store=widgets-inc", method: .post, headers: auth,
                                                 body: ByteBuffer(string: try sample("lighthouse-report.json")))
            #expect(try json(named)["store"] as? String == "widgets-inc")
            let junk = try await client.execute(uri: "/webhooks/lighthouse", method: .post, headers: auth,
                                                body: ByteBuffer(string: #"{"audits":{}}"#))
            #expect(junk.status == .badRequest)
        }
        #expect(try await bot.store.lighthouseProbes(of: StoreID("acme-store")!).map(\.lcp) == [4121])
    }

    @Test func uptimeResultsBecomeSamples() async throws {
        let bot = try await TestBot()
        try await bot.app.test(.router) { client in
            let result = try json(try await client.execute(uri: "/webhooks/uptime", method: .post, headers: auth,
                                                           body: ByteBuffer(string: try sample("uptime.json"))))
            #expect(result["accepted"] as? Int == 3)
        }
        let at = Date(timeIntervalSince1970: 1_795_712_400)
        #expect(try await bot.store.metrics(of: StoreID("widgets-inc")!, asOf: at, lookback: 60)[.uptimePercent] == 0)
    }
}
