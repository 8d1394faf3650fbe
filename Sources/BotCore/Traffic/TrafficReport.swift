import Foundation

/// What a crawler does for a store, which decides what perfbot recommends about it.
public enum BotKind: String, Codable, Sendable, CaseIterable {
    /// Brings visitors from a search engine: keep it.
    case search
    case seo, ai, social, monitor, feed, tool, scraper
    /// Not on the list: a user agent that calls itself a bot, or a client that behaves like one.
    case unlisted
}

/// A crawler as the report names it.
public struct BotIdentity: Hashable, Codable, Sendable {
    public var name: String
    public var kind: BotKind
    /// Ignores robots.txt or mostly scrapes or probes: a web-server deny, not a robots.txt rule.
    public var abusive: Bool

    public init(name: String, kind: BotKind, abusive: Bool) {
        self.name = name
        self.kind = kind
        self.abusive = abusive
    }
}

/// A store's traffic over a period, as `/perf traffic`, the e-mail `traffic`, the status page and
/// `perfbot accesslog report` show it: aggregates only.
public struct TrafficReport: Codable, Sendable, Equatable {
    public struct Totals: Codable, Sendable, Equatable {
        /// Lines read, those that were requests (`valid`), and those that were not.
        public var lines: Int
        public var valid: Int
        public var failed: Int
        /// GoAccess's unique visitors (same address, date and user agent; 4xx answers left out); nil for a report
        /// made of stored hours, which keep no addresses to count them by.
        public var uniqueVisitors: Int?
        public var bandwidth: Int
        public var humans: Int
        public var bots: Int
        public var notFound: Int
        /// Mean `$request_time` in milliseconds, when the log has it.
        public var meanRequestMilliseconds: Double?

        public init(lines: Int, valid: Int, failed: Int, uniqueVisitors: Int?, bandwidth: Int, humans: Int, bots: Int, notFound: Int, meanRequestMilliseconds: Double?) {
            self.lines = lines
            self.valid = valid
            self.failed = failed
            self.uniqueVisitors = uniqueVisitors
            self.bandwidth = bandwidth
            self.humans = humans
            self.bots = bots
            self.notFound = notFound
            self.meanRequestMilliseconds = meanRequestMilliseconds
        }
    }

    public struct BotShare: Codable, Sendable, Equatable {
        public var name: String
        public var kind: BotKind
        public var requests: Int
        /// Of all requests, 0–1.
        public var share: Double
        public var clients: Int
        /// How it was recognised: `user agent`, `robots.txt first`, `no assets, fast`, `mostly errors`.
        public var evidence: String
        public var recommendation: Recommendation

        public init(name: String, kind: BotKind, requests: Int, share: Double, clients: Int, evidence: String, recommendation: Recommendation) {
            self.name = name
            self.kind = kind
            self.requests = requests
            self.share = share
            self.clients = clients
            self.evidence = evidence
            self.recommendation = recommendation
        }
    }

    /// What to do about a crawler.
    public struct Recommendation: Codable, Sendable, Equatable {
        public enum Action: String, Codable, Sendable {
            /// It brings visitors or watches the store: leave it.
            case keep
            /// A `robots.txt` rule: polite crawlers follow it.
            case robots
            /// A web-server deny by user agent: for those that ignore robots.txt.
            case deny
            /// A rate limit: it hides behind a browser's user agent.
            case rateLimit = "rate_limit"
            /// Too small to matter.
            case none
        }

        public var action: Action
        public var text: String

        public init(action: Action, text: String) {
            self.action = action
            self.text = text
        }
    }

    public struct Hour: Codable, Sendable, Equatable {
        /// The hour's start, UTC.
        public var start: Date
        public var requests: Int
        public var bots: Int
        public var bytes: Int
        /// `2xx` → count.
        public var statusClasses: [String: Int]
        public var bytesByKind: [String: Int]

        public init(start: Date, requests: Int, bots: Int, bytes: Int, statusClasses: [String: Int], bytesByKind: [String: Int]) {
            self.start = start
            self.requests = requests
            self.bots = bots
            self.bytes = bytes
            self.statusClasses = statusClasses
            self.bytesByKind = bytesByKind
        }
    }

    public var from: Date?
    public var to: Date?
    public var totals: Totals
    /// Status code → requests.
    public var statusCodes: [String: Int]
    /// Bytes by content kind (`images`, `scripts`, …).
    public var bandwidthByKind: [String: Int]
    /// Requests by weekday (Monday first) and UTC hour.
    public var heatmap: [[Int]]
    public var topPaths: [PathCount]
    public var bots: [BotShare]
    /// Country code → requests; nil without a GeoIP database.
    public var countries: [CountryCount]?
    /// Where countries come from, or why there are none.
    public var countriesNote: String
    public var hours: [Hour]
    /// The bot list's source and date.
    public var botListNote: String

    public struct PathCount: Codable, Sendable, Equatable {
        public var path: String
        public var requests: Int

        public init(path: String, requests: Int) {
            self.path = path
            self.requests = requests
        }
    }

    public struct CountryCount: Codable, Sendable, Equatable {
        public var country: String
        public var requests: Int

        public init(country: String, requests: Int) {
            self.country = country
            self.requests = requests
        }
    }

