import BotChannels
import BotCore
import BotPlaybooks
import BotStore
import CustomerChannels
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PerfbotApp
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
            let link = try #require(unfolded.range(of: #"https://perfbot\.example\.com/status/acme-store\?link=[a-z2-7]{20}&expires=[0-9]+&sig=[0-9a-f]{64}"#,
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

    /// A fresh link to acme-store's page, recorded as the mailer records it.
    func issue(_ bot: TestBot, contact: String = "owner@acme-store.example") async throws -> String {
        let issuer = StatusLinkIssuer(link: try #require(bot.wiring.statusLink()), store: bot.store)
        return try await issuer.issue(for: StoreID("acme-store")!, contact: contact, now: bot.clock.now)
    }

    /// A form of the page, as rendered: where it posts and its fields.
    struct PageForm {
        var action: String
        var fields: [(String, String)]
        func with(_ name: String, _ value: String) -> [(String, String)] { fields.map { $0.0 == name ? ($0.0, value) : $0 } }
    }

    /// The forms of `page` whose `action` field is `name`.
    func forms(_ page: String, action name: String) throws -> [PageForm] {
        let regex = try NSRegularExpression(pattern: #"<input type="hidden" name="([a-z_]+)" value="([^"]*)">"#)
        return page.components(separatedBy: #"<form method="post""#).dropFirst().compactMap { chunk -> PageForm? in
            let html = String(chunk[..<(chunk.range(of: "</form>")?.lowerBound ?? chunk.endIndex)])
            var fields: [(String, String)] = []
            for match in regex.matches(in: html, range: NSRange(html.startIndex..., in: html)) {
                fields.append((String(html[Range(match.range(at: 1), in: html)!]), String(html[Range(match.range(at: 2), in: html)!])))
            }
            guard fields.contains(where: { $0 == ("action", name) }),
                  let action = html.range(of: #"action="([^"]+)""#, options: .regularExpression).map({
                      String(html[$0].dropFirst(8).dropLast()).replacingOccurrences(of: "&amp;", with: "&")
                  }) else { return nil }
            return PageForm(action: action, fields: fields)
        }
    }

    func post(_ client: some TestClientProtocol, _ action: String, _ fields: [(String, String)]) async throws -> (HTTPResponse.Status, String) {
        let response = try await client.execute(uri: action, method: .post,
                                                 headers: [.contentType: "application/x-www-form-urlencoded"],
                                                 body: ByteBuffer(string: FormBody.encode(fields)))
        return (response.status, String(buffer: response.body))
    }

    /// The "Tuning" section: each setting now, read through the store's executor, and a field to propose a value; the
    /// proposal is the e-mail command's (checked, mailed for a yes), never a change made by the page itself.
    @Test func theTuningSectionProposesAChangeByEMail() async throws {
        let docker = try standInDocker(#"case "$*" in *"CONFIG GET maxmemory-policy"*) printf 'maxmemory-policy\nallkeys-lru\n';; "#
            + #"*"CONFIG GET maxmemory"*) printf 'maxmemory\n0\n';; *) exit 1;; esac"#)
        let bot = try await bot(docker: docker)
        var acme = try #require(try await bot.store.customer(StoreID("acme-store")!))
        acme.limits = ResourceLimits(memoryMB: 2048)
        try await bot.store.upsert([acme], at: t0)
        let link = try await issue(bot)
        try await bot.app.test(.router) { client in
            let (_, page) = try await get(client, path(link))
            #expect(page.contains("<h2>Tuning</h2>"), "\(page.suffix(2000))")
            #expect(page.contains("<td>0 bytes</td><td>16mb–2gb</td>"), "\(page)")
            #expect(page.contains(#"<option selected>allkeys-lru</option>"#))
            let set = try #require(try forms(page, action: "set").first { $0.fields.contains { $0 == ("setting", "redis.maxmemory") } })
            let odd = try await post(client, set.action, set.fields + [("value", "1gb; rm -rf /")])
            #expect(odd.1.contains("Write the new value like 256mb, 200 or allkeys-lru."))
            let tooBig = try await post(client, set.action, set.fields + [("value", "1900mb")])
            #expect(tooBig.1.contains("1900mb of Redis does not fit"), "\(tooBig.1.suffix(500))")
            let proposed = try await post(client, set.action, set.fields + [("value", "128mb")])
            #expect(proposed.1.contains("We have mailed you the change of redis.maxmemory from 0 bytes to 128mb"), "\(proposed.1.suffix(800))")
        }
        let approval = try #require(try await bot.store.approvals(store: StoreID("acme-store")!, since: t0.addingTimeInterval(-60), limit: 5).first)
        #expect(approval.status == .pending && approval.issueID == nil)
    }

    @Test func theApproveButtonDecidesThroughTheApprovalPath() async throws {
        let docker = try standInDocker("exit 0")
        let bot = try await bot(docker: docker)
        try await bot.store.setAutomation(StoreID("acme-store")!, level: .notifyOnly, exceptions: [], at: t0)
        _ = try await bot.wiring.checkCycle(inline: true).run()
        let link = try await issue(bot)
        try await bot.app.test(.router) { client in
            let (_, page) = try await get(client, path(link))
            #expect(page.contains("<h2>Waiting for your decision</h2>") && page.contains(">Approve</button>"))
            // The Approve form as the page renders it.
            let approve = try #require(try forms(page, action: "approve").first)
            #expect(approve.fields.map(\.0) == ["link", "expires", "sig", "act", "act_until", "action", "approval"])
            // Without the page's acting token, nothing is decided.
            let forged = try await post(client, approve.action, approve.with("act", String(repeating: "0", count: 64)))
            #expect(forged.0 == .forbidden)
            // A page left open past its acting time acts no more.
            let lapsed = approve.with("act_until", "\(Int(bot.clock.now.timeIntervalSince1970) - 1)")
            #expect(try await post(client, approve.action, lapsed).0 == .forbidden)
            let approved = try await post(client, approve.action, approve.fields)
            #expect(approved.0 == .ok && approved.1.contains("Approved: the fix is running now."), "\(approved.0) \(approved.1.suffix(300))")
        }
        let approval = try #require(try await bot.store.approvals(store: StoreID("acme-store")!, since: t0.addingTimeInterval(-60), limit: 5).first)
        #expect(approval.status == .approved && approval.decidedBy == "owner@acme-store.example" && approval.channel == .statusPage)
        let job = try #require(approval.jobID)
        try #require(approval.status == .approved, "the job would wait for ever")
        let outcome = await bot.wiring.engine.outcome(of: job)
        #expect(outcome.job.state == .succeeded && outcome.job.channel == "email")
    }

    /// The page can ask for a change but never confirm it: replayed requests collapse into one proposal, mailed
    /// once, and its only confirmation is a reply to that e-mail.
    @Test func twoPostsFromThePageLeaveTheLevelUnchanged() async throws {
        let bot = try await bot()
        let store = StoreID("acme-store")!
        let before = try #require(try await bot.store.customer(store)).automationLevel
        let link = try await issue(bot)
        try await bot.app.test(.router) { client in
            let page = try await get(client, path(link)).1
            let level = try #require(try forms(page, action: "level").first { $0.fields.contains { $0 == ("level", "3") } }
                                     ?? forms(page, action: "level").first)
            for _ in 0..<3 {
                let asked = try await post(client, level.action, level.fields)
                #expect(asked.0 == .ok)
            }
            let waiting = try await bot.store.approvals(store: store, since: t0.addingTimeInterval(-60), limit: 10).filter { $0.status == .pending }
            #expect(waiting.count == 1, "identical requests collapse into one")
            let proposal = try #require(waiting.first)
            // The page shows it without buttons, and refuses a hand-made Approve for it.
            let after = try await get(client, path(link)).1
            #expect(after.contains("this is confirmed by e-mail") && !after.contains(">Approve</button>"), "\(after)")
            let forged = level.fields.filter { $0.0 != "action" && $0.0 != "level" } + [("action", "approve"), ("approval", proposal.id)]
            let refused = try await post(client, level.action, forged)
            #expect(refused.1.contains("Nothing was changed: this request is confirmed by replying YES"), "\(refused.1.prefix(600))")
        }
        #expect(try await bot.store.customer(store)?.automationLevel == before)
        let mails = try await bot.store.pendingMessages().filter { $0.channel == "email" }
        #expect(mails.count == 1, "one confirmation mailed, however often the form was posted")
    }

    /// Every link has an id recorded at issue: revoked for a store, or only those mailed to one contact.
    @Test func linksAreRevokedPerStoreAndPerContact() async throws {
        let bot = try await bot()
        let store = StoreID("acme-store")!
        let owner = try await issue(bot), old = try await issue(bot, contact: "former@acme-store.example")
        try await bot.app.test(.router) { client in
            #expect(try await get(client, path(owner)).0 == .ok)
            // A link mailed to a former contact opens nothing once the store's contact is someone else.
            let former = try await get(client, path(old))
            #expect(former.0 == .forbidden && former.1.contains("withdrawn"))
            #expect(try await bot.store.revokeStatusLinks(store: store, contact: "someone@else.example", at: bot.clock.now) == 0)
            #expect(try await get(client, path(owner)).0 == .ok)
            #expect(try await bot.store.revokeStatusLinks(store: store, contact: "Owner@Acme-Store.example", at: bot.clock.now) == 1)
            let revoked = try await get(client, path(owner))
            #expect(revoked.0 == .forbidden && revoked.1.contains("This link was withdrawn"))
            // A well-signed link that was never recorded opens nothing either.
            let link = try #require(bot.wiring.statusLink())
            let unrecorded = link.path(for: store, id: StatusLink.newID(), expires: link.expiry(from: bot.clock.now))
            #expect(try await get(client, unrecorded).0 == .forbidden)
        }
    }
}

