import BotChannels
import BotCore
import BotPlaybooks
import BotServer
import Foundation
import Logging

/// A store's status page: server-rendered HTML with inline SVG (no script at all), reached by the signed
/// link every customer e-mail carries. It shows the health gauge, each factor with its contribution,
/// 7-day trends, the insights feed, and the proposals waiting for the contact, whose Approve and Reject
/// buttons decide through the same approval path as an e-mail reply; the one-click optimize and the
/// automation level go through the e-mail commands' path (a proposal, then a job).
public struct StatusPageService: StatusPages {
    let store: any StatusPageStore
    let link: StatusLink
    let clock: any BotClock
    let replies: EmailReplies
    let router: CommandRouter
    let commandAddress: String?
    let logger: Logger
    let scorer = HealthScorer()
    let advice: Recommendations
    /// Whether traffic is placed in countries (a GeoIP database was given), and the crawler list's footnote.
    let countriesKnown: Bool
    let botListNote: String
    /// Reads and checks the store's service settings (the "Tuning" section).
    let tuningDesk: TuningDesk

    public init(store: any StatusPageStore, link: StatusLink, clock: any BotClock, replies: EmailReplies, router: CommandRouter,
                commandAddress: String?, logger: Logger, advice: Recommendations, tuningDesk: TuningDesk,
                countriesKnown: Bool = false, botListNote: String = "") {
        self.tuningDesk = tuningDesk
        self.countriesKnown = countriesKnown
        self.botListNote = botListNote
        self.advice = advice
        self.store = store
        self.link = link
        self.clock = clock
        self.replies = replies
        self.router = router
        self.commandAddress = commandAddress
        self.logger = logger
    }

    // MARK: Access

    /// A link that opened a page: whose store, which link, until when.
    struct Opened {
        var customer: Customer
        var linkID: String
        var expires: Int64
    }

    /// The customer the link opens, or the page that refuses it: the signature, the expiry, and the record of the
    /// link (issued for this store, to its contact of today, not revoked).
    func open(_ name: String, query: [String: String]) async -> Result<Opened, Refusal> {
        guard let id = StoreID(name) else { return .failure(.invalid) }
        switch link.verify(id, id: query["link"], expires: query["expires"], signature: query["sig"], now: clock.now) {
        case .invalid: return .failure(.invalid)
        case .expired: return .failure(.expired)
        case .valid: break
        }
        guard let linkID = query["link"], let expires = Int64(query["expires"] ?? ""),
              let issued = try? await store.statusLink(id: linkID, store: id),
              let customer = try? await store.customer(id), customer.active else { return .failure(.invalid) }
        guard issued.revokedAt == nil, MailAddress.same(issued.contact, customer.contactEmail) else { return .failure(.revoked) }
        return .success(Opened(customer: customer, linkID: linkID, expires: expires))
    }

    enum Refusal: Error { case invalid, expired, revoked, forbidden, stale }

    func refusal(_ reason: Refusal) -> (status: Int, html: String) {
        let why = switch reason {
        case .expired: "This link has expired: links to a status page are valid for a few days."
        case .invalid: "This link is not valid: it may have been changed or cut short."
        case .revoked: "This link was withdrawn: your hosting team closed it, or the store's contact changed."
        case .forbidden: "This form could not be checked, so nothing was changed."
        case .stale: "This page was open too long to act from, so nothing was changed. Open the link again and retry."
        }
        let fresh = commandAddress.map { "To get a fresh link, mail the word <b>status</b> to <b>\(Self.escaped($0))</b> from your contact address." }
            ?? "Ask your hosting team for a fresh link."
        return (403, Self.document(title: "Link not valid", body: """
            <main class="narrow"><h1>This page cannot be shown</h1><p>\(why)</p><p>\(fresh)</p></main>
            """))
    }

    // MARK: StatusPages

    public func page(store name: String, query: [String: String]) async -> (status: Int, html: String) {
        switch await open(name, query: query) {
        case let .failure(reason): return refusal(reason)
        case let .success(opened):
            do {
                return (200, try await render(opened, notice: nil))
            } catch {
                logger.error("status page failed", metadata: ["store": "\(opened.customer.id)", "error": "\(error)"])
                return (500, Self.document(title: "Error", body: "<main class=\"narrow\"><h1>Sorry</h1><p>The page could not be built; your hosting team has been told.</p></main>"))
            }
        }
    }

