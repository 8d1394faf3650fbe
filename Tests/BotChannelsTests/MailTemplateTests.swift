import BotChannels
import BotCore
import Foundation
import Testing

/// Every customer e-mail rendered from a realistic payload, kept under `.build/mails/templates/` to be
/// read as the customer reads it, and checked for what a reader would trip over.
@Suite struct MailTemplateTests {
    static var samples: [(String, [String: Any])] { [
        ("proposal", ["store": "acme-store", "issue": "High memory", "explanation": "Memory use has stayed above 85% for 5 minutes; it is now 91%.",
                      "steps": ["Flush the object cache: empties a cache; pages may load a little slower for a few minutes while it refills"],
                      "expires_at": "Saturday 16 January, 08:00 UTC", "reply_to": "approve+abcdefghijklmnopqrstuvwxyz234567@fix.example.com"]),
        ("proposal", ["store": "acme-store", "issue": "the one-click optimize", "requested": "true",
                      "explanation": "You asked perfbot to run the one-click optimize on acme-store.",
                      "steps": ["Rebuild permalinks: changes a configuration setting"], "expires_at": "Saturday 16 January, 08:00 UTC"]),
        ("prediction_notice", ["store": "acme-store", "resource": "disk", "eta": "about 3 days", "basis": "7-day trend +4%/day",
                               "recommendation": "A larger disk, or a clean-up of old backups, would keep the store running."]),
        ("fix_applied", ["store": "acme-store", "playbook": "High memory usage", "steps": ["Flush the object cache: done"]]),
        ("memory_optimization_applied", ["store": "acme-store", "issue": "High memory", "playbook": "High memory usage",
                                         "explanation": "Memory use has stayed above 85% for 5 minutes; it is now 91%.",
                                         "steps": ["Flush the object cache: done"]]),
        ("approval_acknowledged", ["store": "acme-store", "playbook": "High memory usage"]),
        ("rejection_acknowledged", ["store": "acme-store", "playbook": "High memory usage"]),
        ("reply_not_understood", ["store": "acme-store", "read": "Yes, please don't do that right now.",
                                  "why": "it says both yes ('yes') and no or not ('don't')"]),
        ("proposal_expired", ["store": "acme-store", "playbook": "High memory usage", "proposed_at": "Friday 15 January, 08:00 UTC"]),
        ("proposal_closed", ["store": "acme-store", "reason": "It was already approved."]),
        ("command_reply", ["store": "acme-store", "subject": "Status of acme-store", "lines": ["Health score: 82 / 100 (healthy)"]]),
        ("weekly_report", ["store": "acme-store", "lines": ["Problems found: 2; resolved: 2."], "command_address": "perfbot@fix.example.com"]),
    ] }

    @Test func everyTemplateReadsWellAndCarriesTheStatusLink() throws {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent(".build/mails/templates")
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for (index, (template, fields)) in Self.samples.enumerated() {
            var object = fields
            object["template"] = template
            object["to"] = "owner@acme-store.example"
            let payload = Array(try JSONSerialization.data(withJSONObject: object))
            let mail = try MailTemplates.message(payload: payload, from: "perfbot <perfbot@fix.example.com>", domain: "fix.example.com",
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
