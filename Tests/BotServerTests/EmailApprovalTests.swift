import BotChannels
import BotCore
import BotPlaybooks
import BotStore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import TestSupport

let mailgunKey = "mg-signing-key-example-0001"

/// A Mailgun `forward()` delivery of a reply, signed with `key`.
func mailgunForm(to recipient: String, from: String, body: String, key: String = mailgunKey, timestamp: Date,
                 token: String = UUID().uuidString.replacingOccurrences(of: "-", with: ""),
                 headers: [[String]] = []) -> String {
    let stamp = String(Int(timestamp.timeIntervalSince1970))
    let headerJSON = String(decoding: (try? JSONSerialization.data(withJSONObject: headers)) ?? Data("[]".utf8), as: UTF8.self)
    return FormBody.encode([("recipient", recipient), ("sender", from), ("from", from), ("subject", "Re: proposal"),
                            ("body-plain", body), ("message-headers", headerJSON), ("timestamp", stamp), ("token", token),
                            ("signature", MailgunVerifier.sign(timestamp: stamp, token: token, key: key))])
}

/// Posts a Mailgun reply to `/email/inbound`; returns the HTTP status and perfbot's `result`.
func postMailgun(_ client: some TestClientProtocol, _ form: String) async throws -> (HTTPResponse.Status, String?) {
    let response = try await client.execute(uri: "/email/inbound", method: .post,
                                            headers: [.contentType: "application/x-www-form-urlencoded"],
                                            body: ByteBuffer(string: form))
    return (response.status, try? json(response)["result"] as? String)
}

/// Slack is not part of these tests: its messages stay queued.
struct FailingPoster: HTTPPoster {
    func post(_ url: URL, json: [UInt8], bearer: String?) async throws -> HTTPAnswer { HTTPAnswer(status: 503) }
}

@Suite(.serialized) struct EmailApprovalTests {
    /// A customer's APPROVE reply, delivered by Mailgun to the running server, decides the approval once,
    /// runs the playbook (recorded) and queues the confirmation e-mail.
    @Test func aCustomerApprovesByReplyingToTheProposal() async throws {
        let docker = try standInDocker("exit 0")
        let bot = try await TestBot(extra: ["PERFBOT_REPLY_DOMAIN": "fix.example.com", "MAILGUN_SIGNING_KEY": mailgunKey,
                                            "SLACK_ALERTS_CHANNEL": "C0ALERTS"],
                                    executors: ExecutorFactory(docker: docker))
        let acme = StoreID("acme-store")!
        try await bot.store.setAutomation(acme, level: .notifyOnly, exceptions: [], at: t0)
        _ = try await bot.wiring.checkCycle(inline: true).run()
        let proposal = try #require(try await bot.store.pendingMessages().first { $0.channel == "email" }?.message.mail)
        let replyTo = try #require(proposal.replyTo)
        #expect(replyTo.range(of: #"^approve\+[a-z2-7]{32}@fix\.example\.com$"#, options: .regularExpression) != nil)
        // `perfbot outbox` shows the waiting proposal without its token.
        let listing = try await LocalExecutor().run(CommandRequest(
            argv: [repositoryPath(".build/debug/perfbot"), "outbox", "--database", bot.store.path], timeout: 30))
        #expect(listing.output.contains("subject:  [acme-store] High memory: may we fix it?"), "\(listing.output)")
        #expect(listing.output.contains("reply-to: approve+…@fix.example.com") && !listing.output.contains(replyTo))
        try await withThrowingTaskGroup(of: Void.self) { jobs in
            jobs.addTask { try await bot.wiring.jobs.run() }
            try await bot.app.test(.router) { client in
                let form = mailgunForm(to: replyTo, from: "Owner <owner@ACME-STORE.example>",
                                       body: "APPROVE\r\n\r\nOn Thu, 26 Nov 2026 at 09:14, perfbot <perfbot@fix.example.com> wrote:\r\n> Reply APPROVE",
                                       timestamp: bot.clock.now)
                let answer = try await client.execute(uri: "/email/inbound", method: .post,
                                                      headers: [.contentType: "application/x-www-form-urlencoded"],
                                                      body: ByteBuffer(string: form))
                #expect(try json(answer)["result"] as? String == "approved")
                // Answered at once, before the job's result: the fix is running and its result follows.
                let queued = try await bot.store.pendingMessages().compactMap(\.message.mail)
                #expect(queued.contains { $0.kind.name == "approvalAcknowledged" && $0.to == "owner@acme-store.example" })
            }
            for _ in 0..<100 where try await !bot.store.pendingMessages().contains(where: { $0.message.mail?.kind.name == "fixApplied" }) {
                try await Task.sleep(for: .milliseconds(50))
            }
            jobs.cancelAll()
        }
        let confirmation = try #require(try await bot.store.pendingMessages().first { $0.message.mail?.kind.name == "fixApplied" })
        #expect(confirmation.destination == "owner@acme-store.example")
        let actions = try await bot.store.actions(of: acme)
        #expect(actions.contains { $0.playbook.hasPrefix("high_") } && actions.allSatisfy(\.success))
        let audit = try await bot.store.auditEntries()
        #expect(audit.contains { $0.action == "approval.decide" && $0.actor == "owner@acme-store.example" && $0.result == "approved" })
        // In Slack, the alert's buttons give way to the decision, and the thread hears the result.
        let slack = try await bot.store.pendingMessages().filter { $0.channel == "slack" }.map(\.message)
        #expect(slack.contains { $0.outcome?.hasPrefix("✅ Approved by owner@acme-store.example by e-mail at ") == true })
        #expect(slack.compactMap(\.slackText).contains { $0.contains("owner approved `high_") && $0.contains("by e-mail; it ran") })
    }

