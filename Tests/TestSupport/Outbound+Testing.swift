import BotChannels
import BotCore
import Foundation

/// What tests read of a queued message: typed values, and the words a reader sees where wording is the point.
extension Outbound {
    /// The words of a Slack message: a post's or response's text, or the outcome that replaces an alert's buttons.
    public var slackText: String? {
        switch self {
        case let .post(reply, _), let .response(reply, _): reply.plainText
        case let .alertOutcome(outcome): outcome
        case .mail: nil
        }
    }

    /// The buttons of a Slack message.
    public var buttons: [ReplyButton] {
        reply?.blocks.flatMap { block -> [ReplyButton] in if case let .buttons(buttons) = block { buttons } else { [] } } ?? []
    }

    /// The outcome line of an alert update.
    public var outcome: String? {
        if case let .alertOutcome(outcome) = self { outcome } else { nil }
    }
}

extension CustomerMail.Kind {
    /// The kind's name, for a short assertion (`proposal`, `proposalExpired`, …).
    public var name: String {
        switch self {
        case .proposal: "proposal"
        case .predictionNotice: "predictionNotice"
        case .fixApplied: "fixApplied"
        case let .automaticFix(fix, _, _, _, _): fix.rawValue
        case .approvalAcknowledged: "approvalAcknowledged"
        case .rejectionAcknowledged: "rejectionAcknowledged"
        case .replyNotUnderstood: "replyNotUnderstood"
        case .weeklyReport: "weeklyReport"
        case .commandReply: "commandReply"
        case .proposalExpired: "proposalExpired"
        case .proposalClosed: "proposalClosed"
        }
    }
}

/// The e-mail a customer reads: `mail` rendered as the outbox sends it.
public func rendered(_ mail: CustomerMail?, now: Date = Date()) -> MailMessage? {
    mail.map { MailTemplates.message($0, from: "perfbot <p@fix.example.com>", domain: "fix.example.com", now: now) }
}
