import BotCore
import Foundation

/// Reads the outbox rows written before messages were stored typed (migration v14): Slack bodies become
/// their text, e-mail template dictionaries their `CustomerMail`. A proposal or expiry notice kept its dates only as
/// words, so an unsent one cannot be rebuilt truthfully: it is recorded as failed, visible in `perfbot outbox`.
enum LegacyOutbox {
    static func message(channel: String, payload: String) -> Outbound? {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(payload.utf8))) as? [String: Any] else { return nil }
        func text(_ key: String) -> String { object[key] as? String ?? "" }
        func list(_ key: String) -> [String] { object[key] as? [String] ?? [] }
        switch channel {
        case "slack":
            if let outcome = object["update_alert"] as? String { return .alertOutcome(outcome) }
            return .post(.text(text("text")), replyingTo: object["thread_ts"] as? String)
        case "slack_response":
            return .response(BotReply([.text(text("text"))], visibility: text("response_type") == "in_channel" ? .inChannel : .ephemeral),
                             replaceOriginal: object["replace_original"] as? Bool ?? false)
        case "email":
            guard let to = object["to"] as? String, let template = object["template"] as? String else { return nil }
            let kind: CustomerMail.Kind
            switch template {
            case "prediction_notice":
                kind = .predictionNotice(resource: text("resource"), eta: text("eta"), basis: text("basis"),
                                         recommendation: text("recommendation"))
            case "fix_applied": kind = .fixApplied(playbook: text("playbook"), steps: list("steps"))
            case "approval_acknowledged": kind = .approvalAcknowledged(playbook: text("playbook"))
            case "rejection_acknowledged": kind = .rejectionAcknowledged(playbook: text("playbook"))
            case "reply_not_understood": kind = .replyNotUnderstood(read: text("read"), why: text("why"))
            case "weekly_report": kind = .weeklyReport(lines: list("lines"), commandAddress: text("command_address"))
            case "command_reply": kind = .commandReply(subject: text("subject"), lines: list("lines"))
            case "proposal_closed": kind = .proposalClosed(reason: text("reason"))
            default:
                guard let fix = AutomaticFixMail(rawValue: template) else { return nil }
                kind = .automaticFix(fix, issue: text("issue"), explanation: text("explanation"), playbook: text("playbook"),
                                     steps: list("steps"))
            }
            return .mail(CustomerMail(to: to, store: StoreID(text("store")), replyTo: object["reply_to"] as? String, kind: kind))
        default:
            return nil
        }
    }
}
