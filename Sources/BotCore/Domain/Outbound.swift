import Foundation

/// A message perfbot sends, as the domain means it. The outbox stores it (Codable) and renders it once per
/// channel when it sends it: Slack Block Kit and e-mail text and HTML, both in `BotChannels`.
public enum Outbound: Sendable, Equatable, Codable {
    /// A message in a Slack channel: an alert, a report, a note in an issue's thread. `replyingTo` is the `ts`
    /// of the message it answers in a thread of its own (an app mention); an issue's thread comes from the outbox.
    case post(BotReply, replyingTo: String? = nil)
    /// The alert that started the thread gets `outcome` in place of its buttons (`chat.update`, once it went out).
    case alertOutcome(String)
    /// A later answer to a slash command or a click, through its `response_url`.
    case response(BotReply, replaceOriginal: Bool)
    /// An e-mail to a store's contact.
    case mail(CustomerMail)

    /// The outbox channel it goes by.
    public var channel: OutboxMessage.Channel {
        switch self {
        case .post, .alertOutcome: .slack
        case .response: .slackResponse
        case .mail: .email
        }
    }

    /// The reply it carries to Slack, if any.
    public var reply: BotReply? {
        switch self {
        case let .post(reply, _), let .response(reply, _): reply
        case .alertOutcome, .mail: nil
        }
    }

    /// The e-mail it is, if any.
    public var mail: CustomerMail? {
        if case let .mail(mail) = self { mail } else { nil }
    }
}

extension Outbound {
    private enum Key: String, CodingKey {
        case post, alertOutcome = "alert_outcome", response, mail
    }

    private struct Post: Codable {
        var reply: BotReply
        var replyingTo: String?
        var replaceOriginal: Bool?
    }

    /// `{"post": {"reply": …}}`, `{"alert_outcome": "…"}`, `{"response": {…}}` or `{"mail": {…, "replyTo": …}}`:
    /// the outbox clears `$.mail.replyTo` once a mail is sent or given up.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Key.self)
        guard let key = container.allKeys.first, container.allKeys.count == 1 else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "one kind of message expected"))
        }
        switch key {
        case .post:
            let post = try container.decode(Post.self, forKey: key)
            self = .post(post.reply, replyingTo: post.replyingTo)
        case .alertOutcome: self = .alertOutcome(try container.decode(String.self, forKey: key))
        case .response:
            let post = try container.decode(Post.self, forKey: key)
            self = .response(post.reply, replaceOriginal: post.replaceOriginal ?? false)
        case .mail: self = .mail(try container.decode(CustomerMail.self, forKey: key))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        switch self {
        case let .post(reply, ts): try container.encode(Post(reply: reply, replyingTo: ts), forKey: .post)
        case let .alertOutcome(outcome): try container.encode(outcome, forKey: .alertOutcome)
        case let .response(reply, replace): try container.encode(Post(reply: reply, replaceOriginal: replace), forKey: .response)
        case let .mail(mail): try container.encode(mail, forKey: .mail)
        }
    }

    /// The stored form: JSON with sorted keys and dates in Unix seconds.
    public func stored() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .secondsSince1970
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    /// Reads the stored form back.
    public init(stored: String) throws {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        self = try decoder.decode(Outbound.self, from: Data(stored.utf8))
    }
}

/// A message and where it goes: a Slack channel id, a `response_url`, or the contact's address.
public struct Addressed: Sendable, Equatable {
    public var destination: String
    public var message: Outbound

    public init(destination: String, message: Outbound) {
        self.destination = destination
        self.message = message
    }

    public var channel: OutboxMessage.Channel { message.channel }

    /// `reply` for the Slack channel `channel`.
    public static func slack(_ channel: String, _ reply: BotReply) -> Addressed {
        Addressed(destination: channel, message: .post(reply))
    }

    /// `mail`, to its addressee.
    public static func mail(_ mail: CustomerMail) -> Addressed {
        Addressed(destination: mail.to, message: .mail(mail))
    }
}
