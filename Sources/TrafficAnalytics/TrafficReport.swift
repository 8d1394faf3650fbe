import BotCore
import Foundation

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
                                          recommendation: TrafficReport.recommendation(bots[index], share: share))
        }.sorted { ($0.requests, $1.name) > ($1.requests, $0.name) }
        let heatmap = TrafficReport.heatmap(hours.map { ($0.hour, $0.requests) })
        var byKind = [Int](repeating: 0, count: ContentKind.allCases.count)
        var timed = 0, milliseconds = 0
        for hour in hours {
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
            botListNote: list.note)
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
                    (bot.name, TrafficHour.CrawlerTally(requests: bot.requests, kind: bot.kind,
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

