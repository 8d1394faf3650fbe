import BotCore
import Foundation

/// The Slack alerts the check cycle posts: short, with the store, what, since when and what was done.
enum Alerts {
    static func opened(_ rule: DetectionRule, customer: Customer, value: Double?, outcome: String, now: Date,
                       buttons: [ReplyButton] = []) -> BotReply {
        let marker = rule.severity == .critical ? "🔴" : rule.severity == .warning ? "🟠" : "🔵"
        let unit = rule.metric.isPercent ? "%" : rule.metric.rawValue.hasSuffix("_ms") ? " ms" : ""
        let reading = value.map { "now \(Wording.number($0))\(unit)" } ?? "no current reading"
        return BotReply([
            .text("\(marker) *\(rule.title)* on *\(customer.id)* (\(customer.platform.displayName)) — \(rule.severity.rawValue)"),
            .text("\(rule.condition) · \(reading) · since \(Wording.clockTime(now))"),
            .text(outcome),
        ] + (buttons.isEmpty ? [] : [.buttons(buttons)]) + [
            .context("`/perf store \(customer.id)` for details · `/perf silence \(customer.id) 1h` to mute"),
        ])
    }

    /// Approve and Reject, for an approval.
    static func approvalButtons(_ id: String) -> [ReplyButton] {
        [ReplyButton(label: "Approve", actionID: "fix_approve", value: id, style: .primary, command: "/perf approve \(id)"),
         ReplyButton(label: "Reject", actionID: "fix_reject", value: id, style: .danger, command: "/perf reject \(id)")]
    }

    static func resolved(_ issue: TrackedIssue, customer: Customer, clearSince: Date, now: Date) -> BotReply {
        let minutes = max(1, Int(now.timeIntervalSince(issue.detectedAt) / 60))
        return BotReply([.text("✅ Resolved: *\(issue.title)* on \(customer.id) after \(minutes) min "
            + "(clear since \(Wording.clockTime(clearSince))).")])
    }

}
