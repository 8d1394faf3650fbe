import BotCore
@testable import BotStore
import Foundation
import GRDB
import Testing

/// Messages queued before the outbox stored typed values are read once into the values they meant.
@Suite struct TypedOutboxMigrationTests {
    @Test func queuedMessagesOfTheEarlierFormBecomeTypedOnes() async throws {
        let path = try temporaryDatabase()
        do {
            let pool = try DatabasePool(path: path)
            try Migrations.migrator().migrate(pool, upTo: "v13-job-kinds")
            try await pool.write { db in
                let rows: [(String, String, String, String)] = [
                    ("slack", "C0ALERTS", #"{"channel":"C0ALERTS","text":"🟠 High memory","blocks":[]}"#, "pending"),
                    ("slack", "C0ALERTS", #"{"update_alert":"✅ Approved"}"#, "pending"),
                    ("slack_response", "https://hooks.slack.com/x", #"{"response_type":"in_channel","text":"done","replace_original":true}"#, "pending"),
                    ("email", "o@acme.example", #"{"template":"fix_applied","to":"o@acme.example","store":"acme-store","playbook":"High memory usage","steps":["Flush: done"]}"#, "pending"),
                    ("email", "o@acme.example", #"{"template":"memory_optimization_applied","to":"o@acme.example","store":"acme-store","issue":"High memory","explanation":"x","playbook":"p","steps":[]}"#, "sent"),
                    // Its deadline survives only as words: it is not sent with an invented one.
                    ("email", "o@acme.example", #"{"template":"proposal","to":"o@acme.example","store":"acme-store","expires_at":"Friday"}"#, "pending"),
                ]
                for (channel, destination, payload, status) in rows {
                    try db.execute(sql: """
                        INSERT INTO outbox (channel, destination, payload, created_at, next_attempt_at, status) VALUES (?, ?, ?, 0, 0, ?)
                        """, arguments: [channel, destination, payload, status])
                }
            }
        }
        let store = try SQLiteStore(path: path)
        let listing = try await store.outboxListing(includeSent: true, limit: 10)
        #expect(listing.map(\.message) == [
            .post(.text("🟠 High memory")),
            .alertOutcome("✅ Approved"),
            .response(BotReply([.text("done")], visibility: .inChannel), replaceOriginal: true),
            .mail(CustomerMail(to: "o@acme.example", store: StoreID("acme-store"), kind: .fixApplied(playbook: "High memory usage", steps: ["Flush: done"]))),
            .mail(CustomerMail(to: "o@acme.example", store: StoreID("acme-store"),
                               kind: .automaticFix(.memoryOptimizationApplied, issue: "High memory", explanation: "x", playbook: "p", steps: []))),
            nil,
        ])
        #expect(listing.map(\.status) == ["pending", "pending", "pending", "pending", "sent", "failed"])
    }
}