    public func act(store name: String, form: [String: String]) async -> (status: Int, html: String) {
        let opened: Opened
        switch await open(name, query: form) {
        case let .failure(reason): return refusal(reason)
        case let .success(found): opened = found
        }
        let customer = opened.customer
        guard let token = form["act"], let until = form["act_until"] else { return refusal(.forbidden) }
        guard link.verifyAct(token, store: customer.id, id: opened.linkID, until: until, now: clock.now) else {
            return refusal(link.verifyAct(token, store: customer.id, id: opened.linkID, until: until, now: .distantPast) ? .stale : .forbidden)
        }
        do {
            let notice = try await perform(form["action"] ?? "", form: form, customer: customer)
            return (200, try await render(opened, notice: notice))
        } catch {
            logger.error("status page action failed", metadata: ["store": "\(customer.id)", "error": "\(error)"])
            return (500, Self.document(title: "Error", body: "<main class=\"narrow\"><h1>Sorry</h1><p>That did not work; nothing was changed and your hosting team has been told.</p></main>"))
        }
    }

    /// Whether a proposal may be decided on the page: only fixes perfbot proposed for a problem it found. What
    /// someone asked for (the optimize, a setting, from the page or by mail) is confirmed by replying to the
    /// e-mail sent to the contact, so the page alone can never both ask and approve.
    static func decidableOnPage(_ approval: Approval) -> Bool { approval.issueID != nil }

    /// Carries out a button: decides a proposal, or asks for the optimize or a level (both confirmed by e-mail).
    func perform(_ action: String, form: [String: String], customer: Customer) async throws -> String {
        let contact = Contact(email: customer.contactEmail,
                              stores: try await store.allCustomers().filter { MailAddress.same($0.contactEmail, customer.contactEmail) }.map(\.id))
        switch action {
        case "approve", "reject":
            guard let id = form["approval"], Approval.isValidID(id), let approval = try await store.approval(id: id),
                  approval.store == customer.id else { return "That proposal is not one of this store's." }
            guard Self.decidableOnPage(approval) else {
                return "Nothing was changed: this request is confirmed by replying YES to the e-mail we sent you, not on this page."
            }
            switch try await replies.decide(approval, approve: action == "approve", customer: customer,
                                            sender: customer.contactEmail, channel: .statusPage) {
            case .approved: return "Approved: the fix is running now. We will mail you the result."
            case .rejected: return "Rejected: the fix will not be applied."
            case let .refused(_, reason): return "Nothing was changed: \(reason)."
            case .gone: return "Nothing was changed: the fix can no longer be applied as proposed; your hosting team has been told."
            case .superseded: return "Nothing was changed: the fix changed after it was proposed, so we have mailed you the current steps."
            case let .alreadyDecided(decided): return "This proposal was already \(decided.status.rawValue)."
            case .expired: return "This proposal had expired; nothing was changed."
            case .issueResolved: return "The problem went away on its own, so no fix is needed."
            case .unknown: return "That proposal is not one of this store's."
            }
        case "optimize":
            return await router.route("optimize \(customer.id)", contact: contact, logger: logger).plainText
        case "level":
            guard let value = form["level"], ["1", "2", "3"].contains(value) else { return "Choose a level from 1 to 3." }
            return await router.route("level \(value) \(customer.id)", contact: contact, logger: logger).plainText
        case "set":
            // A known setting and a value of plain characters; the checks and the proposal are the e-mail command's.
            let setting = form["setting"] ?? "", value = (form["value"] ?? "").trimmingCharacters(in: .whitespaces)
            guard tuningDesk.catalogue(for: customer).setting(setting) != nil else { return "That is not one of your store's settings." }
            guard (1...40).contains(value.count), value.unicodeScalars.allSatisfy({ $0.isASCII && (CharacterSet.alphanumerics.contains($0) || $0 == "." || $0 == "-") }) else {
                return "Write the new value like 256mb, 200 or allkeys-lru."
            }
            return await router.route("set \(setting) \(value) \(customer.id)", contact: contact, logger: logger).plainText
        case "block":
            // A crawler's name as the report shows it; which way, and whether at all, is the e-mail command's to decide.
            let crawler = form["crawler"] ?? ""
            guard CrawlerBlock(crawler: crawler, how: .robots) != nil else { return "That is not a crawler's name." }
            return await router.route("block \(crawler) \(customer.id)", contact: contact, logger: logger).plainText
        default:
            return "Nothing was changed."
        }
    }

