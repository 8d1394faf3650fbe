import BotChannels
import BotCore
import BotPlaybooks
import BotStore
import Foundation
import PerfbotApp
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import TestSupport

/// Customers mail commands to perfbot: answered only to a store's contact whose mail the receiving side
/// authenticated, always at the address on file; what acts is confirmed by a reply, as a job.
@Suite(.serialized) struct EmailCommandTests {
    static let passed = ["Authentication-Results", "mx.fix.example.com; dkim=pass (2048-bit key) header.d=acme-store.example header.s=s1; spf=pass smtp.mailfrom=owner@acme-store.example"]

    func bot(smtp port: Int, docker: String? = nil) async throws -> TestBot {
        try await TestBot(extra: ["SMTP_URL": "smtp://127.0.0.1:\(port)", "PERFBOT_REPLY_DOMAIN": "fix.example.com",
                                  "MAILGUN_SIGNING_KEY": mailgunKey, "PERFBOT_MAIL_AUTHSERV_ID": "mx.fix.example.com",
                                  "PERFBOT_MAIL_FROM": "perfbot <perfbot@fix.example.com>"],
                          executors: docker.map { ExecutorFactory(docker: $0) } ?? ExecutorFactory())
    }

    func command(_ client: some TestClientProtocol, _ bot: TestBot, from: String, body: String,
                 headers: [[String]] = [passed], to: String = "perfbot@fix.example.com") async throws -> String? {
        try await postMailgun(client, mailgunForm(to: to, from: from, body: body, timestamp: bot.clock.now, headers: headers)).1
    }

    /// Keeps the e-mails a test produced under `.build/mails/`, to be read as the customer reads them.
    func keep(_ mails: [String], as name: String) {
        let folder = URL(fileURLWithPath: repositoryPath(".build/mails"))
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for (index, mail) in mails.enumerated() {
            try? mail.write(to: folder.appendingPathComponent("\(name)-\(index + 1).eml"), atomically: true, encoding: .utf8)
        }
    }

    @Test func aContactsStatusIsAnsweredAndAStrangerGetsNothing() async throws {
        try await EmailLoopTests().withSMTP { port, maildir in
            let bot = try await bot(smtp: port)
            try await bot.app.test(.router) { client in
                // The contact's address in another case, a forged From elsewhere, and no authentication pass.
                let answer1 = try await command(client, bot, from: "Owner <Owner@Acme-Store.example>",
                                          body: "status\n\nSent from my iPhone")
                #expect(answer1 == "answered: status")
                let answer2 = try await command(client, bot, from: "mallory@evil.example", body: "status")
                #expect(answer2 == "refused: the sender is not a store's contact")
                let answer3 = try await command(client, bot, from: "owner@acme-store.example", body: "level 3", headers: [])
                #expect(answer3 == "refused: no authentication pass: no authentication results")
                // A pass written by the sender (another authserv-id) is no pass.
                let forged = [["Authentication-Results", "evil.example; dkim=pass header.d=acme-store.example"]]
                let answer4 = try await command(client, bot, from: "owner@acme-store.example", body: "level 3", headers: forged)
                #expect(answer4 == "refused: no authentication pass: no result from a trusted authserv-id (1 from others ignored)")
                let answer5 = try await command(client, bot, from: "owner@acme-store.example", body: "status widgets-inc")
                #expect(answer5 == "answered: status")
            }
            try await bot.wiring.outbox(poster: FailingPoster()).deliverDue()
            let mails = EmailLoopTests().mails(in: maildir)
            keep(mails, as: "status")
            #expect(mails.count == 2, "only the contact's two commands are answered")
            let status = try #require(mails.first { $0.contains("Subject: [perfbot] Status of acme-store") }, "\(mails)")
            #expect(status.contains("To: owner@acme-store.example"))
            #expect(status.contains("Health score:") && status.contains("What counts in it:"))
            let other = try #require(mails.first { $0.contains("not one of your stores") })
            #expect(!other.contains("widgets-inc's"))
            #expect(try await bot.store.customer(StoreID("acme-store")!)?.automationLevel != .fullAuto)
            let metrics = String(decoding: bot.wiring.metrics.render(), as: UTF8.self)
            #expect(metrics.contains(#"perfbot_mail_commands_total{result="stranger"} 1"#))
            #expect(metrics.contains(#"perfbot_mail_commands_total{result="unauthenticated"} 2"#))
        }
    }

