import BotCore
import Foundation

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
    }

    public struct CountryCount: Codable, Sendable, Equatable {
        public var country: String
        public var requests: Int
    }
}

extension TrafficAggregator {
    /// The report: behaviour judged over the whole pass, crawlers named with their share and what to do.
    public mutating func report(top: Int = 10) -> TrafficReport {
        judgeBehaviour()
        let valid = validRequests
        // Crawlers: requests and clients per identity.
        var botRequests = [Int](repeating: 0, count: bots.count)
        var botClients = [Int](repeating: 0, count: bots.count)
        var countries: [UInt16: Int] = [:]
        for client in clients {
            let bot = client.verdict >= 0 ? client.verdict : agents[Int(client.agent)].bot
            if bot >= 0 {
                botRequests[Int(bot)] += Int(client.requests)
                botClients[Int(bot)] += 1
            }
            if geo != nil { countries[client.country, default: 0] += Int(client.requests) }
        }
        let botTotal = botRequests.reduce(0, +)
        let shares = bots.indices.filter { botRequests[$0] > 0 }.map { index in
            let share = valid > 0 ? Double(botRequests[index]) / Double(valid) : 0
            return TrafficReport.BotShare(name: bots[index].name, kind: bots[index].kind, requests: botRequests[index], share: share,
                                          clients: botClients[index], evidence: evidence[Int32(index)] ?? "user agent",
                                          recommendation: Self.recommendation(bots[index], share: share, matched: list))
        }.sorted { ($0.requests, $1.name) > ($1.requests, $0.name) }
        var heatmap = [[Int]](repeating: [Int](repeating: 0, count: 24), count: 7)
        var byKind = [Int](repeating: 0, count: ContentKind.allCases.count)
        var timed = 0, milliseconds = 0
        for hour in hours {
            let day = hour.hour >= 0 ? hour.hour / 24 : (hour.hour - 23) / 24
            let weekday = ((day + 3) % 7 + 7) % 7  // 1970-01-01 was a Thursday: Monday is 0
            heatmap[weekday][((hour.hour % 24) + 24) % 24] += hour.requests
            for kind in ContentKind.allCases { byKind[kind.rawValue] += hour.bytesByKind[kind.rawValue] }
            timed += hour.timedRequests
            milliseconds += hour.requestMilliseconds
        }
        let pathsSorted = paths.sorted { ($0.requests, $1.path) > ($1.requests, $0.path) }.prefix(top)
        let countryList = geo == nil ? nil : countries.compactMap { packed, requests in
            GeoIP.code(packed).map { TrafficReport.CountryCount(country: $0, requests: requests) }
        }.sorted { ($0.requests, $1.country) > ($1.requests, $0.country) }
        let statuses = Dictionary(uniqueKeysWithValues: statusCodes.indices.filter { $0 >= 100 && statusCodes[$0] > 0 }.map { ("\($0)", statusCodes[$0]) })
        return TrafficReport(
            from: firstSeen == .max ? nil : Date(timeIntervalSince1970: TimeInterval(firstSeen)),
            to: lastSeen == .min ? nil : Date(timeIntervalSince1970: TimeInterval(lastSeen)),
            totals: .init(lines: lines, valid: valid, failed: failed, uniqueVisitors: uniqueVisitors, bandwidth: bandwidth,
                          humans: valid - botTotal, bots: botTotal, notFound: statusCodes[404],
                          meanRequestMilliseconds: timed > 0 ? Double(milliseconds) / Double(timed) : nil),
            statusCodes: statuses,
            bandwidthByKind: Dictionary(uniqueKeysWithValues: ContentKind.allCases.map { ($0.name, byKind[$0.rawValue]) }),
            heatmap: heatmap, topPaths: pathsSorted.map { .init(path: $0.path, requests: $0.requests) }, bots: shares,
            countries: countryList,
            countriesNote: geo.map { "Countries from \($0.description)." }
                ?? "No countries: set PERFBOT_GEOIP_DATABASE to a MaxMind-format country database (GeoLite2-Country.mmdb).",
            hours: hours.sorted { $0.hour < $1.hour }.map { hour in
                TrafficReport.Hour(start: Date(timeIntervalSince1970: TimeInterval(hour.hour * 3600)), requests: hour.requests,
                                   bots: hour.bots, bytes: hour.bytes,
                                   statusClasses: Dictionary(uniqueKeysWithValues: (1...5).filter { hour.statusClasses[$0] > 0 }
                                       .map { ("\($0)xx", hour.statusClasses[$0]) }),
                                   bytesByKind: Dictionary(uniqueKeysWithValues: ContentKind.allCases.filter { hour.bytesByKind[$0.rawValue] > 0 }
                                       .map { ($0.name, hour.bytesByKind[$0.rawValue]) }))
            },
            botListNote: "Crawlers named from perfbot's list of \(list.entries.count) user agents (\(list.date)) and by behaviour.")
    }