    // MARK: Rendering

    func render(_ opened: Opened, notice: String?) async throws -> String {
        let now = clock.now
        let (customer, expires) = (opened.customer, opened.expires)
        let id = customer.id
        guard let readings = try await store.storeReadings(id, asOf: now) else { return Self.document(title: "\(id)", body: "") }
        let fresh = readings.latest.fresh(asOf: now)
        let report = fresh.values.isEmpty ? nil : scorer.report(HealthInputs(latest: fresh, uptime24h: readings.uptime24h))
        let dayAgoSnapshot = readings.dayAgo.fresh(asOf: now.addingTimeInterval(-86400))
        let dayAgo = dayAgoSnapshot.values.isEmpty ? nil
            : scorer.report(HealthInputs(latest: dayAgoSnapshot, uptime24h: readings.uptime24hDayAgo)).score
        let week = now.addingTimeInterval(-7 * 86400)
        let scores = try await store.scores(of: id, since: week).map { (at: $0.at, value: Double($0.score)) }
        let ttfb = try await store.hourlyMeans(.ttfbMs, of: id, from: week, to: now)
        let memory = try await store.hourlyMeans(.memoryPercent, of: id, from: week, to: now)
        let cpu = try await store.hourlyMeans(.cpuPercent, of: id, from: week, to: now)
        let feed = try await store.feed(of: id, limit: 12)
        let waiting = try await store.approvals(store: id, since: now, limit: 10).filter { $0.status == .pending && $0.expiresAt > now }
        let actUntil = Int64(now.addingTimeInterval(link.actLifetime).timeIntervalSince1970)
        let act = link.actToken(id, id: opened.linkID, until: actUntil)
        let action = Self.escaped(link.path(for: id, id: opened.linkID, expires: expires))
        func form(_ fields: [(String, String)], button: String, style: String = "") -> String {
            let hidden = ([("link", opened.linkID), ("expires", "\(expires)"), ("sig", link.signature(id, opened.linkID, expires)),
                           ("act", act), ("act_until", "\(actUntil)")] + fields)
                .map { "<input type=\"hidden\" name=\"\(Self.escaped($0.0))\" value=\"\(Self.escaped($0.1))\">" }.joined()
            return "<form method=\"post\" action=\"\(action)\">\(hidden)<button class=\"\(style)\">\(Self.escaped(button))</button></form>"
        }

        var html = "<header><h1>\(Self.escaped(id.rawValue))</h1><p>\(customer.platform.displayName) · \(customer.plan.rawValue) plan · "
            + "last measured \(readings.latest.lastSampleAt.map { Wording.ago($0, now: now) } ?? "never")</p></header>"
        if let notice { html += "<p class=\"notice\" role=\"status\">\(Self.escaped(notice))</p>" }
        // The gauge and the factors.
        html += "<section class=\"top\">"
        if let report, let score = report.score {
            let band = HealthBand(score: score)
            let trend = dayAgo.map { score > $0 ? "▲ \(score - $0) since yesterday" : score < $0 ? "▼ \($0 - score) since yesterday" : "▶ same as yesterday" }
                ?? "no score yesterday to compare"
            html += Self.gauge(score: score, band: band)
            html += "<div class=\"summary\"><p class=\"band \(band.rawValue)\">\(band.rawValue.capitalized)</p><p>\(trend)</p>"
                + (report.missing.isEmpty ? "" : "<p class=\"muted\">No recent data for \(report.missing.map(\.title).joined(separator: ", ")); "
                    + "the score weighs the rest.</p>") + "</div></section>"
            html += "<section><h2>What counts in the score</h2><table><thead><tr><th>Factor</th><th>Measured</th><th>Score</th>"
                + "<th>Weight</th><th>Points</th></tr></thead><tbody>"
            for factor in report.factors {
                let measured: String = factor.measures.map { "\($0.name) \(Wording.measure($0.value, unit: $0.unit))" }.joined(separator: ", ")
                html += "<tr><td>\(factor.factor.title)</td><td>\(Self.escaped(measured))</td><td>\(Int(factor.score.rounded()))</td>"
                    + "<td>\(Int((factor.effectiveWeight * 100).rounded())) %</td><td>\(Wording.number(factor.contribution))</td></tr>"
            }
            html += "</tbody></table></section>"
        } else {
            html += "<div id=\"gauge\" class=\"nodata\">No recent measurements, so no score right now.</div></section>"
        }
        let tips = advice.current(fresh, platform: customer.platform)
        if !tips.isEmpty {
            html += "<section><h2>What we recommend</h2><ul class=\"feed\">" + tips.map { tip -> String in
                "<li><span class=\"tag recommendation\">Tip</span> <b>\(Self.escaped(tip.title))</b><br>"
                    + "<span class=\"muted\">\(Self.escaped(tip.evidence))</span></li>"
            }.joined() + "</ul></section>"
        }
        html += try await comparison(customer, now: now)
        html += try await traffic(customer, now: now, form: { form($0, button: $1, style: $2) })
        // Seven days of trends.
        html += "<section><h2>The last 7 days</h2><div class=\"charts\">"
        html += Self.chart("health", title: "Health score", unit: "", points: scores, from: week, to: now, fixed: 0...100)
        html += Self.chart("ttfb", title: "Time to first byte", unit: " ms", points: ttfb, from: week, to: now, fixed: nil)
        html += Self.chart("memory", title: "Memory", unit: " %", points: memory, from: week, to: now, fixed: 0...100)
        html += Self.chart("cpu", title: "CPU", unit: " %", points: cpu, from: week, to: now, fixed: 0...100)
        html += "</div></section>"
        // Proposals waiting for the contact.
        html += "<section><h2>Waiting for your decision</h2>"
        if waiting.isEmpty {
            html += "<p class=\"muted\">Nothing waits for you.</p>"
        } else {
            for approval in waiting {
                let what = approval.kind.isSetting ? "Change a setting" : approval.playbook.replacingOccurrences(of: "_", with: " ").capitalized
                html += "<div class=\"proposal\"><h3>\(Self.escaped(what))</h3><ul>"
                    + approval.steps.map { "<li>\(Self.escaped($0))</li>" }.joined()
                    + "</ul><p class=\"muted\">Stands until \(Wording.dayAndTime(approval.expiresAt)).</p>"
                    + (Self.decidableOnPage(approval)
                        ? "<div class=\"buttons\">"
                            + form([("action", "approve"), ("approval", approval.id)], button: "Approve", style: "primary")
                            + form([("action", "reject"), ("approval", approval.id)], button: "Reject") + "</div>"
                        : "<p>To be sure it was you, this is confirmed by e-mail: reply <b>YES</b> to the message we sent "
                            + "\(Self.escaped(customer.contactEmail)) (or <b>NO</b> to cancel).</p>")
                    + "</div>"
            }
        }
        html += "</section>"
        // The feed, the optimize button and the level.
        html += "<section><h2>Insights</h2>"
        // Words rather than emoji (fonts differ), and an issue's technical condition is left out.
        let marks = ["issue": "Problem", "resolved": "Resolved", "action": "Done", "prediction": "Forecast", "recommendation": "Tip"]
        html += feed.isEmpty ? "<p class=\"muted\">Nothing yet.</p>" : "<ul class=\"feed\">" + feed.map { entry -> String in
            let body = entry.kind == "issue" || entry.body.isEmpty ? "" : "<br><span class=\"muted\">\(Self.escaped(entry.body))</span>"
            return "<li><span class=\"tag \(entry.kind)\">\(marks[entry.kind] ?? "Note")</span> <b>\(Self.escaped(entry.title))</b> "
                + "<span class=\"muted\">\(Wording.ago(entry.at, now: now))</span>\(body)</li>"
        }.joined() + "</ul>"
        html += "</section>"
        html += try await tuning(customer, form: { fields, inputs, button in
            let hidden = ([("link", opened.linkID), ("expires", "\(expires)"), ("sig", link.signature(id, opened.linkID, expires)),
                           ("act", act), ("act_until", "\(actUntil)")] + fields)
                .map { "<input type=\"hidden\" name=\"\(Self.escaped($0.0))\" value=\"\(Self.escaped($0.1))\">" }.joined()
            return "<form method=\"post\" action=\"\(action)\" class=\"tune\">\(hidden)\(inputs)<button>\(Self.escaped(button))</button></form>"
        })
        html += "<section class=\"controls\"><div><h2>One-click optimize</h2><p>Clears caches and tidies up "
            + "safely. We mail you its steps; they run when you reply YES to that e-mail.</p>"
            + form([("action", "optimize")], button: "Optimize my store", style: "primary") + "</div>"
        let levels = [(1, "ask me before every fix"), (2, "safe fixes on their own"), (3, "every fix on its own")]
        html += "<div><h2>Automation</h2><p>Level \(customer.automationLevel.rawValue): \(customer.automationLevel.name).</p>"
            + "<div class=\"buttons\">" + levels.filter { $0.0 != customer.automationLevel.rawValue }.map {
                form([("action", "level"), ("level", "\($0.0)")], button: "Level \($0.0): \($0.1)")
            }.joined() + "</div></div></section>"
        html += "<footer>perfbot, for your hosting team · this link is valid until "
            + "\(Wording.dayAndTime(Date(timeIntervalSince1970: TimeInterval(expires))))</footer>"
        return Self.document(title: "\(id) · status", body: "<main>\(html)</main>")
    }