/// "Compared with similar stores" on the status page: the cohort's average and where the store stands, only with
/// at least 5 other stores, and never another store's name or figures.
@Suite struct StatusPageComparisonTests {
    @Test func theComparisonShowsOnlyAggregatesOfFiveOrMoreStores() async throws {
        let bot = try await TestBot(extra: ["PERFBOT_LINK_SECRET": StatusPageTests.secret, "PERFBOT_PUBLIC_URL": "https://perfbot.example.com"])
        let acme = try #require(try await bot.store.customer(StoreID("acme-store")!))
        func peer(_ index: Int) -> Customer {
            Customer(id: StoreID("peer-\(index)")!, platform: acme.platform, plan: acme.plan, contactEmail: "o@peer\(index).example",
                     container: "peer-\(index)-app")
        }
        // TTFB over the last hours: the peers 1,000 … 1,400 ms (average 1,200); acme-store is at whatever its demo data says.
        func seed(_ count: Int) async throws {
            try await bot.store.upsert((1...count).map(peer), at: bot.clock.now)
            for index in 1...count {
                try await bot.store.insert((1...6).map { MetricSample(store: StoreID("peer-\(index)")!, metric: .ttfbMs,
                                                                      at: bot.clock.now.addingTimeInterval(Double(-3600 * $0)),
                                                                      value: Double(900 + 100 * index)) })
            }
        }
        let link = try #require(bot.wiring.statusLink())
        let url = try await StatusLinkIssuer(link: link, store: bot.store).issue(for: acme.id, contact: acme.contactEmail, now: bot.clock.now)
        let path = String(url.dropFirst("https://perfbot.example.com".count))
        func page() async throws -> String {
            try await bot.app.test(.router) { client in String(buffer: try await client.execute(uri: path, method: .get).body) }
        }
        // Four peers: too few to compare with, so the section is left out.
        try await seed(4)
        #expect(try await !page().contains("Compared with similar stores"))
        try await seed(5)
        let html = try await page()
        #expect(html.contains("<h2>Compared with similar stores</h2>"), "\(html.prefix(3000))")
        // Their size is not known, so the cohort is the plan's: the page says so rather than "of a similar size".
        #expect(html.contains("5 other WooCommerce stores on your plan, over the last 24 hours"), "\(html)")
        #expect(html.contains("<td>behind all of them</td>"), "\(html)")
        #expect(html.contains("<td>TTFB</td>") && html.contains("<td>1200 ms</td>"), "\(html)")
        for index in 1...5 { #expect(!html.contains("peer-\(index)")) }
        #expect(!html.contains("<td>1000 ms</td>") && !html.contains("<td>1400 ms</td>"))
    }

    /// A premium store's page shows its traffic of the week (the demo's, from its access log): a heatmap, bandwidth and
    /// crawlers, aggregates only; a store on a basic plan gets no such section.
    @Test func aPremiumStoreSeesItsTrafficAndABasicOneDoesNot() async throws {
        let bot = try await TestBot(extra: ["PERFBOT_LINK_SECRET": StatusPageTests.secret, "PERFBOT_PUBLIC_URL": "https://perfbot.example.com",
                                            "PERFBOT_REPLY_DOMAIN": "fix.example.com"])
        var acme = try #require(try await bot.store.customer(StoreID("acme-store")!))
        let link = try #require(bot.wiring.statusLink())
        let url = try await StatusLinkIssuer(link: link, store: bot.store).issue(for: acme.id, contact: acme.contactEmail, now: bot.clock.now)
        let path = String(url.dropFirst("https://perfbot.example.com".count))
        func page() async throws -> String {
            try await bot.app.test(.router) { client in String(buffer: try await client.execute(uri: path, method: .get).body) }
        }
        let stored = try await bot.store.trafficHours(acme.id, from: bot.clock.now.addingTimeInterval(-7 * 86400), to: bot.clock.now)
        let requests = stored.reduce(0) { $0 + $1.requests }
        let html = try await page()
        #expect(html.contains("<h2>Traffic, last 7 days</h2>"), "\(html.prefix(2000))")
        #expect(html.contains("\(TrafficText.count(requests)) requests · people 80 % · crawlers 20 %"), "\(html)")
        #expect(html.contains(#"<svg id="heatmap""#) && html.components(separatedBy: "<rect ").count - 1 == 7 * 24)
        #expect(html.contains("<td>MJ12bot</td>") && html.contains("deny it in the web server"))
        // A crawler to turn away has a button; it proposes the recommendation through the e-mail command, mailed for a yes.
        let helper = StatusPageTests()
        let block = try #require(try helper.forms(html, action: "block").first { $0.fields.contains { $0 == ("crawler", "AhrefsBot") } })
        #expect(try helper.forms(html, action: "block").allSatisfy { form in !form.fields.contains { $0 == ("crawler", "Googlebot") } })
        let asked = try await bot.app.test(.router) { client in try await helper.post(client, block.action, block.fields) }
        #expect(asked.1.contains("We have mailed you a robots.txt rule for AhrefsBot"), "\(asked.1.suffix(800))")
        let forged = try await bot.app.test(.router) { client in try await helper.post(client, block.action, block.with("crawler", "Bad Bot;")) }
        #expect(forged.1.contains("That is not a crawler&#39;s name.") || forged.1.contains("That is not a crawler's name."), "\(forged.1.suffix(500))")
        // Countries need a GeoIP database, which this perfbot has not: none are shown.
        #expect(!html.contains("<h3>Countries</h3>"))
        acme.plan = .basic
        try await bot.store.upsert([acme], at: bot.clock.now)
        #expect(try await !page().contains("Traffic, last 7 days"))
    }
}
