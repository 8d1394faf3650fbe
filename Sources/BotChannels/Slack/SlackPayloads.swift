import BotCore
import Foundation

/// A Slack payload that lacks a field or holds a wrong one.
public struct SlackPayloadError: Error, Equatable, Sendable {
    /// The field at fault (`user_id`, `payload.actions`).
    public let field: String
    /// What is wrong with it.
    public let problem: String

    public var message: String { "\(field): \(problem)" }

    public init(field: String, problem: String) {
        self.field = field
        self.problem = problem
    }
}

/// A slash command invocation (`/perf store acme-store`).
public struct SlackCommand: Sendable, Equatable {
    public var teamID: String
    public var channelID: String
    public var user: SlackUserID
    public var command: String
    public var text: String
    public var responseURL: String?
    public var triggerID: String?

    /// Reads the typed fields of a decoded form body.
    public init(form: FormBody) throws(SlackPayloadError) {
        func required(_ name: String) throws(SlackPayloadError) -> String {
            guard let value = form[name], !value.isEmpty else { throw SlackPayloadError(field: name, problem: "missing") }
            return value
        }
        let userText = try required("user_id")
        guard let user = SlackUserID(userText) else { throw SlackPayloadError(field: "user_id", problem: "not a Slack user id") }
        self.user = user
        teamID = form["team_id"] ?? ""
        channelID = form["channel_id"] ?? ""
        command = try required("command")
        let text = form["text"] ?? ""
        guard text.utf8.count <= 4000 else { throw SlackPayloadError(field: "text", problem: "longer than 4000 bytes") }
        self.text = text
        responseURL = form["response_url"]
        triggerID = form["trigger_id"]
    }
}

/// A click on a button or another interactive element (`block_actions`).
public struct SlackInteraction: Sendable, Equatable, Decodable {
    public struct User: Sendable, Equatable, Decodable {
        public var id: String
        public var username: String?
    }

    public struct Action: Sendable, Equatable, Decodable {
        public var type: String?
        public var actionID: String
        public var blockID: String?
        public var value: String?
        public var actionTS: String?

        enum CodingKeys: String, CodingKey {
            case type, value
            case actionID = "action_id"
            case blockID = "block_id"
            case actionTS = "action_ts"
        }
    }

    public struct Container: Sendable, Equatable, Decodable {
        public var type: String?
        public var messageTS: String?
        public var channelID: String?

        enum CodingKeys: String, CodingKey {
            case type
            case messageTS = "message_ts"
            case channelID = "channel_id"
        }
    }

    /// A submitted modal (`view_submission`): its callback, metadata and the values of its inputs.
    public struct View: Sendable, Equatable, Decodable {
        public var id: String?
        public var callbackID: String
        public var privateMetadata: String
        /// block id → action id → the value typed.
        public var values: [String: [String: String]]

        enum CodingKeys: String, CodingKey {
            case id, state
            case callbackID = "callback_id"
            case privateMetadata = "private_metadata"
        }

        struct State: Decodable {
            struct Element: Decodable { var value: String? }
            var values: [String: [String: Element]]
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            id = try container.decodeIfPresent(String.self, forKey: .id)
            callbackID = try container.decode(String.self, forKey: .callbackID)
            privateMetadata = try container.decodeIfPresent(String.self, forKey: .privateMetadata) ?? ""
            let state = try container.decodeIfPresent(State.self, forKey: .state)
            values = (state?.values ?? [:]).mapValues { $0.compactMapValues(\.value) }
        }
    }

    public var type: String
    public var user: User
    public var actions: [Action]
    public var responseURL: String?
    public var triggerID: String?
    public var container: Container?
    public var view: View?

    enum CodingKeys: String, CodingKey {
        case type, user, actions, container, view
        case responseURL = "response_url"
        case triggerID = "trigger_id"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        type = try container.decode(String.self, forKey: .type)
        user = try container.decode(User.self, forKey: .user)
        actions = try container.decodeIfPresent([Action].self, forKey: .actions) ?? []
        responseURL = try container.decodeIfPresent(String.self, forKey: .responseURL)
        triggerID = try container.decodeIfPresent(String.self, forKey: .triggerID)
        self.container = try container.decodeIfPresent(Container.self, forKey: .container)
        view = type == "view_submission" ? try container.decode(View.self, forKey: .view) : nil
    }