    /// "Compared with similar stores": the cohort's average and where this store stands, over the last 24 hours,
    /// only when at least 5 other stores are in the cohort; never another store's name or figures.
    func comparison(_ customer: Customer, now: Date) async throws -> String {
        let fleet = try await store.allCustomers()
        let cohort = Cohort.of(customer, in: fleet)
        guard cohort.peers.count >= 5 else { return "" }
        let from = now.addingTimeInterval(-86400)
        var rows: [String] = []
        for measure in BenchmarkMeasure.standard where !measure.perHour {
            let values = try await store.average(measure.metric, stores: [customer.id] + cohort.peers.map(\.id), from: from, to: now)
            let peers = cohort.peers.compactMap { values[$0.id] }
            guard peers.count >= 5, let value = values[customer.id] else { continue }
            let line = BenchmarkLine(measure, value: value, peers: peers)
            guard let average = line.cohortAverage, let percentile = line.percentile else { continue }
            func shown(_ number: Double) -> String {
                measure.metric.isPercent ? Wording.number(number) + " %" : Wording.measure(number, unit: measure.metric.unit)
            }
            let ahead = Int(percentile.rounded())
            let standing = ahead >= 100 ? "ahead of all of them" : ahead <= 0 ? "behind all of them"
                : ahead >= 50 ? "better than \(ahead) % of them" : "behind \(100 - ahead) % of them"
            rows.append("<tr><td>\(Self.escaped(measure.label))</td><td>\(shown(value))</td><td>\(shown(average))</td>"
                + "<td>\(standing)</td></tr>")
        }
        guard !rows.isEmpty else { return "" }
        // Say how alike they are: the cohort may have been widened to find five.
        let alike = switch cohort.widening {
        case nil: "of a similar size on your plan"
        case Cohort.steps[1].words: "of roughly your size on your plan"
        case Cohort.steps[2].words: "on your plan"
        default: "of every size and plan"
        }
        return "<section><h2>Compared with similar stores</h2><p class=\"muted\">\(cohort.peers.count) other \(customer.platform.displayName) "
            + "stores \(alike), over the last 24 hours: only their average is shown, never a store's own figures.</p>"
            + "<table><thead><tr><th>Measure</th><th>Your store</th><th>Their average</th><th>Where you stand</th></tr></thead>"
            + "<tbody>\(rows.joined())</tbody></table></section>"
    }

