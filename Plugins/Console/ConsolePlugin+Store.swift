import BotCore
import Foundation

extension ConsolePlugin {
    func storeDetail(_ id: StoreID) async throws -> BotReply {
        let now = clock.now
        guard let readings = try await reader.storeReadings(id, asOf: now) else {
            let names = try await reader.storeNames()
            throw BotError.unknownStore(id.rawValue, among: names)
        }
        let customer = readings.customer
        let issues = readings.openIssues
        let current = report(readings.latest, uptime24h: readings.uptime24h, asOf: now)
        let dayAgo = report(readings.dayAgo, uptime24h: readings.uptime24hDayAgo, asOf: now.addingTimeInterval(-86400))
        let title = "\(id) · \(customer.platform.displayName) · \(customer.plan) plan"

        guard let report = current, let score = report.score else {
            return BotReply([
                .header(title),
                .text("⚪ No recent metrics for this store, so no health score. Check that its collectors "
                    + "or metric pushes reach `/webhooks/metrics`."),
                issueBlock(issues, now: now),
            ])
        }
        let band = HealthBand(score: score)
        var headline = "\(band.emoji) *\(score) / 100* · \(band.rawValue)"
        if let previous = dayAgo?.score {
            let change = score - previous
            headline += change > 0 ? " · ↑ \(change) vs 24 h ago" : change < 0 ? " · ↓ \(-change) vs 24 h ago"
                : " · → same as 24 h ago"
        } else {
            headline += " · no score 24 h ago to compare"
        }
        var blocks: [ReplyBlock] = [.header(title), .text(headline)]
        blocks.append(.fields(report.factors.map { factor in
            let inputs = factor.measures.map { "\($0.name) \(Wording.measure($0.value, unit: $0.unit))" }
                .joined(separator: " · ")
            let label = "\(factor.factor.title) (\(Wording.number(factor.effectiveWeight * 100, decimals: 0))%)"
            return (label, "\(inputs)\n\(Int(factor.score.rounded()))/100 → \(Wording.number(factor.contribution)) pts")
        }))
        if !report.missing.isEmpty {
            blocks.append(.context("No data for " + report.missing.map(\.title).joined(separator: ", ")
                + "; the score weighs the other factors (weights renormalised)."))
        }
        blocks.append(issueBlock(issues, now: now))
        let tips = advice.current(readings.latest.fresh(asOf: now), platform: customer.platform)
        if !tips.isEmpty {
            blocks.append(.text("*💡 Recommendations*\n" + tips.map { "• *\($0.title)*: \($0.evidence)" }.joined(separator: "\n")))
        }
        let lastCheck = readings.latest.lastSampleAt.map { Wording.ago($0, now: now) } ?? "never"
        blocks.append(.context("Last check \(lastCheck) · automation level \(customer.automationLevel.rawValue) "
            + "(\(customer.automationLevel.name))"))
        return BotReply(blocks)
    }

    private func issueBlock(_ issues: [IssueSummary], now: Date) -> ReplyBlock {
        guard !issues.isEmpty else { return .text("✅ No open issues.") }
        let lines = issues.prefix(10).map { issue in
            let marker = issue.severity == .critical ? "🔴" : issue.severity == .warning ? "🟠" : "🔵"
            return "\(marker) \(issue.summary) — \(issue.severity.rawValue), since \(Wording.ago(issue.detectedAt, now: now))"
        }
        let more = issues.count > 10 ? "\n… and \(issues.count - 10) more" : ""
        return .text("*Open issues (\(issues.count))*\n" + lines.joined(separator: "\n") + more)
    }
}