    @Test func forgedStaleReplayedAndRoboticRepliesActOnNothing() async throws {
        let bot = try await TestBot(extra: ["PERFBOT_REPLY_DOMAIN": "fix.example.com", "MAILGUN_SIGNING_KEY": mailgunKey])
        let token = ApprovalToken.generate()
        let approval = Approval(id: "fix_abcdefgh23", store: StoreID("acme-store")!, issueID: nil, playbook: "cache_miss_storm",
                                steps: ["Check"], createdAt: t0, expiresAt: t0.addingTimeInterval(86400))
        try await bot.store.createApproval(approval, tokenHash: ApprovalToken.hash(token))
        let to = "approve+\(token)@fix.example.com", owner = "owner@acme-store.example"
        try await bot.app.test(.router) { client in
            func post(_ form: String) async throws -> (HTTPResponse.Status, String?) { try await postMailgun(client, form) }
            let forged = try await post(mailgunForm(to: to, from: owner, body: "APPROVE", key: "forged-key", timestamp: t0))
            #expect(forged.0 == .unauthorized)
            let stale = try await post(mailgunForm(to: to, from: owner, body: "APPROVE", timestamp: t0.addingTimeInterval(-3600)))
            #expect(stale.0 == .unauthorized)
            let stranger = try await post(mailgunForm(to: to, from: "mallory@evil.example", body: "APPROVE", timestamp: t0))
            #expect(stranger.1 == "refused: the sender is not the store's contact")
            let robot = try await post(mailgunForm(to: to, from: owner, body: "APPROVE", timestamp: t0,
                                                   headers: [["Auto-Submitted", "auto-replied"]]))
            #expect(robot.1 == "ignored: auto-reply")
            let unsigned = try await post(mailgunForm(to: to, from: owner, body: "APPROVE", timestamp: t0,
                                                      headers: [["Authentication-Results", "mx.example; dkim=fail header.d=acme-store.example"]]))
            #expect(unsigned.1 == "refused: SPF, DKIM or DMARC failed")
            let otherToken = try await post(mailgunForm(to: "approve+\(ApprovalToken.generate())@fix.example.com", from: owner,
                                                        body: "APPROVE", timestamp: t0))
            #expect(otherToken.1 == "refused: no proposal matches the reply address")
            let unclear = try await post(mailgunForm(to: to, from: owner, body: "What is this?", timestamp: t0))
            #expect(unclear.1 == "not understood")
            let pending = try await bot.store.approval(id: approval.id)?.status
            #expect(pending == .pending)
            let reject = mailgunForm(to: to, from: owner, body: "REJECT - not during the sale.", timestamp: t0, token: "replayed-token-1")
            let first = try await post(reject)
            let replayed = try await post(reject)  // answered from the log, not acted on
            #expect(first.1 == "rejected" && replayed.1 == "rejected")
            let late = try await post(mailgunForm(to: to, from: owner, body: "APPROVE", timestamp: t0))
            #expect(late.1 == "closed: already rejected")
        }
        #expect(try await bot.store.approval(id: approval.id)?.status == .rejected)
        #expect(try await bot.store.auditEntries().filter { $0.action == "approval.decide" }.count == 1)
        let mails = try await bot.store.pendingMessages().compactMap(\.message.mail).map(\.kind.name)
        #expect(mails.contains("rejectionAcknowledged"))
        #expect(mails.contains("replyNotUnderstood"))
    }
}