    /// "Traffic" (premium, from the access log): the busiest hours as a heatmap, people and crawlers, bandwidth by
    /// kind as bars, countries; a crawler to turn away has a button that proposes it (mailed for a yes). Nothing when
    /// the log is not read.
    func traffic(_ customer: Customer, now: Date, form: ([(String, String)], String, String) -> String) async throws -> String {
        guard customer.plan.isPremium else { return "" }
        let hours = try await store.trafficHours(customer.id, from: now.addingTimeInterval(-7 * 86400), to: now)
        guard !hours.isEmpty else { return "" }
        let report = TrafficReport(hours: hours, botListNote: botListNote, countriesKnown: countriesKnown)
        let totals = report.totals
        let valid = max(1, totals.valid)
        var html = "<section id=\"traffic\"><h2>Traffic, last 7 days</h2><p class=\"muted\">"
            + "\(TrafficText.count(totals.valid)) requests · \(Self.escaped(TrafficText.peopleAndCrawlers(totals))) · "
            + "\(TrafficText.size(totals.bandwidth))" + (TrafficText.busiestHour(report).map { " · busiest \($0) UTC" } ?? "") + "</p>"
        html += "<div class=\"traffic\">" + Self.heatmap(report.heatmap)
        let kinds = report.bandwidthByKind.filter { $0.value > 0 }.sorted { ($0.value, $1.key) > ($1.value, $0.key) }
        html += "<div><h3>Bandwidth</h3><table class=\"bars\"><tbody>" + kinds.prefix(7).map { kind in
            let share = Double(kind.value) / Double(max(1, totals.bandwidth))
            return "<tr><td>\(Self.escaped(kind.key))</td><td class=\"bar\"><span style=\"width:\(Int((share * 100).rounded()))%\"></span></td>"
                + "<td>\(TrafficText.size(kind.value))</td></tr>"
        }.joined() + "</tbody></table>"
        if let countries = report.countries, !countries.isEmpty {
            html += "<h3>Countries</h3><table><tbody>" + countries.prefix(6).map {
                "<tr><td>\(Self.escaped($0.country))</td><td>\(TrafficText.percent($0.requests, of: valid))</td></tr>"
            }.joined() + "</tbody></table>"
        }
        html += "</div></div>"
        if !report.bots.isEmpty {
            html += "<h3>Crawlers</h3><table><thead><tr><th>Crawler</th><th>Share</th><th>What to do</th><th></th></tr></thead><tbody>"
                + report.bots.prefix(5).map { bot in
                    let blockable = bot.recommendation.action == .robots || bot.recommendation.action == .deny
                    return "<tr><td>\(Self.escaped(bot.name))</td><td>\(TrafficText.percent(bot.requests, of: valid))</td>"
                        + "<td>\(Self.escaped(bot.recommendation.text))</td>"
                        + "<td>\(blockable ? form([("action", "block"), ("crawler", bot.name)], "Ask to block", "") : "")</td></tr>"
                }.joined() + "</tbody></table>"
        }
        html += "<p class=\"muted\">Counts per hour only: no lines of your log and no visitors' addresses are kept.</p></section>"
        return html
    }

