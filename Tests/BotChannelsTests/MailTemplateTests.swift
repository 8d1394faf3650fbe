import BotChannels
import BotCore
import Foundation
import Testing
import TestSupport

/// Every kind of customer e-mail rendered from realistic values, kept under `.build/mails/templates/` to be
/// read as the customer reads it, and checked for what a reader would trip over.
@Suite struct MailTemplateTests {
    static let expiry = Date(timeIntervalSince1970: 1_768_550_400)  // Friday 16 January 2026, 08:00 UTC
    static let memory = "Memory use has stayed above 85% for 5 minutes; it is now 91%."

    static var samples: [CustomerMail.Kind] { [
        .proposal(issue: "High memory", explanation: memory,
                  playbook: "High memory usage",
                  steps: ["Flush the object cache: empties a cache; pages may load a little slower for a few minutes while it refills"],
                  expiresAt: expiry, requested: false),
        .proposal(issue: "the one-click optimize", explanation: "You asked perfbot to run the one-click optimize on acme-store.",
                  playbook: "One-click optimize", steps: ["Rebuild permalinks: changes a configuration setting"], expiresAt: expiry,
                  requested: true),
        .predictionNotice(resource: "disk", eta: "about 3 days", basis: "7-day trend +4%/day",
                          recommendation: "A larger disk, or a clean-up of old backups, would keep the store running."),
        .fixApplied(playbook: "High memory usage", steps: ["Flush the object cache: done"]),
        .automaticFix(.memoryOptimizationApplied, issue: "High memory", explanation: memory, playbook: "High memory usage",
                      steps: ["Flush the object cache: done"]),
        .approvalAcknowledged(playbook: "High memory usage"),
        .rejectionAcknowledged(playbook: "High memory usage"),
        .replyNotUnderstood(read: "Yes, please don't do that right now.", why: "it says both yes ('yes') and no or not ('don't')"),
        .proposalExpired(playbook: "High memory usage", proposedAt: expiry.addingTimeInterval(-86_400)),
        .proposalClosed(reason: "It was already approved."),
        .commandReply(subject: "Status of acme-store", lines: ["Health score: 82 / 100 (healthy)"]),
        .weeklyReport(lines: ["Problems found: 2; resolved: 2."], commandAddress: "perfbot@fix.example.com"),
    ] }

    /// The outbox keeps each mail as a value and reads back the same one.
    @Test func everyKindSurvivesTheOutbox() throws {
        for kind in Self.samples {
            let message = Outbound.mail(CustomerMail(to: "owner@acme-store.example", store: StoreID("acme-store"),
                                                     replyTo: "approve+abc@fix.example.com", kind: kind))
            #expect(try Outbound(stored: message.stored()) == message)
        }
        let alert = Outbound.post(BotReply([.header("High memory"), .fields([("Store", "acme-store")]), .divider,
                                            .table(ReplyTable(columns: ["a", "b"], rows: [["1", "2"]], rightAligned: [1])),
                                            .bars([ReplyBar(label: "ok", count: 1, total: 2, marker: "🟢")]),
                                            .buttons([ReplyButton(label: "Approve", actionID: "fix_approve", value: "fix_x",
                                                                  style: .primary, command: "/perf approve fix_x")]),
                                            .context("small print")], visibility: .inChannel), replyingTo: "1.2")
        for message in [alert, .alertOutcome("✅ Approved"), .response(.text("hi"), replaceOriginal: true)] {
            #expect(try Outbound(stored: message.stored()) == message)
        }
    }

    @Test func everyTemplateReadsWellAndCarriesTheStatusLink() throws {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent(".build/mails/templates")
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for (index, kind) in Self.samples.enumerated() {
            let template = kind.name
            let mail = MailTemplates.message(CustomerMail(to: "owner@acme-store.example", store: StoreID("acme-store"), kind: kind),
                                             from: "perfbot <perfbot@fix.example.com>", domain: "fix.example.com",
                                             now: Date(timeIntervalSince1970: 1_800_000_000),
                                             statusLink: { "https://perfbot.example.com/status/\($0)?expires=1&sig=ab" })
            try ("Subject: \(mail.subject)\n\n\(mail.text)\n").write(to: folder.appendingPathComponent("\(index + 1)-\(template).txt"),
                                                                 atomically: true, encoding: .utf8)
            #expect(!mail.subject.isEmpty && !mail.subject.contains("  "), "\(template): \(mail.subject)")
            #expect(mail.text.hasPrefix("Hello,"), "\(template)")
            #expect(mail.text.contains("https://perfbot.example.com/status/acme-store"), "\(template) has no status link")
            // Nothing a reader would trip over: empty quotes, a dangling colon, metric names, a template's own name.
            for stumble in ["“”", "\"\"", ": .", " :\n", "memory_percent", "\(template)"] where template != "proposal" || stumble != template {
                #expect(!mail.text.contains(stumble), "\(template) contains \(stumble)")
            }
            #expect(mail.html.contains("<a href=\"https://perfbot.example.com/status/acme-store"), "\(template): the link is not a link")
        }
    }
}