@Suite struct EmailRefusalTests {
    func proposal(_ bot: TestBot, store: String, id: String, expiresAt: Date) async throws -> String {
        let token = ApprovalToken.generate()
        try await bot.store.createApproval(Approval(id: id, store: StoreID(store)!, issueID: nil, playbook: "cache_miss_storm",
                                                    steps: ["Check"], createdAt: t0.addingTimeInterval(-3600), expiresAt: expiresAt),
                                           tokenHash: ApprovalToken.hash(token))
        return "approve+\(token)@fix.example.com"
    }

    /// One customer cannot decide another's proposal, even with its reply address in hand.
    @Test func anotherCustomersTokenDecidesNothing() async throws {
        let bot = try await TestBot(extra: ["PERFBOT_REPLY_DOMAIN": "fix.example.com", "MAILGUN_SIGNING_KEY": mailgunKey])
        let widgets = try await proposal(bot, store: "widgets-inc", id: "fix_widgets234", expiresAt: t0.addingTimeInterval(86400))
        try await bot.app.test(.router) { client in
            let answer = try await postMailgun(client, mailgunForm(to: widgets, from: "owner@acme-store.example", body: "APPROVE",
                                                            timestamp: t0))
            #expect(answer.0 == .ok && answer.1 == "refused: the sender is not the store's contact")
        }
        #expect(try await bot.store.approval(id: "fix_widgets234")?.status == .pending)
        #expect(try await bot.store.pendingMessages().filter { $0.channel == "email" }.isEmpty, "a refused sender gets no answer")
        let audit = try await bot.store.auditEntries()
        #expect(audit.filter { $0.action == "approval.decide" }.isEmpty)
        #expect(audit.contains { $0.action == "approval.refused" && $0.actor == "owner@acme-store.example"
            && $0.result == "the sender is not the store's contact" })
    }

    /// Sender checks fail closed: two addresses in From, or a soft failure of SPF, DKIM or DMARC, decide nothing;
    /// the contact's own address in another case is theirs.
    @Test func senderChecksFailClosedButAddressesCompareWithoutCase() async throws {
        let bot = try await TestBot(extra: ["PERFBOT_REPLY_DOMAIN": "fix.example.com", "MAILGUN_SIGNING_KEY": mailgunKey])
        let to = try await proposal(bot, store: "acme-store", id: "fix_acmestore2", expiresAt: t0.addingTimeInterval(86400))
        try await bot.app.test(.router) { client in
            func post(from: String, body: String = "REJECT", headers: [[String]] = []) async throws -> String? {
                try await postMailgun(client, mailgunForm(to: to, from: from, body: body, timestamp: t0, headers: headers)).1
            }
            let twoAddresses = try await post(from: "owner@acme-store.example, Mallory <mallory@evil.example>")
            #expect(twoAddresses == "refused: the From line is not exactly one plain address")
            for verdict in [["Authentication-Results", "mx.fix.example.com; spf=softfail smtp.mailfrom=acme-store.example"],
                            ["Authentication-Results", "mx.fix.example.com; dkim=permerror header.d=acme-store.example"],
                            ["X-Mailgun-Spf", "SoftFail"], ["Received-SPF", "permerror (domain of acme-store.example)"]] {
                let answer = try await post(from: "owner@acme-store.example", headers: [verdict])
                #expect(answer == "refused: SPF, DKIM or DMARC failed", "\(verdict)")
            }
            #expect(try await bot.store.approval(id: "fix_acmestore2")?.status == .pending)
            let mixedCase = try await post(from: "Owner <Owner@ACME-Store.Example>")
            #expect(mixedCase == "rejected")
        }
        #expect(try await bot.store.approval(id: "fix_acmestore2")?.status == .rejected)
    }

    /// A store's contact answering a report (no proposal address) is not lost: the admins get the gist.
    @Test func aContactsMailWithoutAProposalReachesTheAdmins() async throws {
        let bot = try await TestBot(extra: ["PERFBOT_REPLY_DOMAIN": "fix.example.com", "MAILGUN_SIGNING_KEY": mailgunKey,
                                            "SLACK_ALERTS_CHANNEL": "C0ALERTS"])
        try await bot.app.test(.router) { client in
            let contact = try await postMailgun(client, mailgunForm(to: "perfbot@fix.example.com", from: "Owner <owner@acme-store.example>",
                                                             body: "Can we talk about <!channel> the upgrade?\n\n> Done: High memory usage",
                                                             timestamp: t0))
            #expect(contact.1 == "refused: no proposal matches the reply address")
            let stranger = try await postMailgun(client, mailgunForm(to: "perfbot@fix.example.com", from: "spam@bulk.example",
                                                              body: "Cheap watches", timestamp: t0))
            #expect(stranger.1 == "refused: no proposal matches the reply address")
        }
        let notes = try await bot.store.pendingMessages().filter { $0.channel == "slack" }.compactMap(\.message.slackText)
        #expect(notes.count == 1)
        #expect(notes.first?.contains("acme-store's contact owner@acme-store.example wrote to perfbot") == true)
        #expect(notes.first?.contains("Can we talk about &lt;!channel&gt; the upgrade?") == true, "\(notes)")
        #expect(notes.first?.contains("Done: High memory usage") == false)
    }

    /// An expired proposal answers the customer that it closed, and nothing runs.
    @Test func anExpiredTokenIsAnsweredAndRunsNothing() async throws {
        let bot = try await TestBot(extra: ["PERFBOT_REPLY_DOMAIN": "fix.example.com", "MAILGUN_SIGNING_KEY": mailgunKey])
        let to = try await proposal(bot, store: "acme-store", id: "fix_expired234", expiresAt: t0.addingTimeInterval(-60))
        try await bot.app.test(.router) { client in
            let answer = try await postMailgun(client, mailgunForm(to: to, from: "owner@acme-store.example", body: "APPROVE",
                                                            timestamp: t0))
            #expect(answer.1 == "closed: expired")
            let again = try await postMailgun(client, mailgunForm(to: to, from: "owner@acme-store.example", body: "APPROVE",
                                                           timestamp: t0))
            #expect(again.1 == "closed: expired")
        }
        #expect(try await bot.store.approval(id: "fix_expired234")?.status == .expired)
        #expect(try await bot.store.actions(of: StoreID("acme-store")!).isEmpty)
        let answers = try await bot.store.pendingMessages().compactMap(\.message.mail?.kind).compactMap {
            if case let .proposalClosed(reason) = $0 { reason } else { nil }
        }
        #expect(answers.count == 2 && answers.allSatisfy { $0.contains("It expired before your reply arrived") })
    }

    /// Mailgun posts multipart/form-data when the reply has attachments; it is verified and read the same way.
    @Test func mailgunMultipartPostsAreVerifiedAndRead() async throws {
        let bot = try await TestBot(extra: ["PERFBOT_REPLY_DOMAIN": "fix.example.com", "MAILGUN_SIGNING_KEY": mailgunKey])
        let to = try await proposal(bot, store: "acme-store", id: "fix_multipart2", expiresAt: t0.addingTimeInterval(86400))
        @Sendable func multipart(key: String = mailgunKey, token: String, attachment: Bool) -> String {
            let stamp = String(Int(t0.timeIntervalSince1970))
            let fields = [("recipient", to), ("sender", "owner@acme-store.example"), ("from", "Owner <owner@acme-store.example>"),
                          ("subject", "Re: proposal"), ("body-plain", "Reject, please.\r\n\r\n> Reply APPROVE or REJECT."),
                          ("timestamp", stamp), ("token", token),
                          ("signature", MailgunVerifier.sign(timestamp: stamp, token: token, key: key))]
            var body = FormBody.encodeMultipart(fields, boundary: "mg-boundary-7f3a")
            if attachment {
                let file = "--mg-boundary-7f3a\r\nContent-Disposition: form-data; name=\"attachment-1\"; filename=\"screen.png\"\r\n"
                    + "Content-Type: image/png\r\n\r\n\u{89}PNG\r\n\r\n"
                body = file + body
            }
            return body
        }
        try await bot.app.test(.router) { client in
            func send(_ body: String, contentType: String = "multipart/form-data; boundary=mg-boundary-7f3a")
                async throws -> (HTTPResponse.Status, [String: Any]) {
                let response = try await client.execute(uri: "/email/inbound", method: .post, headers: [.contentType: contentType],
                                                        body: ByteBuffer(string: body))
                return (response.status, (try? json(response)) ?? [:])
            }
            let forged = try await send(multipart(key: "forged-key", token: "mp-token-1", attachment: false))
            #expect(forged.0 == .unauthorized)
            let noBoundary = try await send(multipart(token: "mp-token-2", attachment: false), contentType: "multipart/form-data")
            #expect(noBoundary.0 == .badRequest && noBoundary.1["message"] as? String == "Content-Type: has no multipart boundary")
            let truncated = try await send(String(multipart(token: "mp-token-3", attachment: false).dropLast(24)))
            #expect(truncated.0 == .badRequest)
            let reply = try await send(multipart(token: "mp-token-4", attachment: true))
            #expect(reply.0 == .ok && reply.1["result"] as? String == "rejected")
        }
        #expect(try await bot.store.approval(id: "fix_multipart2")?.status == .rejected)
    }
}