    /// "Tuning" (premium): each service setting now, its range, and a field to propose a new value; a proposal is
    /// mailed to the contact and made as a job only on their yes. `form` makes a signed form with the fields given.
    func tuning(_ customer: Customer, form: ([(String, String)], String, String) -> String) async throws -> String {
        guard customer.plan.isPremium else { return "" }
        let catalogue = tuningDesk.catalogue(for: customer)
        guard !catalogue.settings.isEmpty else { return "" }
        let now = try await tuningDesk.current(customer)
        var html = "<section id=\"tuning\"><h2>Tuning</h2><p class=\"muted\">Your store's PHP, database, Redis and Varnish settings. "
            + "A new value is checked against its safe range and the rest of your setup, mailed to you, and made only when "
            + "you reply YES; it is read back from the service afterwards, and can be put back.</p><table><thead><tr><th>Setting</th>"
            + "<th>Now</th><th>May be</th><th>New value</th></tr></thead><tbody>"
        for setting in catalogue.settings {
            let input: String
            if case let .choice(values) = setting.domain {
                input = "<select name=\"value\" aria-label=\"New value of \(setting.id)\">" + values.map {
                    "<option\(now[setting.id] == $0 ? " selected" : "")>\(Self.escaped($0))</option>"
                }.joined() + "</select>"
            } else {
                input = "<input name=\"value\" size=\"8\" maxlength=\"40\" aria-label=\"New value of \(setting.id)\" "
                    + "placeholder=\"\(Self.escaped(now[setting.id].map(setting.shown) ?? ""))\">"
            }
            html += "<tr><td><b>\(Self.escaped(setting.id))</b><br><span class=\"muted\">\(Self.escaped(setting.help))</span></td>"
                + "<td>\(Self.escaped(now[setting.id].map(setting.shown) ?? "not read"))</td><td>\(Self.escaped(setting.allowed))</td>"
                + "<td>\(form([("action", "set"), ("setting", setting.id)], input, "Propose"))</td></tr>"
        }
        return html + "</tbody></table></section>"
    }