    /// Clients whose user agent says browser but whose behaviour does not: robots.txt first, many pages and no
    /// asset at a crawler's pace, or mostly errors. They are counted as crawlers from then on, hour by hour.
    mutating func judgeBehaviour() {
        guard !judged else { return }
        judged = true
        for index in clients.indices {
            let client = clients[index]
            guard agents[Int(client.agent)].bot < 0 else { continue }
            let minutes = max(1.0, Double(client.lastSeen - client.firstSeen) / 60)
            let identity: BotIdentity, why: String
            if client.robotsFirst, client.requests >= 2 {
                identity = BotIdentity(name: "Unlisted crawler", kind: .unlisted, abusive: false)
                why = "robots.txt first"
            } else if client.requests >= 50, client.assets == 0, client.pages >= 50, Double(client.requests) / minutes >= 20 {
                identity = BotIdentity(name: "Scraper posing as a browser", kind: .scraper, abusive: true)
                why = "no assets, \(Int(Double(client.requests) / minutes))/min"
            } else if client.requests >= 20, client.errors * 2 >= client.requests {
                identity = BotIdentity(name: "Prober posing as a browser", kind: .scraper, abusive: true)
                why = "mostly errors"
            } else {
                continue
            }
            let slot = botSlot(identity)
            evidence[slot] = why
            clients[index].verdict = slot
            for (hour, count) in client.hours {
                if let hourSlot = hourIndex[Int(hour)] { hours[hourSlot].bots += Int(count) }
            }
        }
    }

    /// What to do about `bot`, given its share of the requests.
    static func recommendation(_ bot: BotIdentity, share: Double, matched list: BotList) -> TrafficReport.Recommendation {
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
            let match = list.entries.first { $0.name == bot.name }?.match ?? bot.name
            return .init(action: .deny, text: "deny it in the web server (user agent containing \"\(match)\"): "
                + "it does not honour robots.txt (\(percent))")
        }
        return .init(action: .robots, text: "robots.txt: \"User-agent: \(bot.name)\" then \"Disallow: /\" (\(percent) of requests)")
    }
}

extension TrafficAggregator {
    /// What a read of part of a log adds to the store's hours: each hour's own figures, and the crawlers, pages and
    /// countries of the read (a minute's worth, in a collector) in the hour that had most of its requests.
    public mutating func hourRecords(pages: Int = 20) -> [TrafficHour] {
        let report = report(top: pages)
        guard let busiest = hours.max(by: { $0.requests < $1.requests })?.hour else { return [] }
        return hours.sorted { $0.hour < $1.hour }.map { hour in
            var record = TrafficHour(
                hour: Date(timeIntervalSince1970: TimeInterval(hour.hour * 3600)), requests: hour.requests, bots: hour.bots,
                bytes: hour.bytes, statusClasses: hour.statusClasses, notFound: 0,
                bytesByKind: Dictionary(uniqueKeysWithValues: ContentKind.allCases.filter { hour.bytesByKind[$0.rawValue] > 0 }
                    .map { ($0.name, hour.bytesByKind[$0.rawValue]) }),
                requestMilliseconds: hour.requestMilliseconds, timedRequests: hour.timedRequests)
            if hour.hour == busiest {
                record.notFound = report.totals.notFound
                record.crawlers = Dictionary(report.bots.map { bot in
                    (bot.name, TrafficHour.CrawlerTally(requests: bot.requests, kind: bot.kind.rawValue,
                                                        abusive: bot.recommendation.action == .deny || bot.recommendation.action == .rateLimit,
                                                        evidence: bot.evidence))
                }, uniquingKeysWith: { a, _ in a })
                record.paths = Dictionary(report.topPaths.map { ($0.path, $0.requests) }, uniquingKeysWith: +)
                record.countries = Dictionary((report.countries ?? []).map { ($0.country, $0.requests) }, uniquingKeysWith: +)
            }
            return record
        }
    }
}

extension TrafficReport {
    /// The report of a store's stored hours (`/perf traffic`, the e-mail `traffic`, the status page).
    public init(hours: [TrafficHour], bots list: BotList = .shipped, countriesKnown: Bool, top: Int = 10) {
        var total = TrafficHour(hour: hours.first?.hour ?? Date(timeIntervalSince1970: 0))
        for hour in hours { total = total.adding(hour) }
        var heatmap = [[Int]](repeating: [Int](repeating: 0, count: 24), count: 7)
        for hour in hours {
            let index = Int(hour.hour.timeIntervalSince1970) / 3600
            let day = index / 24
            heatmap[((day + 3) % 7 + 7) % 7][index % 24] += hour.requests
        }
        var codes: [String: Int] = [:]
        for (digit, count) in total.statusClasses.enumerated() where digit > 0 && count > 0 { codes["\(digit)xx"] = count }
        let valid = total.requests
        let bots = total.crawlers.map { name, tally in
            let kind = BotKind(rawValue: tally.kind) ?? .unlisted
            let share = valid > 0 ? Double(tally.requests) / Double(valid) : 0
            return BotShare(name: name, kind: kind, requests: tally.requests, share: share, clients: 0, evidence: tally.evidence,
                            recommendation: TrafficAggregator.recommendation(BotIdentity(name: name, kind: kind, abusive: tally.abusive),
                                                                            share: share, matched: list))
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
            botListNote: "Crawlers named from perfbot's list of \(list.entries.count) user agents (\(list.date)) and by behaviour.")
    }
}