    /// Decodes the `payload` field of an interaction form body.
    public init(form: FormBody) throws(SlackPayloadError) {
        guard let payload = form["payload"] else { throw SlackPayloadError(field: "payload", problem: "missing") }
        do {
            self = try JSONDecoder().decode(SlackInteraction.self, from: Data(payload.utf8))
        } catch {
            throw SlackPayloadError(field: "payload" + JSONErrorPath.describe(error).path,
                                    problem: JSONErrorPath.describe(error).problem)
        }
        guard SlackUserID(user.id) != nil else { throw SlackPayloadError(field: "payload.user.id", problem: "not a Slack user id") }
    }

    /// An id that is the same for Slack's retries of this click and different for another click.
    public var idempotencyKey: String {
        if let view { return "interaction:\(user.id):view:\(view.id ?? "-"):\(triggerID ?? "-")" }
        let action = actions.first
        return "interaction:\(user.id):\(action?.actionID ?? "-"):\(action?.actionTS ?? triggerID ?? "-")"
    }
}

/// An Events API delivery.
public enum SlackEvent: Sendable, Equatable {
    /// The handshake: answer with the challenge.
    case urlVerification(challenge: String)
    /// A callback with its event.
    case callback(eventID: String, event: Event)

    /// The inner event of a callback.
    public struct Event: Sendable, Equatable, Decodable {
        public var type: String
        public var user: String?
        public var text: String?
        public var channel: String?
        public var ts: String?
        public var threadTS: String?
        public var botID: String?

        enum CodingKeys: String, CodingKey {
            case type, user, text, channel, ts
            case threadTS = "thread_ts"
            case botID = "bot_id"
        }
    }

    private struct Envelope: Decodable {
        var type: String
        var challenge: String?
        var eventID: String?
        var event: Event?

        enum CodingKeys: String, CodingKey {
            case type, challenge, event
            case eventID = "event_id"
        }
    }

    /// Decodes an Events API body.
    public init(json: [UInt8]) throws(SlackPayloadError) {
        let envelope: Envelope
        do {
            envelope = try JSONDecoder().decode(Envelope.self, from: Data(json))
        } catch {
            let described = JSONErrorPath.describe(error)
            throw SlackPayloadError(field: described.path.isEmpty ? "body" : String(described.path.dropFirst()),
                                    problem: described.problem)
        }
        switch envelope.type {
        case "url_verification":
            guard let challenge = envelope.challenge, !challenge.isEmpty, challenge.count <= 200 else {
                throw SlackPayloadError(field: "challenge", problem: "missing")
            }
            self = .urlVerification(challenge: challenge)
        case "event_callback":
            guard let eventID = envelope.eventID, !eventID.isEmpty, eventID.count <= 100 else {
                throw SlackPayloadError(field: "event_id", problem: "missing")
            }
            guard let event = envelope.event else { throw SlackPayloadError(field: "event", problem: "missing") }
            self = .callback(eventID: eventID, event: event)
        default:
            throw SlackPayloadError(field: "type", problem: "unsupported event type '\(envelope.type.prefix(40))'")
        }
    }
}

/// Turns a `DecodingError` into a field path and a short problem, for error replies.
public enum JSONErrorPath {
    public static func describe(_ error: any Error) -> (path: String, problem: String) {
        guard let error = error as? DecodingError else { return ("", "is not valid JSON") }
        func path(_ keys: [any CodingKey]) -> String {
            keys.map { key in key.intValue.map { "[\($0)]" } ?? ".\(key.stringValue)" }.joined()
        }
        switch error {
        case let .keyNotFound(key, context): return (path(context.codingPath + [key]), "missing")
        case let .typeMismatch(type, context): return (path(context.codingPath), "expected \(describe(type))")
        case let .valueNotFound(type, context): return (path(context.codingPath), "expected \(describe(type)), got null")
        case let .dataCorrupted(context):
            if context.codingPath.isEmpty { return ("", "is not valid JSON") }
            return (path(context.codingPath), context.debugDescription)
        @unknown default: return ("", "is not valid JSON")
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Double.Type, is Int.Type, is Int64.Type: "a number"
        case is Bool.Type: "true or false"
        default: "an object or list"
        }
    }
}