    /// Requests by weekday (rows, Monday first) and UTC hour (columns) as an SVG grid, darker for busier.
    static func heatmap(_ grid: [[Int]]) -> String {
        let peak = max(1, grid.flatMap { $0 }.max() ?? 1)
        let days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
        var svg = "<svg id=\"heatmap\" class=\"heatmap\" viewBox=\"0 0 520 190\" role=\"img\" aria-label=\"Requests by weekday and hour\">"
        for (row, values) in grid.enumerated() {
            svg += "<text x=\"0\" y=\"\(row * 22 + 31)\" font-size=\"12\" fill=\"#5b6475\">\(days[row])</text>"
            for (hour, value) in values.enumerated() {
                let level = value == 0 ? 0.0 : 0.12 + 0.88 * Double(value) / Double(peak)
                svg += "<rect x=\"\(36 + hour * 20)\" y=\"\(row * 22 + 16)\" width=\"18\" height=\"20\" rx=\"3\" "
                    + "fill=\"\(value == 0 ? "#eef0f3" : "#3465d9")\" fill-opacity=\"\(Wording.number(value == 0 ? 1 : level))\">"
                    + "<title>\(days[row]) \(String(format: "%02d", hour)):00 · \(value) requests</title></rect>"
            }
        }
        for hour in stride(from: 0, to: 24, by: 3) {
            svg += "<text x=\"\(36 + hour * 20)\" y=\"186\" font-size=\"11\" fill=\"#8a93a3\">\(String(format: "%02d", hour))</text>"
        }
        return svg + "</svg>"
    }

    static func gauge(score: Int, band: HealthBand) -> String {
        // A 240° arc: its length is the score's share.
        let colour = band == .healthy ? "#2e9e44" : band == .warning ? "#e0a800" : "#d13b2e"
        let radius = 80.0, length = 2 * Double.pi * radius * 240 / 360
        let filled = length * Double(score) / 100
        return """
            <svg id="gauge" class="gauge" viewBox="0 0 200 180" role="img" aria-label="Health score \(score) of 100">\
            <circle cx="100" cy="100" r="80" fill="none" stroke="#e6e8eb" stroke-width="18" stroke-linecap="round" \
            stroke-dasharray="\(Wording.number(length)) 1000" transform="rotate(150 100 100)"/>\
            <circle cx="100" cy="100" r="80" fill="none" stroke="\(colour)" stroke-width="18" stroke-linecap="round" \
            stroke-dasharray="\(Wording.number(filled)) 1000" transform="rotate(150 100 100)"/>\
            <text x="100" y="108" text-anchor="middle" font-size="44" font-weight="700" fill="#1d2330">\(score)</text>\
            <text x="100" y="135" text-anchor="middle" font-size="13" fill="#5b6475">of 100</text></svg>
            """
    }

    static func chart(_ name: String, title: String, unit: String, points: [(at: Date, value: Double)], from: Date, to: Date,
                      fixed: ClosedRange<Double>?) -> String {
        let width = 320.0, height = 120.0
        guard points.count >= 2 else {
            return "<figure class=\"chart\" id=\"chart-\(name)\"><svg viewBox=\"0 0 320 120\" role=\"img\" aria-label=\"\(title): no data\">"
                + "<text x=\"160\" y=\"64\" text-anchor=\"middle\" font-size=\"12\" fill=\"#8a93a3\">No data yet</text></svg>"
                + "<figcaption>\(title)</figcaption></figure>"
        }
        let values = points.map(\.value)
        let low = fixed?.lowerBound ?? max(0, (values.min() ?? 0) * 0.9)
        let high = max(fixed?.upperBound ?? (values.max() ?? 1) * 1.1, low + 1)
        let span = max(1, to.timeIntervalSince(from))
        let path = points.map { point -> String in
            let x = (point.at.timeIntervalSince(from) / span) * width
            let y = height - 8 - (point.value - low) / (high - low) * (height - 16)
            return "\(Wording.number(x)),\(Wording.number(y))"
        }.joined(separator: " ")
        let last = values.last ?? 0
        return "<figure class=\"chart\" id=\"chart-\(name)\"><svg viewBox=\"0 0 320 120\" preserveAspectRatio=\"none\" role=\"img\" "
            + "aria-label=\"\(title) over 7 days\"><line x1=\"0\" y1=\"112\" x2=\"320\" y2=\"112\" stroke=\"#e6e8eb\"/>"
            + "<polyline fill=\"none\" stroke=\"#3465d9\" stroke-width=\"2\" points=\"\(path)\"/></svg>"
            + "<figcaption>\(title) · now \(Wording.number(last))\(unit)</figcaption></figure>"
    }

