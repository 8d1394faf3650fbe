import Foundation

/// Something done once to a store's services that is not a setting (ORIGINAL-DESIGN §1.4, §1.6): pages dropped from
/// Varnish, a cron event run or switched off and on, a crawler turned away. Every value in it was validated when it
/// was made, and again when a stored one is read back.
public enum ServiceOperation: Sendable, Equatable, Hashable {
    /// Varnish drops every cached page whose URL matches (`varnishadm ban`).
    case purge(PurgePattern)
    /// A cron event (WordPress hook) or group (Magento) run now.
    case runCron(CronTarget)
    /// A cron event or group switched off or back on.
    case toggleCron(CronTarget, enabled: Bool)
    /// A crawler asked to stay away (robots.txt) or refused by the web server.
    case blockCrawler(CrawlerBlock)

    /// The job's name in lists and the audit log: `purge:/category/*`, `cron:run:wc_cleanup`, `block:deny:MJ12bot`.
    public var name: String {
        switch self {
        case let .purge(pattern): "purge:\(pattern.path)"
        case let .runCron(target): "cron:run:\(target.name)"
        case let .toggleCron(target, enabled): "cron:\(enabled ? "enable" : "disable"):\(target.name)"
        case let .blockCrawler(block): "block:\(block.how.rawValue):\(block.crawler)"
        }
    }
}

/// A URL path pattern for a Varnish ban: `/`, letters, digits and `. _ - ~ %`, with `*` for any characters; it
/// matches from the path's start. Becomes an anchored regular expression with every dot escaped.
public struct PurgePattern: Sendable, Equatable, Hashable {
    public let path: String

    /// - Returns: nil unless `text` starts with `/`, is at most 200 characters and holds only the allowed ones.
    public init?(_ text: String) {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-~%*")
        guard text.hasPrefix("/"), text.count <= 200, text.allSatisfy(allowed.contains), !text.contains("**") else { return nil }
        path = text
    }

    /// The ban's regular expression: `^/category/shoes.*` for `/category/shoes*`; `.` is escaped.
    public var expression: String {
        "^" + path.map { character in
            switch character {
            case ".": "\\."
            case "*": ".*"
            default: String(character)
            }
        }.joined()
    }

    /// Whether it drops the whole cache (`/*`).
    public var isEverything: Bool { path == "/*" || path == "/.*" }
}

/// A cron event (a WordPress hook such as `wc_cleanup_sessions`) or group (Magento's `index`, `default`): letters,
/// digits, `_`, `-`, `.` and `/`, at most 100.
public struct CronTarget: Sendable, Equatable, Hashable, Codable {
    public let name: String
    /// How often a WordPress event recurs (`hourly`), kept when it is switched off so that it can be scheduled again.
    public var recurrence: String?

    public init?(_ name: String, recurrence: String? = nil) {
        guard Self.isName(name), recurrence.map(Self.isName) ?? true else { return nil }
        self.name = name
        self.recurrence = recurrence
    }

    static func isName(_ text: String) -> Bool {
        !text.isEmpty && text.count <= 100 && !text.hasPrefix("-") && !text.hasPrefix("/")
            && text.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "_-.".unicodeScalars.contains($0)) }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        guard let target = CronTarget(try container.decode(String.self, forKey: .name),
                                      recurrence: try container.decodeIfPresent(String.self, forKey: .recurrence)) else {
            throw DecodingError.dataCorruptedError(forKey: .name, in: container, debugDescription: "not a cron event name")
        }
        self = target
    }
}

/// A crawler turned away, by the name its user agent carries (`MJ12bot`): a robots.txt rule for one that honours it,
/// a web-server deny for one that does not.
public struct CrawlerBlock: Sendable, Equatable, Hashable, Codable {
    public enum How: String, Sendable, Codable, CaseIterable {
        case robots, deny
    }

    public let crawler: String
    public let how: How

    /// - Returns: nil unless `crawler` is 2–40 letters, digits, `.`, `_` or `-`.
    public init?(crawler: String, how: How) {
        guard (2...40).contains(crawler.count), !crawler.hasPrefix("-"), crawler.unicodeScalars.allSatisfy({
            $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "._-".unicodeScalars.contains($0))
        }) else { return nil }
        self.crawler = crawler
        self.how = how
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        guard let block = CrawlerBlock(crawler: try container.decode(String.self, forKey: .crawler),
                                       how: try container.decode(How.self, forKey: .how)) else {
            throw DecodingError.dataCorruptedError(forKey: .crawler, in: container, debugDescription: "not a crawler name")
        }
        self = block
    }
}

extension PurgePattern: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        guard let pattern = PurgePattern(try container.decode(String.self)) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a purge pattern")
        }
        self = pattern
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(path)
    }
}

extension ServiceOperation: Codable {
    enum CodingKeys: String, CodingKey { case type, purge, cron, enabled, block }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        switch try container.decode(String.self, forKey: .type) {
        case "purge": self = .purge(try container.decode(PurgePattern.self, forKey: .purge))
        case "run_cron": self = .runCron(try container.decode(CronTarget.self, forKey: .cron))
        case "toggle_cron": self = .toggleCron(try container.decode(CronTarget.self, forKey: .cron),
                                               enabled: try container.decode(Bool.self, forKey: .enabled))
        case "block": self = .blockCrawler(try container.decode(CrawlerBlock.self, forKey: .block))
        case let other: throw DecodingError.dataCorruptedError(forKey: .type, in: container, debugDescription: "unknown operation \(other)")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case let .purge(pattern):
            try container.encode("purge", forKey: .type)
            try container.encode(pattern, forKey: .purge)
        case let .runCron(target):
            try container.encode("run_cron", forKey: .type)
            try container.encode(target, forKey: .cron)
        case let .toggleCron(target, enabled):
            try container.encode("toggle_cron", forKey: .type)
            try container.encode(target, forKey: .cron)
            try container.encode(enabled, forKey: .enabled)
        case let .blockCrawler(block):
            try container.encode("block", forKey: .type)
            try container.encode(block, forKey: .block)
        }
    }
}