    @Test func optimizeByMailRunsOnlyAfterTheConfirmingReply() async throws {
        let docker = try standInDocker("exit 0")
        try await EmailLoopTests().withSMTP { port, maildir in
            let bot = try await bot(smtp: port, docker: docker)
            let outbox = bot.wiring.outbox(poster: FailingPoster())
            try await bot.app.test(.router) { client in
                let answer6 = try await command(client, bot, from: "owner@acme-store.example", body: "optimize")
                #expect(answer6 == "answered: optimize")
                let answer7 = try await command(client, bot, from: "owner@acme-store.example", body: "level 3")
                #expect(answer7 == "answered: level")
            }
            try await outbox.deliverDue()
            #expect(try await bot.store.jobs(store: StoreID("acme-store")!, limit: 10).isEmpty, "nothing ran before the yes")
            let mails = EmailLoopTests().mails(in: maildir)
            keep(mails, as: "optimize")
            let proposal = try #require(mails.first { $0.contains("Please confirm the one-click optimize") && $0.contains("Reply-To") },
                                        "\(mails.map { $0.prefix(300) })")
            let replyTo = try #require(proposal.range(of: #"approve\+[a-z2-7]{32}@fix\.example\.com"#, options: .regularExpression)
                .map { String(proposal[$0]) })
            let level = try #require(mails.first { $0.contains("Set the automation level of acme-store to 3") && $0.contains("Reply-To") })
            let levelReplyTo = try #require(level.range(of: #"approve\+[a-z2-7]{32}@fix\.example\.com"#, options: .regularExpression)
                .map { String(level[$0]) })
            try await bot.app.test(.router) { client in
                let yes = try await postMailgun(client, mailgunForm(to: replyTo, from: "owner@acme-store.example", body: "Yes, go ahead.",
                                                                  timestamp: bot.clock.now))
                #expect(yes.1 == "approved")
                let confirm = try await postMailgun(client, mailgunForm(to: levelReplyTo, from: "owner@acme-store.example", body: "yes",
                                                                      timestamp: bot.clock.now))
                #expect(confirm.1 == "approved")
            }
            let jobs = try await bot.store.jobs(store: StoreID("acme-store")!, limit: 10)
            for job in jobs { _ = await bot.wiring.engine.outcome(of: job.id) }
            let ended = try await bot.store.jobs(store: StoreID("acme-store")!, limit: 10)
            #expect(ended.count == 2 && ended.allSatisfy { $0.state == .succeeded && $0.channel == "email" }, "\(ended.map(\.state))")
            #expect(try await bot.store.customer(StoreID("acme-store")!)?.automationLevel == .fullAuto)
            #expect(try await bot.store.actions(of: StoreID("acme-store")!).contains { $0.playbook == "optimize" })
        }
    }

    /// Every active store's contact gets the week in review, once a week, unless they wrote "reports off".
    @Test func theWeeklyReportGoesToEveryContactButThoseWhoOptedOut() async throws {
        try await EmailLoopTests().withSMTP { port, maildir in
            let bot = try await bot(smtp: port)
            try await bot.app.test(.router) { client in
                let off = try await command(client, bot, from: "owner@acme-store.example", body: "reports off")
                #expect(off == "answered: reports")
            }
            // Stopping the reports is a change like any other: nothing changes before the contact's confirming reply.
            try await bot.wiring.outbox(poster: FailingPoster()).deliverDue()
            #expect(try await bot.store.weeklyReport(of: StoreID("acme-store")!))
            let asked = try #require(EmailLoopTests().mails(in: maildir).first { $0.contains("Reply-To") && $0.contains("weekly report") })
            let replyTo = try #require(asked.range(of: #"approve\+[a-z2-7]{32}@fix\.example\.com"#, options: .regularExpression)
                .map { String(asked[$0]) })
            try await bot.app.test(.router) { client in
                let yes = try await postMailgun(client, mailgunForm(to: replyTo, from: "owner@acme-store.example", body: "yes",
                                                                  timestamp: bot.clock.now))
                #expect(yes.1 == "approved")
            }
            try await bot.outcomes(of: StoreID("acme-store")!)
            // Friday: the week in review waits for Monday morning.
            #expect(!Wiring.isWeeklyReportTime(bot.clock.now))
            let early = Task { try await bot.wiring.weeklyReports().run() }
            // Its round is done once it sleeps on the bot's clock until the next one.
            #expect(await bot.clock.waitForSleepers())
            early.cancel()
            _ = await early.result
            #expect(try await bot.store.pendingMessages().filter { $0.message.mail?.kind.name == "weeklyReport" }.isEmpty)
            bot.clock.advance(by: 3 * 86400 + 3600)  // Monday, 09:00 UTC
            #expect(Wiring.isWeeklyReportTime(bot.clock.now))
            for _ in 0..<2 {  // started twice, as after a restart: one report each
                let service = Task { try await bot.wiring.weeklyReports().run() }
                #expect(await bot.clock.waitForSleepers())
                service.cancel()
                _ = await service.result
            }
            try await bot.wiring.outbox(poster: FailingPoster()).deliverDue()
            // The SMTP server files each message a moment after accepting it.
            for _ in 0..<100 where EmailLoopTests().mails(in: maildir).filter({ $0.contains("Your week with perfbot") }).count < 2 {
                try await Task.sleep(for: .milliseconds(20))
            }
            let mails = EmailLoopTests().mails(in: maildir)
            keep(mails, as: "weekly")
            let reports = mails.filter { $0.contains("Your week with perfbot") }
            #expect(reports.count == 2, "\(reports.count) reports")
            #expect(!reports.contains { $0.contains("To: owner@acme-store.example") })
            let report = try #require(reports.first)
            #expect(report.contains("Problems found:") && report.contains("reports off"))
            #expect(try await !bot.store.weeklyReport(of: StoreID("acme-store")!))
        }
    }

    /// The same command through Postmark's JSON and as a raw message: each format reaches the same path.
    @Test func commandsArriveThroughPostmarkAndRawMessagesToo() async throws {
        let bot = try await TestBot(extra: ["PERFBOT_REPLY_DOMAIN": "fix.example.com", "PERFBOT_MAIL_AUTHSERV_ID": "mx.fix.example.com"])
        try await bot.app.test(.router) { client in
            let postmark: [String: Any] = [
                "From": "owner@acme-store.example", "FromName": "Owner", "To": "perfbot@fix.example.com",
                "OriginalRecipient": "perfbot@fix.example.com", "MailboxHash": "", "Subject": "insights", "MessageID": UUID().uuidString,
                "TextBody": "", "HtmlBody": "", "StrippedTextReply": "",
                "Headers": [["Name": "Authentication-Results", "Value": "mx.fix.example.com; dmarc=pass header.from=acme-store.example"]],
                "Attachments": [],
            ]
            let basic = "Basic " + Data("postmark:\(webhookToken)".utf8).base64EncodedString()
            let viaPostmark = try await client.execute(uri: "/email/inbound", method: .post,
                                                       headers: [.contentType: "application/json", .authorization: basic],
                                                       body: ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: postmark)))
            #expect(try json(viaPostmark)["result"] as? String == "answered: insights")
            let raw = """
                Delivered-To: perfbot@fix.example.com\r
                Authentication-Results: mx.fix.example.com; dkim=pass header.d=acme-store.example; spf=fail smtp.mailfrom=acme-store.example\r
                From: Owner <owner@acme-store.example>\r
                To: perfbot@fix.example.com\r
                Subject: help\r
                Content-Type: text/plain; charset=utf-8\r
                \r
                help\r

                """
            let viaRaw = try await client.execute(uri: "/email/inbound", method: .post,
                                                  headers: [.contentType: "message/rfc822", .authorization: "Bearer \(webhookToken)"],
                                                  body: ByteBuffer(string: raw))
            // A DKIM pass does not outweigh an SPF failure in the same verdict.
            #expect(try json(viaRaw)["result"] as? String == "refused: no authentication pass: SPF, DKIM or DMARC failed")
            let passing = try await client.execute(uri: "/email/inbound", method: .post,
                                                   headers: [.contentType: "message/rfc822", .authorization: "Bearer \(webhookToken)"],
                                                   body: ByteBuffer(string: raw.replacingOccurrences(of: "spf=fail", with: "spf=pass")))
            #expect(try json(passing)["result"] as? String == "answered: help")
        }
        let mails = try await bot.store.pendingMessages().compactMap(\.message.mail)
        let answers = mails.compactMap { rendered($0).map { $0.subject + "\n" + $0.text } }
        #expect(answers.count == 2 && mails.allSatisfy { $0.to == "owner@acme-store.example" })
        #expect(answers.contains { $0.contains("Insights for acme-store") || $0.contains("insights feed of acme-store") })
        #expect(answers.contains { $0.contains("What you can ask perfbot by e-mail") })
    }

    /// Raw messages as an attacker writes them: a From that the MTA reads one way and a naive parser another, a
    /// pass for another domain, a pass hidden in a quoted string or below the MTA's own header. None acts.
    @Test func borrowedPassesAndDisguisedSendersAreRefused() async throws {
        let bot = try await TestBot(extra: ["PERFBOT_REPLY_DOMAIN": "fix.example.com", "PERFBOT_MAIL_AUTHSERV_ID": "mx.fix.example.com"])
        @Sendable func raw(from: String, results: [String], body: String = "level 3") -> String {
            "Delivered-To: perfbot@fix.example.com\r\n"
                + results.map { "Authentication-Results: \($0)\r\n" }.joined()
                + "From: \(from)\r\nTo: perfbot@fix.example.com\r\nSubject: \(body)\r\nContent-Type: text/plain\r\n\r\n\(body)\r\n"
        }
        let evilPass = "mx.fix.example.com; dmarc=pass header.from=evil.example; spf=pass smtp.mailfrom=a@evil.example"
        let cases: [(String, String, [String])] = [
            ("a comment holding the contact", "attacker@evil.example (<owner@acme-store.example>)", [evilPass]),
            ("an encoded word holding the contact", "=?utf-8?q?=3Cowner=40acme-store=2Eexample=3E?=", [evilPass]),
            ("an encoded word before the real address", "=?utf-8?q?owner=40acme-store=2Eexample?= <attacker@evil.example>", [evilPass]),
            ("two addresses", "owner@acme-store.example, attacker@evil.example", [evilPass]),
            ("a DMARC pass for another domain", "owner@acme-store.example", ["mx.fix.example.com; dmarc=pass header.from=evil.example"]),
            ("an unaligned DKIM pass", "owner@acme-store.example", ["mx.fix.example.com; dkim=pass header.d=evil.example"]),
            ("an unaligned SPF pass", "owner@acme-store.example", ["mx.fix.example.com; spf=pass smtp.mailfrom=bounce@evil.example"]),
            ("a pass inside a quoted string", "owner@acme-store.example",
             [#"mx.fix.example.com; dkim=fail reason="x; dkim=pass header.d=acme-store.example" header.d=acme-store.example"#]),
            ("a pass below the MTA's own verdict", "owner@acme-store.example",
             ["mx.fix.example.com; dmarc=fail header.from=acme-store.example",
              "mx.fix.example.com; dmarc=pass header.from=acme-store.example"]),
            ("a trusted name in a comment", "owner@acme-store.example",
             ["evil.example (mx.fix.example.com); dmarc=pass header.from=acme-store.example"]),
        ]
        let levelBefore = try await bot.store.customer(StoreID("acme-store")!)?.automationLevel
        try await bot.app.test(.router) { client in
            func post(_ message: String) async throws -> String? {
                let response = try await client.execute(uri: "/email/inbound", method: .post,
                                                        headers: [.contentType: "message/rfc822", .authorization: "Bearer \(webhookToken)"],
                                                        body: ByteBuffer(string: message))
                return try json(response)["result"] as? String
            }
            for (name, from, results) in cases {
                let answer = try await post(raw(from: from, results: results))
                #expect(answer?.hasPrefix("refused:") == true, "\(name): \(answer ?? "nil")")
            }
            // The same contact, properly authenticated, is heard.
            let heard = try await post(raw(from: "Owner <owner@acme-store.example>",
                                           results: ["mx.fix.example.com; dmarc=pass header.from=acme-store.example"], body: "help"))
            #expect(heard == "answered: help")
        }
        #expect(try await bot.store.customer(StoreID("acme-store")!)?.automationLevel == levelBefore)
        let mails = try await bot.store.pendingMessages().filter { $0.channel == "email" }
        #expect(mails.count == 1 && !mails.contains { $0.message.mail?.kind.name == "proposal" }, "no proposal was mailed")
    }
}
