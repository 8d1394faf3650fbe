import Foundation

/// One bar of a distribution chart.
public struct ReplyBar: Sendable, Equatable, Codable {
    public var label: String
    public var count: Int
    public var total: Int
    public var marker: String

    public init(label: String, count: Int, total: Int, marker: String) {
        self.label = label
        self.count = count
        self.total = total
        self.marker = marker
    }

    /// The share of `total`, 0–100.
    public var percent: Int { total == 0 ? 0 : Int((Double(count) * 100 / Double(total)).rounded()) }
}

/// A table of plain-text cells, shown in monospace.
public struct ReplyTable: Sendable, Equatable, Codable {
    public var columns: [String]
    public var rows: [[String]]
    /// Columns whose cells align to the right (numbers).
    public var rightAligned: Set<Int>

    public init(columns: [String], rows: [[String]], rightAligned: Set<Int> = []) {
        self.columns = columns
        self.rows = rows
        self.rightAligned = rightAligned
    }

    /// The table as aligned lines of text.
    public func lines() -> [String] {
        let all = [columns] + rows
        let widths = columns.indices.map { column in
            all.map { column < $0.count ? $0[column].count : 0 }.max() ?? 0
        }
        return all.map { row in
            columns.indices.map { column in
                let cell = column < row.count ? row[column] : ""
                let pad = String(repeating: " ", count: widths[column] - cell.count)
                return rightAligned.contains(column) ? pad + cell : cell + pad
            }.joined(separator: "  ").trimmingTrailingSpaces()
        }
    }
}

/// A button on a reply; `value` travels back with the click.
public struct ReplyButton: Sendable, Equatable, Codable {
    public enum Style: String, Sendable, Codable { case primary, danger }

    public var label: String
    public var actionID: String
    public var value: String
    public var style: Style?
    /// The equivalent command, for places without buttons.
    public var command: String

    public init(label: String, actionID: String, value: String, style: Style? = nil, command: String) {
        self.label = label
        self.actionID = actionID
        self.value = value
        self.style = style
        self.command = command
    }
}

/// A piece of a reply; each destination (Slack, e-mail, terminal) renders it its own way.
public enum ReplyBlock: Sendable, Equatable {
    /// A bold title line.
    case header(String)
    /// A paragraph; `*bold*` and `_italic_` follow Slack's mrkdwn.
    case text(String)
    /// Label/value pairs shown side by side.
    case fields([(label: String, value: String)])
    /// A distribution chart.
    case bars([ReplyBar])
    /// A table.
    case table(ReplyTable)
    /// Small print at the end.
    case context(String)
    /// A separating line.
    case divider
    /// Buttons (in plain text: their commands).
    case buttons([ReplyButton])

    public static func == (lhs: ReplyBlock, rhs: ReplyBlock) -> Bool {
        switch (lhs, rhs) {
        case let (.header(a), .header(b)), let (.text(a), .text(b)), let (.context(a), .context(b)): a == b
        case let (.fields(a), .fields(b)): a.map(\.label) == b.map(\.label) && a.map(\.value) == b.map(\.value)
        case let (.bars(a), .bars(b)): a == b
        case let (.table(a), .table(b)): a == b
        case (.divider, .divider): true
        case let (.buttons(a), .buttons(b)): a == b
        default: false
        }
    }
}

/// What perfbot answers: structured blocks plus who may see them.
public struct BotReply: Sendable, Equatable, Codable {
    /// Who sees the answer in Slack.
    public enum Visibility: String, Sendable, Codable {
        /// Only the person who asked.
        case ephemeral
        /// Everyone in the channel.
        case inChannel = "in_channel"
    }

    public var blocks: [ReplyBlock]
    public var visibility: Visibility
    /// A modal to open over the command (Slack only, with the command's `trigger_id`): a second factor, say.
    public var modal: ModalRequest?

    public init(_ blocks: [ReplyBlock], visibility: Visibility = .ephemeral, modal: ModalRequest? = nil) {
        self.blocks = blocks
        self.visibility = visibility
        self.modal = modal
    }

    /// A one-paragraph reply.
    public static func text(_ text: String) -> BotReply { BotReply([.text(text)]) }

    /// The reply as plain text: Slack's notification fallback, terminals and e-mail.
    public var plainText: String { PlainTextRenderer.render(self) }
}

/// Stored in the outbox: `{"text": "…"}`, `{"fields": [{"label": …, "value": …}]}`, `{"divider": true}`, ….
extension ReplyBlock: Codable {
    private enum Key: String, CodingKey { case header, text, fields, bars, table, context, divider, buttons }
    private struct Field: Codable {
        var label: String
        var value: String
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Key.self)
        guard let key = container.allKeys.first, container.allKeys.count == 1 else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "one kind of block expected"))
        }
        switch key {
        case .header: self = .header(try container.decode(String.self, forKey: key))
        case .text: self = .text(try container.decode(String.self, forKey: key))
        case .context: self = .context(try container.decode(String.self, forKey: key))
        case .fields: self = .fields(try container.decode([Field].self, forKey: key).map { ($0.label, $0.value) })
        case .bars: self = .bars(try container.decode([ReplyBar].self, forKey: key))
        case .table: self = .table(try container.decode(ReplyTable.self, forKey: key))
        case .divider: self = .divider
        case .buttons: self = .buttons(try container.decode([ReplyButton].self, forKey: key))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        switch self {
        case let .header(text): try container.encode(text, forKey: .header)
        case let .text(text): try container.encode(text, forKey: .text)
        case let .context(text): try container.encode(text, forKey: .context)
        case let .fields(fields): try container.encode(fields.map { Field(label: $0.label, value: $0.value) }, forKey: .fields)
        case let .bars(bars): try container.encode(bars, forKey: .bars)
        case let .table(table): try container.encode(table, forKey: .table)
        case .divider: try container.encode(true, forKey: .divider)
        case let .buttons(buttons): try container.encode(buttons, forKey: .buttons)
        }
    }
}

/// Renders a reply as plain text.
public enum PlainTextRenderer {
    public static func render(_ reply: BotReply) -> String {
        var parts: [String] = []
        for block in reply.blocks {
            switch block {
            case let .header(text): parts.append(text)
            case let .text(text): parts.append(text)
            case let .fields(fields): parts.append(fields.map { "\($0.label): \($0.value)" }.joined(separator: "\n"))
            case let .bars(bars): parts.append(bars.map(barLine).joined(separator: "\n"))
            case let .table(table): parts.append(table.lines().joined(separator: "\n"))
            case let .context(text): parts.append(text)
            case .divider: parts.append("")
            case let .buttons(buttons): parts.append(buttons.map { "\($0.label): `\($0.command)`" }.joined(separator: " · "))
            }
        }
        return parts.joined(separator: "\n")
    }

    /// `████████░░ 80% Healthy` — twenty cells wide.
    public static func barLine(_ bar: ReplyBar) -> String {
        let cells = 20
        let filled = bar.total == 0 ? 0 : Int((Double(bar.count) * Double(cells) / Double(bar.total)).rounded())
        let graph = String(repeating: "█", count: filled) + String(repeating: "░", count: cells - filled)
        let percent = String(bar.percent).leftPadded(to: 3)
        return "\(graph) \(percent)% \(bar.marker) \(bar.label) (\(bar.count))"
    }
}

extension String {
    func trimmingTrailingSpaces() -> String {
        var copy = self
        while copy.last == " " { copy.removeLast() }
        return copy
    }

    /// The string padded with spaces on the left to `width` characters.
    public func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