@Suite struct PostmarkInboundTests {
    func postmark(hash: String, from: String = "Owner <owner@acme-store.example>", text: String = "", html: String = "",
                  headers: [[String: String]] = []) throws -> String {
        let object: [String: Any] = [
            "From": from, "FromName": "Owner", "To": "approve+\(hash)@fix.example.com",
            "OriginalRecipient": "approve+\(hash)@fix.example.com", "MailboxHash": hash, "Subject": "RE: proposal",
            "MessageID": UUID().uuidString, "TextBody": text, "HtmlBody": html, "StrippedTextReply": "",
            "Headers": headers.map { ["Name": $0["Name"] ?? "", "Value": $0["Value"] ?? ""] }, "Attachments": [],
        ]
        return String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
    }

    /// Postmark posts JSON behind basic auth; the token comes from `MailboxHash`, HTML-only replies are read as text,
    /// and its `Received-SPF` verdict is honoured.
    @Test func postmarkRepliesNeedBasicAuthAndAreReadFromTheMailboxHash() async throws {
        let bot = try await TestBot(extra: ["PERFBOT_REPLY_DOMAIN": "fix.example.com"])
        let token = ApprovalToken.generate()
        try await bot.store.createApproval(Approval(id: "fix_postmark23", store: StoreID("acme-store")!, issueID: nil,
                                                    playbook: "cache_miss_storm", steps: ["Check"], createdAt: t0,
                                                    expiresAt: t0.addingTimeInterval(86400)),
                                           tokenHash: ApprovalToken.hash(token))
        let good = "Basic " + Data("postmark:\(webhookToken)".utf8).base64EncodedString()
        let bad = "Basic " + Data("postmark:guessed-password".utf8).base64EncodedString()
        try await bot.app.test(.router) { client in
            func send(_ body: String, auth: String?) async throws -> (HTTPResponse.Status, String?) {
                var headers: HTTPFields = [.contentType: "application/json"]
                if let auth { headers[.authorization] = auth }
                let response = try await client.execute(uri: "/email/inbound", method: .post, headers: headers,
                                                        body: ByteBuffer(string: body))
                return (response.status, try? json(response)["result"] as? String)
            }
            #expect(try await send(try postmark(hash: token, text: "APPROVE"), auth: nil).0 == .unauthorized)
            #expect(try await send(try postmark(hash: token, text: "APPROVE"), auth: bad).0 == .unauthorized)
            let spoofed = try await send(try postmark(hash: token, text: "APPROVE",
                                                      headers: [["Name": "Received-SPF", "Value": "Fail (sender not permitted)"]]),
                                         auth: good)
            #expect(spoofed.1 == "refused: SPF, DKIM or DMARC failed")
            #expect(try await send("{\"From\": 42}", auth: good).0 == .badRequest)
            let html = try await send(try postmark(hash: token, html: "<div>Reject</div><blockquote>Reply APPROVE or REJECT</blockquote>"),
                                      auth: good)
            #expect(html.1 == "rejected")
        }
        #expect(try await bot.store.approval(id: "fix_postmark23")?.status == .rejected)
    }
}