    static func escaped(_ text: String) -> String { HTMLText.escaped(text) }

    static func document(title: String, body: String) -> String {
        """
        <!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">\
        <meta name="referrer" content="no-referrer"><title>\(escaped(title))</title><style>\(css)</style></head><body>\(body)</body></html>
        """
    }

    static let css = """
        body{margin:0;font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;background:#f5f6f8;color:#1d2330}\
        main{max-width:980px;margin:0 auto;padding:24px}main.narrow{max-width:560px;padding-top:80px}\
        header h1{margin:0 0 4px;font-size:28px}header p,.muted{color:#5b6475;margin:0}\
        section{background:#fff;border-radius:10px;padding:18px 22px;margin:16px 0;box-shadow:0 1px 2px rgba(0,0,0,.06)}\
        section.top{display:flex;align-items:center;gap:28px}.gauge{width:200px;height:180px}\
        .band{font-size:22px;font-weight:700;margin:0 0 6px}.band.healthy{color:#2e9e44}.band.warning{color:#b38600}.band.critical{color:#d13b2e}\
        h2{font-size:17px;margin:0 0 12px}h3{font-size:15px;margin:0 0 6px}\
        table{width:100%;border-collapse:collapse;font-size:14px}th,td{text-align:left;padding:7px 8px;border-bottom:1px solid #eceef1}\
        th{color:#5b6475;font-weight:600}.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(200px,1fr));gap:14px}\
        .chart{margin:0}.chart svg{width:100%;height:110px;background:#fafbfc;border-radius:6px}\
        figcaption{font-size:13px;color:#5b6475;margin-top:4px}.proposal{border:1px solid #e3e6ea;border-radius:8px;padding:12px 14px;margin:10px 0}\
        .buttons{display:flex;gap:10px;flex-wrap:wrap;margin-top:8px}form{display:inline}\
        button{font:inherit;font-size:14px;padding:8px 14px;border-radius:6px;border:1px solid #c6ccd5;background:#fff;cursor:pointer}\
        button.primary{background:#3465d9;border-color:#3465d9;color:#fff}.feed{list-style:none;padding:0;margin:0}\
        .feed li{padding:6px 0;border-bottom:1px solid #f0f1f3;font-size:14px}.controls{display:grid;grid-template-columns:1fr 1fr;gap:24px}\
        .notice{background:#eef6ee;border:1px solid #bfe0c2;border-radius:8px;padding:10px 14px;margin:12px 0}\
        .nodata{color:#5b6475}.tag{display:inline-block;min-width:64px;font-size:12px;padding:1px 6px;border-radius:4px;background:#eef0f3;color:#394150;text-align:center}\
        .tag.issue{background:#fdecea;color:#a3261b}.tag.resolved,.tag.action{background:#e8f5ea;color:#1f7a33}.tag.prediction{background:#fff6e0;color:#8a6400}\
        .traffic{display:grid;grid-template-columns:minmax(0,3fr) minmax(0,2fr);gap:24px;align-items:start}.heatmap{width:100%}        .tune{display:flex;gap:6px}.tune input,.tune select{font:inherit;font-size:14px;padding:6px;border:1px solid #c6ccd5;border-radius:6px}\
        .bars td.bar{width:55%}.bars td.bar span{display:block;height:10px;border-radius:5px;background:#3465d9}        footer{color:#8a93a3;font-size:12px;text-align:center;margin:20px 0}
        """
}
