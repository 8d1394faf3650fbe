import BotCore
import Foundation
import Yams

/// The crawlers perfbot knows by user agent (`Data/bots.yaml`, with its source and date), and the words by which an
/// unlisted one gives itself away.
public struct BotList: Sendable {
    public struct Entry: Codable, Sendable, Equatable {
        public var name: String
        public var match: String
        public var kind: BotKind
        public var abusive: Bool?
    }

    struct File: Codable {
        var source: String
        var date: String
        var bots: [Entry]
    }

    public let entries: [Entry]
    /// Each entry's `match`, lowercased, as bytes.
    let patterns: [[UInt8]]
    /// Where the list comes from and when it was checked, for the report's footnote.
    public let source: String
    public let date: String

    /// The list perfbot ships.
    public static let shipped: BotList = {
        guard let url = Bundle.module.url(forResource: "bots", withExtension: "yaml", subdirectory: "Data"),
              let text = try? String(contentsOf: url, encoding: .utf8), let list = try? BotList(yaml: text) else {
            return BotList(entries: [], source: "missing", date: "")
        }
        return list
    }()

    public init(entries: [Entry], source: String, date: String) {
        self.entries = entries.map { entry in
            var lowered = entry
            lowered.match = entry.match.lowercased()
            return lowered
        }
        patterns = self.entries.map { Array($0.match.utf8) }
        self.source = source
        self.date = date
    }

    public init(yaml: String) throws {
        let file = try YAMLDecoder().decode(File.self, from: yaml)
        self.init(entries: file.bots, source: file.source, date: file.date)
    }

    /// Words an unlisted crawler's user agent carries.
    static let giveaways = ["bot", "crawl", "spider", "scan", "fetch", "http-client", "httpclient", "libwww", "headless"]

    /// The line a report ends with: where the crawlers' names come from.
    public var note: String { "Crawlers named from perfbot's list of \(entries.count) user agents (\(date)) and by behaviour." }

    /// Who `agent` is when it is a crawler by its user agent; nil for a browser (which behaviour may still unmask).
    public func identify(_ agent: String) -> BotIdentity? {
        // ASCII lowercase, compared byte by byte: a user agent is outside text, and this runs once per distinct one.
        let lowered = agent.utf8.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }
        for (index, pattern) in patterns.enumerated() where Self.contains(lowered, pattern) {
            let entry = entries[index]
            return BotIdentity(name: entry.name, kind: entry.kind, abusive: entry.abusive ?? false)
        }
        let trimmed = agent.trimmingCharacters(in: .whitespaces)
        if trimmed.isEmpty || trimmed == "-" { return BotIdentity(name: "(no user agent)", kind: .unlisted, abusive: true) }
        let browser = Self.hasPrefix(lowered, Self.mozilla) || Self.hasPrefix(lowered, Self.opera)
        guard Self.giveawayBytes.contains(where: { Self.contains(lowered, $0) }) || !browser else { return nil }
        return BotIdentity(name: Self.productName(trimmed), kind: .unlisted, abusive: false)
    }

    static let giveawayBytes = giveaways.map { Array($0.utf8) }
    static let mozilla = Array("mozilla/".utf8), opera = Array("opera".utf8)

    static func hasPrefix(_ text: [UInt8], _ prefix: [UInt8]) -> Bool {
        text.count >= prefix.count && text[0..<prefix.count].elementsEqual(prefix)
    }

    /// Whether `pattern` occurs in `text`.
    static func contains(_ text: [UInt8], _ pattern: [UInt8]) -> Bool {
        guard let first = pattern.first, text.count >= pattern.count else { return pattern.isEmpty }
        return text.withUnsafeBufferPointer { text in
            pattern.withUnsafeBufferPointer { pattern in
                var index = 0
                let last = text.count - pattern.count
                while index <= last {
                    if text[index] == first {
                        var offset = 1
                        while offset < pattern.count, text[index + offset] == pattern[offset] { offset += 1 }
                        if offset == pattern.count { return true }
                    }
                    index += 1
                }
                return false
            }
        }
    }

    /// The name an unlisted crawler gives itself: the product token that says bot, else the first one (`FooBot/2.1`).
    static func productName(_ agent: String) -> String {
        let tokens = agent.split(whereSeparator: { $0 == " " || $0 == ";" || $0 == "(" || $0 == ")" || $0 == "+" })
        let named = tokens.first { token in giveaways.contains { token.lowercased().contains($0) } } ?? tokens.first ?? "unknown"
        let name = named.split(separator: "/").first.map(String.init) ?? String(named)
        return String(name.prefix(40).filter { $0.isLetter || $0.isNumber || "-_. ".contains($0) })
    }
}