@Suite(.serialized) struct EmailLoopTests {
    /// A real SMTP server (aiosmtpd, from Debian's python3-aiosmtpd) writing what it receives to a Maildir.
    func withSMTP(_ body: @Sendable (_ port: Int, _ maildir: URL) async throws -> Void) async throws {
        let port = freePort()
        let maildir = FileManager.default.temporaryDirectory.appendingPathComponent("maildir-\(UUID().uuidString)")
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                _ = try await LocalExecutor().run(CommandRequest(argv: [
                    "/usr/bin/python3", "-m", "aiosmtpd", "-n", "-l", "127.0.0.1:\(port)",
                    "-c", "aiosmtpd.handlers.Mailbox", maildir.path], timeout: 60))
            }
            var ready = false
            for _ in 0..<100 where !ready {
                ready = try await LocalExecutor().run(CommandRequest(argv: ["/usr/bin/python3", "-c",
                    "import socket; socket.create_connection(('127.0.0.1', \(port)), 1)"], timeout: 5)).exitCode == 0
                if !ready { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(ready, "aiosmtpd did not start")
            try await body(port, maildir)
            group.cancelAll()
        }
    }

    func mails(in maildir: URL) -> [String] {
        let folder = maildir.appendingPathComponent("new")
        return ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).sorted()
            .compactMap { try? String(contentsOf: folder.appendingPathComponent($0), encoding: .utf8) }
    }

    /// The proposal goes through the real outbox to a real SMTP server; the test reads the token from its
    /// Reply-To, replies through Mailgun to the server, and the confirmation arrives by SMTP too.
    @Test func theWholeLoopOverRealSMTP() async throws {
        let docker = try standInDocker("exit 0")
        try await withSMTP { port, maildir in
            let bot = try await TestBot(extra: ["SMTP_URL": "smtp://127.0.0.1:\(port)", "PERFBOT_REPLY_DOMAIN": "fix.example.com",
                                                "MAILGUN_SIGNING_KEY": mailgunKey,
                                                "PERFBOT_MAIL_FROM": "perfbot <perfbot@fix.example.com>"],
                                        executors: ExecutorFactory(docker: docker))
            try await bot.store.setAutomation(StoreID("acme-store")!, level: .notifyOnly, exceptions: [], at: t0)
            _ = try await bot.wiring.checkCycle(inline: true).run()
            let outbox = bot.wiring.outbox(poster: FailingPoster())
            try await outbox.deliverDue()
            let proposal = try #require(mails(in: maildir).first { $0.contains("may we fix it?") })
            #expect(proposal.contains("Reply-To: approve+"))
            let replyTo = try #require(proposal.range(of: #"approve\+[a-z2-7]{32}@fix\.example\.com"#, options: .regularExpression)
                .map { String(proposal[$0]) })
            try await withThrowingTaskGroup(of: Void.self) { jobs in
                jobs.addTask { try await bot.wiring.jobs.run() }
                try await bot.app.test(.router) { client in
                    let form = mailgunForm(to: replyTo, from: "Owner <owner@acme-store.example>", body: "approve\n\nSent from my iPhone",
                                           timestamp: bot.clock.now)
                    let answer = try await client.execute(uri: "/email/inbound", method: .post,
                                                          headers: [.contentType: "application/x-www-form-urlencoded"],
                                                          body: ByteBuffer(string: form))
                    #expect(try json(answer)["result"] as? String == "approved")
                }
                for _ in 0..<100 where !mails(in: maildir).contains(where: { $0.contains("Done:") }) {
                    try await outbox.deliverDue()
                    try await Task.sleep(for: .milliseconds(50))
                }
                jobs.cancelAll()
            }
            let done = try #require(mails(in: maildir).first { $0.contains("Done:") })
            #expect(done.contains("To: owner@acme-store.example"))
            // Once sent, the proposal keeps no reply address: the token lives on only as its hash.
            let sent = try await bot.store.outboxListing(includeSent: true, limit: 100).filter { $0.channel == "email" }
            #expect(sent.contains { $0.message?.mail?.kind.name == "proposal" && $0.status == "sent" })
            #expect(sent.allSatisfy { $0.message?.mail != nil && $0.message?.mail?.replyTo == nil })
            #expect(try await bot.store.actions(of: StoreID("acme-store")!).contains { $0.playbook.hasPrefix("high_") })
        }
    }
}

