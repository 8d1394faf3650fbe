import BotCore
import Foundation

/// Renders a `BotReply` as Slack Block Kit, within Slack's limits (50 blocks, 3000 characters a section).
public enum BlockKitRenderer {
    static let sectionLimit = 3000
    static let blockLimit = 50

    /// Text from outside (an e-mail's sender) made inert in mrkdwn: no `<!channel>` pings, no links.
    public static func escaped(_ text: String) -> String { Wording.escapedForSlack(text) }

    /// The blocks of `reply`.
    public static func blocks(_ reply: BotReply) -> [JSONValue] {
        var blocks: [JSONValue] = []
        for block in reply.blocks {
            switch block {
            case let .header(text):
                blocks.append(.object([("type", .string("header")),
                                       ("text", plain(String(text.prefix(150))))]))
            case let .text(text):
                guard !text.isEmpty else { continue }
                blocks += chunks(text, limit: sectionLimit).map(section)
            case let .fields(fields):
                for group in stride(from: 0, to: fields.count, by: 10) {
                    let slice = fields[group..<min(group + 10, fields.count)]
                    blocks.append(.object([
                        ("type", .string("section")),
                        ("fields", .array(slice.map { mrkdwn(String("*\($0.label)*\n\($0.value)".prefix(2000))) })),
                    ]))
                }
            case let .bars(bars):
                blocks.append(section("```\n" + bars.map(PlainTextRenderer.barLine).joined(separator: "\n") + "\n```"))
            case let .table(table):
                blocks += chunks(table.lines().joined(separator: "\n"), limit: sectionLimit - 8)
                    .map { section("```\n\($0)\n```") }
            case let .context(text):
                blocks.append(.object([("type", .string("context")),
                                       ("elements", .array([mrkdwn(String(text.prefix(3000)))]))]))
            case .divider:
                blocks.append(.object([("type", .string("divider"))]))
            case let .buttons(buttons):
                blocks.append(.object([("type", .string("actions")), ("block_id", .string("fix_actions")),
                                       ("elements", .array(buttons.prefix(25).map(button)))]))
            }
        }
        if blocks.count > blockLimit {
            blocks = Array(blocks.prefix(blockLimit - 1))
            blocks.append(.object([("type", .string("context")),
                                   ("elements", .array([mrkdwn("_(shortened to fit Slack)_")]))]))
        }
        return blocks
    }

    /// A slash-command or `response_url` message: blocks, plain-text fallback and visibility.
    public static func message(_ reply: BotReply) -> JSONValue {
        .object([
            ("response_type", .string(reply.visibility.rawValue)),
            ("text", .string(String(reply.plainText.prefix(3000)))),
            ("blocks", .array(blocks(reply))),
        ])
    }

    /// A `response_url` message that replaces the message it answers, or is added below it.
    public static func response(_ reply: BotReply, replaceOriginal: Bool) -> JSONValue {
        guard case let .object(pairs) = message(reply) else { return message(reply) }
        return .object(pairs + [("replace_original", .bool(replaceOriginal))])
    }

    /// The `chat.postMessage` body of `reply` in `channel`, as a reply in the thread of `threadTS` when given.
    public static func post(_ reply: BotReply, channel: String, threadTS: String?) -> JSONValue {
        var pairs: [(String, JSONValue)] = [("channel", .string(channel))]
        if let threadTS { pairs.append(("thread_ts", .string(threadTS))) }
        return .object(pairs + [("text", .string(String(reply.plainText.prefix(3000)))), ("blocks", .array(blocks(reply))),
                                ("unfurl_links", .bool(false))])
    }

    /// The `chat.update` body for the alert `alert` sent to `channel` as `ts`: its buttons give way to `outcome`.
    public static func update(_ alert: BotReply, channel: String, ts: String, outcome: String) -> JSONValue {
        var updated = alert
        updated.blocks.removeAll { if case .buttons = $0 { true } else { false } }
        updated.blocks.append(.context(outcome))
        return .object([("channel", .string(channel)), ("ts", .string(ts)),
                        ("text", .string(String(updated.plainText.prefix(3000)))), ("blocks", .array(blocks(updated)))])
    }

    /// The block id and action id of a modal's one input.
    public static let modalInput = "perfbot_input"

    /// The `views.open` body of `modal` for `triggerID`: its blocks, then one single-line text input.
    public static func modal(_ modal: ModalRequest, triggerID: String) -> JSONValue {
        var input: [(String, JSONValue)] = [
            ("type", .string("input")), ("block_id", .string(modalInput)), ("label", plain(String(modal.inputLabel.prefix(2000)))),
            ("element", .object([("type", .string("plain_text_input")), ("action_id", .string(modalInput)),
                                 ("min_length", .int(1)), ("max_length", .int(64))])),
        ]
        if let hint = modal.inputHint { input.append(("hint", plain(String(hint.prefix(2000))))) }
        let shown = blocks(BotReply(modal.blocks)).prefix(48)
        return .object([
            ("trigger_id", .string(triggerID)),
            ("view", .object([
                ("type", .string("modal")), ("callback_id", .string(String(modal.callbackID.prefix(255)))),
                ("private_metadata", .string(String(modal.metadata.prefix(3000)))),
                ("title", plain(modal.title)), ("submit", plain(modal.submitLabel)), ("close", plain("Cancel")),
                ("blocks", .array(Array(shown) + [.object(input)])),
            ])),
        ])
    }

    /// The answer to a modal's submission that keeps it open with `message` under its input.
    public static func modalError(_ message: String) -> JSONValue {
        .object([("response_action", .string("errors")), ("errors", .object([(modalInput, .string(String(message.prefix(1000))))]))])
    }

    static func button(_ button: ReplyButton) -> JSONValue {
        var pairs: [(String, JSONValue)] = [
            ("type", .string("button")), ("action_id", .string(String(button.actionID.prefix(255)))),
            ("text", plain(String(button.label.prefix(75)))), ("value", .string(String(button.value.prefix(2000)))),
        ]
        if let style = button.style { pairs.append(("style", .string(style.rawValue))) }
        return .object(pairs)
    }

    static func section(_ text: String) -> JSONValue {
        .object([("type", .string("section")), ("text", mrkdwn(text))])
    }

    static func mrkdwn(_ text: String) -> JSONValue {
        .object([("type", .string("mrkdwn")), ("text", .string(text))])
    }

    static func plain(_ text: String) -> JSONValue {
        .object([("type", .string("plain_text")), ("text", .string(text)), ("emoji", .bool(true))])
    }

    /// Splits `text` at line ends into pieces of at most `limit` characters.
    static func chunks(_ text: String, limit: Int) -> [String] {
        var pieces: [String] = []
        var current = ""
        // Characters in `current`, kept as it grows: counting a string walks all of it.
        var length = 0
        for whole in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = whole.prefix(limit)
            let count = line.count
            if !current.isEmpty && length + count + 1 > limit {
                pieces.append(current)
                current = ""
                length = 0
            }
            if current.isEmpty {
                current = String(line)
                length = count
            } else {
                current += "\n"
                current += line
                length += count + 1
            }
        }
        if !current.isEmpty || pieces.isEmpty { pieces.append(current) }
        return pieces
    }
}