    public init(from: Date?, to: Date?, totals: Totals, statusCodes: [String: Int], bandwidthByKind: [String: Int], heatmap: [[Int]], topPaths: [PathCount], bots: [BotShare], countries: [CountryCount]?, countriesNote: String, hours: [Hour], botListNote: String) {
        self.from = from
        self.to = to
        self.totals = totals
        self.statusCodes = statusCodes
        self.bandwidthByKind = bandwidthByKind
        self.heatmap = heatmap
        self.topPaths = topPaths
        self.bots = bots
        self.countries = countries
        self.countriesNote = countriesNote
        self.hours = hours
        self.botListNote = botListNote
    }
}

extension TrafficReport {
    /// The report of a store's stored hours (`/perf traffic`, the e-mail `traffic`, the status page).
    /// Requests by weekday (Monday first) and UTC hour, from (hours since 1970-01-01 UTC, requests).
    public static func heatmap(_ hours: [(hour: Int, requests: Int)]) -> [[Int]] {
        var heatmap = [[Int]](repeating: [Int](repeating: 0, count: 24), count: 7)
        for (hour, requests) in hours {
            let day = hour >= 0 ? hour / 24 : (hour - 23) / 24
            // 1970-01-01 was a Thursday: Monday is 0.
            heatmap[((day + 3) % 7 + 7) % 7][((hour % 24) + 24) % 24] += requests
        }
        return heatmap
    }

    public init(hours: [TrafficHour], botListNote: String, countriesKnown: Bool, top: Int = 10) {
        var total = TrafficHour(hour: hours.first?.hour ?? Date(timeIntervalSince1970: 0))
        for hour in hours { total = total.adding(hour) }
        let heatmap = Self.heatmap(hours.map { (Int(($0.hour.timeIntervalSince1970 / 3600).rounded(.down)), $0.requests) })
        var codes: [String: Int] = [:]
        for (digit, count) in total.statusClasses.enumerated() where digit > 0 && count > 0 { codes["\(digit)xx"] = count }
        let valid = total.requests
        let bots = total.crawlers.map { name, tally in
            let kind = tally.kind
            let share = valid > 0 ? Double(tally.requests) / Double(valid) : 0
            return BotShare(name: name, kind: kind, requests: tally.requests, share: share, clients: 0, evidence: tally.evidence,
                            recommendation: TrafficReport.recommendation(BotIdentity(name: name, kind: kind, abusive: tally.abusive), share: share))
        }.sorted { ($0.requests, $1.name) > ($1.requests, $0.name) }
        self.init(
            from: hours.first?.hour, to: hours.last.map { $0.hour.addingTimeInterval(3599) },
            totals: Totals(lines: valid, valid: valid, failed: 0, uniqueVisitors: nil, bandwidth: total.bytes,
                           humans: valid - total.bots, bots: total.bots, notFound: total.notFound,
                           meanRequestMilliseconds: total.timedRequests > 0 ? Double(total.requestMilliseconds) / Double(total.timedRequests) : nil),
            statusCodes: codes, bandwidthByKind: total.bytesByKind, heatmap: heatmap,
            topPaths: total.paths.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.prefix(top).map { PathCount(path: $0.key, requests: $0.value) },
            bots: bots,
            countries: countriesKnown ? total.countries.sorted { ($0.value, $1.key) > ($1.value, $0.key) }
                .map { CountryCount(country: $0.key, requests: $0.value) } : nil,
            countriesNote: countriesKnown ? "Countries from the GeoIP database perfbot was given."
                : "No countries: set PERFBOT_GEOIP_DATABASE to a MaxMind-format country database (GeoLite2-Country.mmdb).",
            hours: hours.map { hour in
                Hour(start: hour.hour, requests: hour.requests, bots: hour.bots, bytes: hour.bytes,
                     statusClasses: Dictionary(uniqueKeysWithValues: (1...5).filter { hour.statusClasses.indices.contains($0) && hour.statusClasses[$0] > 0 }
                        .map { ("\($0)xx", hour.statusClasses[$0]) }),
                     bytesByKind: hour.bytesByKind)
            },
            botListNote: botListNote)
    }

    /// What to do about `bot`, given its share of the requests.
    public static func recommendation(_ bot: BotIdentity, share: Double) -> Recommendation {
        let percent = String(format: "%.1f %%", share * 100)
        switch bot.kind {
        case .search where !bot.abusive:
            return .init(action: .keep, text: "keep: it brings visitors from search")
        case .monitor, .feed, .social:
            return .init(action: .keep, text: "keep: \(bot.kind == .monitor ? "it watches the store" : "it shows the store's links")")
        default:
            break
        }
        if bot.kind == .scraper && (bot.name.hasSuffix("posing as a browser")) {
            return .init(action: .rateLimit, text: "rate-limit it in the web server: it hides behind a browser's user agent (\(percent))")
        }
        guard share >= 0.01 || bot.abusive else { return .init(action: .none, text: "nothing to do (\(percent) of requests)") }
        if bot.abusive {
            return .init(action: .deny, text: "deny it in the web server (user agent containing \"\(bot.name)\"): "
                + "it does not honour robots.txt (\(percent))")
        }
        return .init(action: .robots, text: "robots.txt: \"User-agent: \(bot.name)\" then \"Disallow: /\" (\(percent) of requests)")
    }
}
