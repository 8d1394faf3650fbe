import BotChannels
import BotCore
import BotPlaybooks
import BotStore
import Foundation
import Testing

@Suite(.serialized) struct ProposalMailTests {
    /// A real SMTP server (aiosmtpd, from Debian's python3-aiosmtpd) writing what it receives to a Maildir.
    func withSMTP(_ body: @Sendable (_ port: Int, _ maildir: URL) async throws -> Void) async throws {
        let port = Int.random(in: 40000...49999)
        let maildir = FileManager.default.temporaryDirectory.appendingPathComponent("maildir-\(UUID().uuidString)")
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                _ = try await LocalExecutor().run(CommandRequest(argv: [
                    "/usr/bin/python3", "-m", "aiosmtpd", "-n", "-l", "127.0.0.1:\(port)",
                    "-c", "aiosmtpd.handlers.Mailbox", maildir.path], timeout: 60))
            }
            // Wait until it listens.
            for _ in 0..<100 {
                if try await LocalExecutor().run(CommandRequest(argv: ["/usr/bin/python3", "-c",
                    "import socket; socket.create_connection(('127.0.0.1', \(port)), 1)"], timeout: 5)).exitCode == 0 { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            try await body(port, maildir)
            group.cancelAll()
        }
    }

    @Test func theProposalReachesARealSMTPServerWithItsOneTimeReplyAddress() async throws {
        try await withSMTP { port, maildir in
            let bot = try await SchedulerBot(customers: [shop("acme-store", level: .notifyOnly)],
                                             extra: ["SMTP_URL": "smtp://127.0.0.1:\(port)",
                                                     "PERFBOT_MAIL_FROM": "perfbot <perfbot@fix.example.com>"])
            try await bot.feed("acme-store", .memoryPercent, Array(repeating: 90, count: 7))
            _ = try await bot.cycle()
            let delivered = try await bot.wiring.outbox(poster: RecordingPoster()).deliverDue()
            #expect(delivered == 2)  // the Slack alert and the e-mail
            let files = try FileManager.default.contentsOfDirectory(atPath: maildir.appendingPathComponent("new").path)
            #expect(files.count == 1)
            let mail = try String(contentsOfFile: maildir.appendingPathComponent("new/\(try #require(files.first))").path,
                                  encoding: .utf8)
            #expect(mail.contains("To: o@acme-store.example"))
            #expect(mail.contains("Subject: [acme-store] High memory: may we fix it?"))
            #expect(mail.contains("Auto-Submitted: auto-generated"))
            #expect(mail.contains("Content-Type: multipart/alternative"))
            #expect(mail.contains("Message-ID: <") && mail.contains("@fix.example.com>"))
            #expect(mail.contains("Reply APPROVE to let us apply it, or REJECT to decline."))
            let token = try #require(mail.range(of: #"approve\+([a-z2-7]{32})@fix\.example\.com"#, options: .regularExpression)
                .map { String(mail[$0].dropFirst(8).prefix(32)) })
            let approval = try #require(try await bot.store.approval(tokenHash: ApprovalToken.hash(token)))
            #expect(approval.store.rawValue == "acme-store" && approval.status == .pending)
        }
    }

    @Test func mimeBodiesAreQuotedPrintableAndSubjectsEncoded() {
        let message = MailMessage(from: "perfbot <p@fix.example.com>", to: "dana@shop.example", replyTo: "approve+x@fix.example.com",
                                  subject: "Mémoire élevée", text: "Très bien = ok\n" + String(repeating: "x", count: 100),
                                  html: "<p>é</p>", messageID: "<1@fix.example.com>", date: Date(timeIntervalSince1970: 0))
        let rendered = message.rendered(boundary: "b")
        #expect(rendered.contains("Subject: =?UTF-8?B?TcOpbW9pcmUgw6lsZXbDqWU=?="))
        #expect(rendered.contains("Date: Thu, 01 Jan 1970 00:00:00 +0000"))
        #expect(rendered.contains("Tr=C3=A8s bien =3D ok\r\n"))
        #expect(rendered.split(separator: "\r\n").allSatisfy { $0.count <= 76 })
        #expect(rendered.hasSuffix("--b--\r\n"))
    }
}
