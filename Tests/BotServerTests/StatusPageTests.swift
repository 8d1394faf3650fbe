import BotChannels
import BotCore
import BotPlaybooks
import BotStore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// The store's status page: opened from the link an e-mail carries, refused when tampered with or
/// expired, and its Approve button decides through the approval path.
@Suite(.serialized) struct StatusPageTests {
    static let secret = "status-link-secret-0001"

    func bot(smtp port: Int? = nil, docker: String? = nil) async throws -> TestBot {
        var extra = ["PERFBOT_REPLY_DOMAIN": "fix.example.com", "MAILGUN_SIGNING_KEY": mailgunKey,
                     "PERFBOT_MAIL_AUTHSERV_ID": "mx.fix.example.com", "PERFBOT_LINK_SECRET": Self.secret,
                     "PERFBOT_PUBLIC_URL": "https://perfbot.example.com", "PERFBOT_MAIL_FROM": "perfbot <perfbot@fix.example.com>"]
        if let port { extra["SMTP_URL"] = "smtp://127.0.0.1:\(port)" }
        return try await TestBot(extra: extra, executors: docker.map { ExecutorFactory(docker: $0) } ?? ExecutorFactory())
    }

    /// The page's path and query from a full link.
    func path(_ link: String) -> String { String(link.dropFirst("https://perfbot.example.com".count)) }

    func get(_ client: some TestClientProtocol, _ path: String) async throws -> (HTTPResponse.Status, String) {
        let response = try await client.execute(uri: path, method: .get)
        return (response.status, String(buffer: response.body))
    }

    @Test func thePageOpensFromTheLinkInTheEmailAndRefusesTamperingAndExpiry() async throws {
        try await EmailLoopTests().withSMTP { port, maildir in
            let bot = try await bot(smtp: port)
            try await bot.app.test(.router) { client in
                let answer = try await postMailgun(client, mailgunForm(to: "perfbot@fix.example.com", from: "owner@acme-store.example",
                                                                     body: "status", timestamp: bot.clock.now,
                                                                     headers: [EmailCommandTests.passed]))
                #expect(answer.1 == "answered: status")
            }
            try await bot.wiring.outbox(poster: FailingPoster()).deliverDue()
            let mail = try #require(EmailLoopTests().mails(in: maildir).first)
            // Quoted-printable may fold the long link: unfold before reading it.
            let unfolded = mail.replacingOccurrences(of: "=\r\n", with: "").replacingOccurrences(of: "=\n", with: "")
                .replacingOccurrences(of: "=3D", with: "=")
            let link = try #require(unfolded.range(of: #"https://perfbot\.example\.com/status/acme-store\?expires=[0-9]+&sig=[0-9a-f]{64}"#,
                                                   options: .regularExpression).map { String(unfolded[$0]) }, "\(unfolded)")
            try await bot.app.test(.router) { client in
                let (status, page) = try await get(client, path(link))
                #expect(status == .ok)
                #expect(page.contains(#"<svg id="gauge""#))
                #expect(page.components(separatedBy: #"class="chart""#).count - 1 == 4)
                #expect(page.contains("What counts in the score") && page.contains("Page speed"))
                #expect(page.contains("<h2>Insights</h2>") && page.contains("Optimize my store"))
                #expect(!page.contains("<script"))
                // A changed signature, another store with this store's signature, an expired link.
                let tampered = path(link).replacingOccurrences(of: "sig=", with: "sig=0")
                #expect(try await get(client, String(tampered.dropLast())).0 == .forbidden)
                let other = try await get(client, path(link).replacingOccurrences(of: "/acme-store?", with: "/widgets-inc?"))
                #expect(other.0 == .forbidden && other.1.contains("mail the word <b>status</b> to <b>perfbot@fix.example.com</b>"))
                bot.clock.advance(by: 8 * 86400)
                let expired = try await get(client, path(link))
                #expect(expired.0 == .forbidden && expired.1.contains("This link has expired"))
            }
        }
    }

    @Test func theApproveButtonDecidesThroughTheApprovalPath() async throws {
        let docker = try standInDocker("exit 0")
        let bot = try await bot(docker: docker)
        try await bot.store.setAutomation(StoreID("acme-store")!, level: .notifyOnly, exceptions: [], at: t0)
        _ = try await bot.wiring.checkCycle(inline: true).run()
        let link = try #require(bot.wiring.statusLink()).url(for: StoreID("acme-store")!, now: bot.clock.now)
        try await bot.app.test(.router) { client in
            let (_, page) = try await get(client, path(link))
            #expect(page.contains("<h2>Waiting for your decision</h2>") && page.contains(">Approve</button>"))
            // The Approve form as the page renders it.
            let start = try #require(page.range(of: #"<form method="post""#)?.lowerBound)
            let approveForm = String(page[start...])
            var fields: [(String, String)] = []
            let regex = try NSRegularExpression(pattern: #"<input type="hidden" name="([a-z]+)" value="([^"]*)">"#)
            let formHTML = String(approveForm[..<(approveForm.range(of: "</form>")?.lowerBound ?? approveForm.endIndex)])
            for match in regex.matches(in: formHTML, range: NSRange(formHTML.startIndex..., in: formHTML)) {
                fields.append((String(formHTML[Range(match.range(at: 1), in: formHTML)!]), String(formHTML[Range(match.range(at: 2), in: formHTML)!])))
            }
            #expect(fields.map(\.0) == ["expires", "sig", "csrf", "action", "approval"])
            let action = try #require(formHTML.range(of: #"action="([^"]+)""#, options: .regularExpression).map {
                String(formHTML[$0].dropFirst(8).dropLast()).replacingOccurrences(of: "&amp;", with: "&")
            })
            func post(_ fields: [(String, String)]) async throws -> (HTTPResponse.Status, String) {
                let response = try await client.execute(uri: action, method: .post,
                                                         headers: [.contentType: "application/x-www-form-urlencoded"],
                                                         body: ByteBuffer(string: FormBody.encode(fields)))
                return (response.status, String(buffer: response.body))
            }
            // Without the page's CSRF token, nothing is decided.
            let forged = try await post(fields.map { $0.0 == "csrf" ? ($0.0, String(repeating: "0", count: 64)) : $0 })
            #expect(forged.0 == .forbidden)
            let approved = try await post(fields)
            #expect(approved.0 == .ok && approved.1.contains("Thank you: the fix is being applied."), "\(approved.1.prefix(600))")
        }
        let approval = try #require(try await bot.store.approvals(store: StoreID("acme-store")!, since: t0.addingTimeInterval(-60), limit: 5).first)
        #expect(approval.status == .approved && approval.decidedBy == "owner@acme-store.example")
        let job = try #require(approval.jobID)
        let outcome = await bot.wiring.engine.outcome(of: job)
        #expect(outcome.job.state == .succeeded && outcome.job.channel == "email")
    }
}