@Suite struct RawMailTests {
    func eml(_ name: String) throws -> String {
        try String(contentsOfFile: repositoryPath("Tests/BotChannelsTests/Fixtures/replies/\(name)"), encoding: .isoLatin1)
    }

    @Test func rawRepliesNeedTheTokenAndAreReadThroughMIME() async throws {
        let bot = try await TestBot(extra: ["PERFBOT_REPLY_DOMAIN": "fix.example.com"])
        let approval = Approval(id: "fix_rawmail2345", store: StoreID("acme-store")!, issueID: nil, playbook: "cache_miss_storm",
                                steps: ["Check"], createdAt: t0, expiresAt: t0.addingTimeInterval(86400))
        try await bot.store.createApproval(approval, tokenHash: ApprovalToken.hash("abcdefghijklmnopqrstuvwxyz234567"))
        try await bot.app.test(.router) { client in
            let headers: HTTPFields = [.contentType: "message/rfc822", .authorization: "Bearer \(webhookToken)"]
            let unauthenticated = try await client.execute(uri: "/email/inbound", method: .post,
                                                           headers: [.contentType: "message/rfc822"],
                                                           body: ByteBuffer(string: try eml("38-iphone-nested-base64.eml")))
            #expect(unauthenticated.status == .unauthorized)
            let robot = try await client.execute(uri: "/email/inbound", method: .post, headers: headers,
                                                 body: ByteBuffer(string: try eml("39-out-of-office.eml")))
            #expect(try json(robot)["result"] as? String == "ignored: auto-reply")
            let reply = try await client.execute(uri: "/email/inbound", method: .post, headers: headers,
                                                 body: ByteBuffer(string: try eml("36-german-quoted-printable.eml")))
            #expect(try json(reply)["result"] as? String == "rejected")
        }
        #expect(try await bot.store.approval(id: approval.id)?.status == .rejected)
    }
}
