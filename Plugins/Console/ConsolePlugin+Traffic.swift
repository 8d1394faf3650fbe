import BotCore
import Foundation

/// `/perf traffic <store> [--days N]`: a store's traffic from its access log (ORIGINAL-DESIGN §1.6).
extension ConsolePlugin {
    static let trafficSpec = CommandSpec(
        "traffic", arguments: [ArgumentSpec("store", .store)],
        flags: [FlagSpec("days", values: [], help: "the period in days, 1–90 (default 7)")], readOnly: true,
        summary: "A store's traffic: requests, people and crawlers, busiest hours, bandwidth by kind, countries.",
        examples: ["traffic acme-store", "traffic acme-store --days 28"])

    func traffic(_ id: StoreID, daysText: String?) async throws -> BotReply {
        guard let trafficStore = traffic else { throw BotError.invalid("Traffic needs perfbot's database readers; none is wired.") }
        guard let analytics, let customer = try await analytics.customer(id) else {
            throw BotError.unknownStore(id.rawValue, among: try await reader.storeNames())
        }
        var days = 7
        if let daysText {
            guard let value = Int(daysText), (1...90).contains(value) else { throw BotError.invalid("`--days` is a number of days, 1–90.") }
            days = value
        }
        let now = clock.now
        let hours = try await trafficStore.trafficHours(id, from: now.addingTimeInterval(-Double(days) * 86400), to: now)
        guard !hours.isEmpty else {
            let hint = customer.probes.contains(ProbeKind.accessLog)
                ? "nothing has been read from its access log yet (`perfbot collectors` shows the last attempt)"
                : "its access log is not read: give it the `access_log` probe and `access_log: /path/to/access.log` in the customers file"
                    + (customer.plan.isPremium ? "" : " (traffic analytics are for premium plans)")
            return .text("No traffic for \(id) in the last \(days) day\(days == 1 ? "" : "s"): \(hint).")
        }
        let report = TrafficReport(hours: hours, botListNote: botListNote, countriesKnown: countriesKnown)
        return BotReply(Self.trafficBlocks(report, store: id, days: days))
    }

    /// The report as Slack blocks: totals, busiest hours, crawlers with what to do, bandwidth, pages, countries.
    static func trafficBlocks(_ report: TrafficReport, store: StoreID, days: Int) -> [ReplyBlock] {
        let totals = report.totals
        let valid = max(1, totals.valid)
        var summary = "*\(TrafficText.count(totals.valid)) requests* · " + TrafficText.peopleAndCrawlers(totals)
            + " · \(TrafficText.size(totals.bandwidth))"
        if let mean = totals.meanRequestMilliseconds { summary += " · mean response \(Int(mean.rounded())) ms" }
        let classes = (1...5).compactMap { digit -> String? in
            guard let count = report.statusCodes["\(digit)xx"], count > 0 else { return nil }
            return "\(digit)xx \(TrafficText.percent(count, of: valid))" + (digit == 4 && totals.notFound > 0 ? " (404: \(TrafficText.count(totals.notFound)))" : "")
        }
        summary += "\nAnswers: " + classes.joined(separator: " · ")
        var blocks: [ReplyBlock] = [.header("Traffic · \(store) · last \(days) day\(days == 1 ? "" : "s")"), .text(summary)]
        blocks.append(.text("*Busiest hours* (UTC, taller is busier)" + (TrafficText.busiestHour(report).map { ": peak \($0)" } ?? "")
            + "\n```\n" + TrafficText.heatmap(report).joined(separator: "\n") + "\n```"))
        if !report.bots.isEmpty {
            blocks.append(.text("*Crawlers*\n" + report.bots.prefix(6).map { bot in
                "• \(Wording.escapedForSlack(bot.name)) — \(TrafficText.percent(bot.requests, of: valid)): \(Wording.escapedForSlack(bot.recommendation.text))"
            }.joined(separator: "\n")))
        }
        let kinds = report.bandwidthByKind.filter { $0.value > 0 }.sorted { ($0.value, $1.key) > ($1.value, $0.key) }
        if !kinds.isEmpty {
            blocks.append(.text("*Bandwidth* " + kinds.prefix(6).map {
                "\($0.key) \(TrafficText.percent($0.value, of: max(1, totals.bandwidth))) (\(TrafficText.size($0.value)))"
            }.joined(separator: " · ")))
        }
        if !report.topPaths.isEmpty {
            blocks.append(.text("*Most requested pages*\n" + report.topPaths.prefix(6).map {
                "• `\(Wording.escapedForSlack(String($0.path.prefix(80))))` — \(TrafficText.count($0.requests))"
            }.joined(separator: "\n")))
        }
        if let countries = report.countries, !countries.isEmpty {
            blocks.append(.text("*Countries* " + countries.prefix(8).map { "\($0.country) \(TrafficText.percent($0.requests, of: valid))" }
                .joined(separator: " · ")))
        }
        blocks.append(.context((report.countries == nil ? report.countriesNote + " " : "") + report.botListNote))
        return blocks
    }
}
