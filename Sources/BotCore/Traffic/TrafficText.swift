import Foundation

/// The report in words, for a terminal and for chat: short lines, percentages, a heatmap of block characters.
public enum TrafficText {
    static let blocks: [Character] = [" ", "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"]
    static let weekdays = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]

    /// - Parameter forCustomer: for a store's contact: no operator's settings in the words.
    public static func render(_ report: TrafficReport, source: String, crawlers: Int = 8, pages: Int = 8, forCustomer: Bool = false) -> String {
        let totals = report.totals
        var lines: [String] = []
        let period = report.from.map { from in "\(day(from)) – \(day(report.to ?? from)) UTC" } ?? "no requests"
        lines.append("Traffic of \(source): \(count(totals.valid)) requests, \(period)")
        if totals.failed > 0 { lines.append("(\(count(totals.failed)) of \(count(totals.lines)) lines were not requests and were skipped)") }
        guard totals.valid > 0 else { return lines.joined(separator: "\n") }
        var visitors = (totals.uniqueVisitors.map { "Visitors: \(count($0)) unique (address, day and browser) · " } ?? "")
            + "Bandwidth: \(size(totals.bandwidth))"
        if let mean = totals.meanRequestMilliseconds { visitors += " · mean response \(Int(mean.rounded())) ms" }
        lines.append(visitors)
        lines.append(peopleAndCrawlers(totals).prefix(1).uppercased() + peopleAndCrawlers(totals).dropFirst())
        var classes: [String] = []
        for digit in 1...5 {
            let sum = report.statusCodes.filter { $0.key.hasPrefix("\(digit)") }.values.reduce(0, +)
            guard sum > 0 else { continue }
            classes.append("\(digit)xx \(percent(sum, of: totals.valid))" + (digit == 4 && totals.notFound > 0 ? " (404: \(count(totals.notFound)))" : ""))
        }
        lines.append("Answers: " + classes.joined(separator: " · "))
        let kinds = report.bandwidthByKind.filter { $0.value > 0 }.sorted { ($0.value, $1.key) > ($1.value, $0.key) }
        lines.append("Bandwidth by kind: " + kinds.map { "\($0.key) \(percent($0.value, of: max(1, totals.bandwidth)))" }.joined(separator: " · "))
        lines.append("")
        lines.append("Busiest hours (UTC; each mark is an hour, taller is busier):")
        lines += heatmap(report)
        if let busiest = busiestHour(report) { lines.append("Busiest: \(busiest). Quietest hours suit maintenance.") }
        if !report.bots.isEmpty {
            lines.append("")
            lines.append("Crawlers:")
            for bot in report.bots.prefix(crawlers) {
                lines.append("• \(bot.name) — \(percent(bot.requests, of: totals.valid)) of requests"
                    + (bot.evidence == "user agent" ? "" : " (\(bot.evidence))") + ": \(bot.recommendation.text)")
            }
            if report.bots.count > crawlers { lines.append("• and \(report.bots.count - crawlers) more") }
        }
        if !report.topPaths.isEmpty {
            lines.append("")
            lines.append("Most requested pages:")
            for path in report.topPaths.prefix(pages) { lines.append("• \(path.path) — \(count(path.requests))") }
        }
        if let countries = report.countries, !countries.isEmpty {
            lines.append("")
            lines.append("Countries: " + countries.prefix(8).map { "\($0.country) \(percent($0.requests, of: totals.valid))" }
                .joined(separator: " · "))
        }
        if !forCustomer {
            lines.append("")
            lines.append(report.countriesNote)
        }
        return lines.joined(separator: "\n")
    }

    /// `people 88 % · crawlers 12 %`: shares that add up to 100 when both are whole percents.
    public static func peopleAndCrawlers(_ totals: TrafficReport.Totals) -> String {
        let valid = max(1, totals.valid)
        let people = percent(totals.humans, of: valid)
        var crawlers = percent(totals.bots, of: valid)
        let share = Double(totals.humans) / Double(valid) * 100
        if share >= 1, share <= 99 { crawlers = "\(100 - Int(share.rounded())) %" }
        return "people \(people) · crawlers \(crawlers)"
    }

    /// The weekday × hour heatmap as eight lines of block characters (a header of hours, then Monday to Sunday).
    public static func heatmap(_ report: TrafficReport) -> [String] {
        var lines = ["     " + stride(from: 0, to: 24, by: 6).map { String(format: "%02d", $0).padding(toLength: 6, withPad: " ", startingAt: 0) }.joined()]
        let peak = max(1, report.heatmap.flatMap { $0 }.max() ?? 1)
        for (index, row) in report.heatmap.enumerated() {
            lines.append("\(weekdays[index])  " + String(row.map { value in
                value == 0 ? blocks[0] : blocks[max(1, Int((Double(value) / Double(peak) * 8).rounded(.up)))]
            }))
        }
        return lines
    }

    /// `Tuesday 20:00 UTC`, the weekday and hour with the most requests.
    public static func busiestHour(_ report: TrafficReport) -> String? {
        var best: (day: Int, hour: Int, value: Int)?
        for (day, row) in report.heatmap.enumerated() {
            for (hour, value) in row.enumerated() where value > (best?.value ?? 0) { best = (day, hour, value) }
        }
        guard let best else { return nil }
        let names = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
        return "\(names[best.day]) \(String(format: "%02d", best.hour)):00–\(String(format: "%02d", (best.hour + 1) % 24)):00"
    }

    /// `1,234,567`.
    public static func count(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var grouped = ""
        for (index, digit) in digits.enumerated() {
            if index > 0, (digits.count - index) % 3 == 0 { grouped.append(",") }
            grouped.append(digit)
        }
        return (value < 0 ? "-" : "") + grouped
    }

    public static func percent(_ part: Int, of whole: Int) -> String {
        guard whole > 0 else { return "0 %" }
        let value = Double(part) / Double(whole) * 100
        if value > 0 && value < 1 { return String(format: "%.1f %%", value) }
        return "\(Int(value.rounded())) %"
    }

    public static func size(_ bytes: Int) -> String {
        let units = ["B", "KB", "MB", "GB", "TB"]
        var value = Double(bytes), unit = 0
        while value >= 1000 && unit < units.count - 1 {
            value /= 1000
            unit += 1
        }
        return unit == 0 ? "\(bytes) B" : String(format: "%.1f %@", value, units[unit])
    }

    static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// `7 Dec 2026 10:00`, in UTC.
    static func day(_ date: Date) -> String {
        let seconds = Int(date.timeIntervalSince1970.rounded(.down))
        let days = seconds >= 0 ? seconds / 86400 : (seconds - 86399) / 86400
        let (year, month, day) = Timestamp.civil(days)
        let minutes = (seconds - days * 86400) / 60
        return "\(day) \(months[month - 1]) \(year) " + String(format: "%02d:%02d", minutes / 60, minutes % 60)
    }
}
