import BotCore
import BotPlaybooks
import Foundation
import Testing
import TrafficAnalytics

/// The repository's root, from this file.
func repositoryPath(_ relative: String) -> String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent(relative).path
}

/// Parses `text` as one line.
func parsed(_ text: String) -> (AccessLogLine, [UInt8])? {
    let bytes = Array(text.utf8)
    return bytes.withUnsafeBufferPointer { buffer in AccessLogLine.parse(buffer).map { ($0, bytes) } }
}

func field(_ bytes: [UInt8], _ field: AccessLogLine.Field) -> String {
    String(decoding: bytes[field.start..<field.end], as: UTF8.self)
}

/// Aggregates `log` (lines separated by newlines).
func aggregate(_ log: String, geo: GeoIP? = nil) -> TrafficAggregator {
    var aggregator = TrafficAggregator(geo: geo)
    let bytes = Array(log.utf8)
    _ = bytes.withUnsafeBufferPointer { aggregator.consume($0, final: true) }
    return aggregator
}

@Suite struct AccessLogLineTests {
    @Test func aCombinedLineWithItsRequestTime() throws {
        let (line, bytes) = try #require(parsed(
            #"203.0.113.5 - alice [07/Dec/2026:10:00:01 +0100] "GET /cart/?add-to-cart=12&q=\"x\" HTTP/2.0" 200 5120 "https://shop.example/" "Mozilla/5.0 (X11) \"quoted\" Chrome/120" 0.042"#))
        #expect(field(bytes, line.client) == "203.0.113.5")
        #expect(field(bytes, line.method) == "GET")
        #expect(field(bytes, line.path) == "/cart/")
        #expect(field(bytes, line.query) == #"add-to-cart=12&q=\"x\""#)
        #expect(line.status == 200 && line.bytes == 5120)
        #expect(field(bytes, line.referrer) == "https://shop.example/")
        #expect(field(bytes, line.userAgent) == #"Mozilla/5.0 (X11) \"quoted\" Chrome/120"#)
        #expect(line.requestMilliseconds == 42)
        let time = try #require(bytes.withUnsafeBufferPointer { LogTime.parse($0, line.time) })
        // 2026-12-07 is day 20,794 since 1970-01-01 (56 years with 14 leap days, plus 340 days); 10:00 at +01:00 is 09:00 UTC.
        #expect(time.localDay == 56 * 365 + 14 + 340)
        #expect(time.utcHour == time.localDay * 24 + 9)
    }

    @Test func commonFormatIPv6AndADashForBytes() throws {
        let (line, bytes) = try #require(parsed(#"2001:db8::7 - - [31/Dec/2026:23:59:59 -0500] "HEAD / HTTP/1.1" 304 -"#))
        #expect(field(bytes, line.client) == "2001:db8::7")
        #expect(line.status == 304 && line.bytes == 0)
        #expect(line.userAgent.isEmpty && line.requestMilliseconds == nil)
        let time = try #require(bytes.withUnsafeBufferPointer { LogTime.parse($0, line.time) })
        // 23:59:59 at -05:00 is 04:59:59 UTC on the next day; the date as written stays the 31st.
        #expect(time.utcHour == (time.localDay + 1) * 24 + 4)
    }

    @Test(arguments: [
        "garbage",
        #"\x16\x03\x01\x02\x00 garbage"#,
        #"example.com - - [07/Dec/2026:10:00:01 +0000] "GET / HTTP/1.1" 200 1 "-" "x""#,
        #"203.0.113.5 - - [07/Dec/2026:10:00:01 +0000] "GET /pro"#,
        #"203.0.113.5 - - [07/Dec/2026:10:00:01 +0000] "GET / HTTP/1.1" 2x0 1 "-" "x""#,
        #"203.0.113.5 - - [07/Dec/2026:10:00:01 +0000] "GET / HTTP/1.1" 200 12a "-" "x""#,
        #"203.0.113.5 - - 07/Dec/2026:10:00:01 +0000 "GET / HTTP/1.1" 200 1"#,
    ])
    func whatIsNotALogLineIsRefused(_ text: String) {
        #expect(parsed(text) == nil)
    }

    /// Lines cut short, counted as GoAccess 1.7 counts them in a combined log (each case tried on GoAccess itself):
    /// the suffix after the request, whether it counts, its bytes and its status.
    @Test(arguments: [
        ("", true, 0, nil), (" ", true, 0, nil), (" 200 348 ", true, 348, "200"), (#" 200 348 "https://x"#, true, 348, "200"),
        (#" 200 348 "-" "#, true, 348, "200"), (#" 200 348 "-" ""#, true, 348, "200"), (#" 200 348 "-""#, true, 348, "200"),
        (#" 200 348 "-" "Mozilla/5 (x"#, true, 348, "200"), (#" 200 348 "-" "Moz" 0.042"#, true, 348, "200"),
        (" 200", false, 0, nil), (" 2", false, 0, nil), (" 200 348", false, 0, nil), (" 200 -", false, 0, nil),
    ] as [(String, Bool, Int, String?)])
    func linesCutShortCountAsGoAccessCountsThem(_ suffix: String, _ counts: Bool, _ bytes: Int, _ status: String?) {
        let first = #"1.2.3.4 - - [04/Dec/2026:21:28:19 +0000] "GET / HTTP/1.1" 200 1 "-" "Mozilla/5.0""#
        var aggregator = aggregate(first + "\n" + #"1.2.3.4 - - [04/Dec/2026:21:28:20 +0000] "GET / HTTP/1.1""# + suffix)
        let report = aggregator.report()
        #expect(report.totals.valid == (counts ? 2 : 1), "\(suffix)")
        #expect(report.totals.bandwidth == 1 + bytes, "\(suffix)")
        #expect(report.statusCodes == (status.map { $0 == "200" ? ["200": 2] : [$0: 1, "200": 1] } ?? ["200": 1]), "\(suffix)")
    }

    /// A common-format log (no referrer, no user agent) is read whole: its first line tells its format.
    @Test func aCommonLogIsReadWhole() {
        var aggregator = aggregate(#"1.2.3.4 - - [04/Dec/2026:21:28:19 +0000] "GET / HTTP/1.1" 200 10"# + "\n"
            + #"1.2.3.5 - - [04/Dec/2026:21:28:20 +0000] "GET /a.css HTTP/1.1" 304 -"#)
        let report = aggregator.report()
        #expect(report.totals.valid == 2 && report.totals.bandwidth == 10 && report.totals.uniqueVisitors == 2)
    }

    @Test(arguments: [
        #"[07/Foo/2026:10:00:01 +0000]"#, #"[32/Dec/2026:10:00:01 +0000]"#, #"[07/Dec/2026:25:00:01 +0000]"#,
        #"[07/Dec/2026:10:00:01 0000]"#, #"[07/Dec/2026 10:00:01 +0000]"#,
    ])
    func aBadTimeFailsTheLine(_ time: String) {
        var aggregator = aggregate(#"203.0.113.5 - - \#(time) "GET / HTTP/1.1" 200 1 "-" "Mozilla/5.0""#)
        #expect(aggregator.failed == 1 && aggregator.report().totals.valid == 0)
    }

    @Test(arguments: [
        ("/", ContentKind.html), ("/product/red-shoe/", .html), ("/index.php", .html), ("/about.html", .html),
        ("/wp-content/uploads/a.JPG", .image), ("/x/logo.svg", .image), ("/a.webp", .image), ("/app.min.js", .script),
        ("/style.css", .style), ("/f.woff2", .font), ("/wp-json/wc/store/v1/cart", .api), ("/wp-admin/admin-ajax.php", .api),
        ("/?wc-ajax=get_refreshed_fragments", .api), ("/feed.xml", .other), ("/a.b/c", .html),
    ])
    func requestsAreSortedByWhatTheyFetch(_ path: String, _ kind: ContentKind) throws {
        let (line, bytes) = try #require(parsed(#"203.0.113.5 - - [07/Dec/2026:10:00:01 +0000] "GET \#(path) HTTP/1.1" 200 1 "-" "x""#))
        #expect(bytes.withUnsafeBufferPointer { ContentKind.of($0, path: line.path, query: line.query) } == kind, "\(path)")
    }
}

@Suite struct TrafficAggregatorTests {
    static let chrome = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"

    static func entry(_ ip: String, _ time: String, _ path: String, _ status: Int, _ bytes: Int, agent: String = chrome,
                      method: String = "GET") -> String {
        #"\#(ip) - - [\#(time) +0000] "\#(method) \#(path) HTTP/1.1" \#(status) \#(bytes) "-" "\#(agent)""#
    }

    /// A hand-made log whose every figure is counted below by hand.
    static var log: String {
        var lines: [String] = []
        // A shopper on Monday 30 November 2026, 10:00–10:59 UTC: two pages, a stylesheet, an image, one 404.
        lines += [entry("203.0.113.5", "30/Nov/2026:10:00:01", "/", 200, 1000),
                  entry("203.0.113.5", "30/Nov/2026:10:00:02", "/style.css", 200, 300),
                  entry("203.0.113.5", "30/Nov/2026:10:00:02", "/a.png", 200, 700),
                  entry("203.0.113.5", "30/Nov/2026:10:05:00", "/gone/", 404, 50),
                  entry("203.0.113.5", "30/Nov/2026:10:06:00", "/", 200, 1000)]
        // The same shopper the next day: a second visitor by GoAccess's definition.
        lines.append(entry("203.0.113.5", "01/Dec/2026:11:00:00", "/", 200, 1000))
        // Googlebot, by user agent: three pages.
        for second in 0..<3 {
            lines.append(entry("66.249.66.1", "30/Nov/2026:10:10:0\(second)", "/p/\(second)/", 200, 500,
                               agent: "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"))
        }
        // A client with a browser's user agent that reads robots.txt first, then one page.
        lines += [entry("100.64.0.7", "30/Nov/2026:10:20:00", "/robots.txt", 200, 100),
                  entry("100.64.0.7", "30/Nov/2026:10:20:01", "/p/9/", 200, 500)]
        // A scraper: 60 pages in 2 minutes, no assets, a browser's user agent, in two hours (10:59 and 11:00).
        for index in 0..<60 {
            let minute = index < 30 ? "10:59" : "11:00"
            lines.append(entry("198.51.100.9", "30/Nov/2026:\(minute):\(String(format: "%02d", index % 30))", "/p/\(index)/", 200, 100,
                               agent: "Mozilla/5.0 (X11; Linux x86_64) Firefox/115.0"))
        }
        // A prober: 20 requests, 15 of them errors.
        for index in 0..<20 {
            lines.append(entry("192.0.2.44", "30/Nov/2026:12:00:\(String(format: "%02d", index))", index < 15 ? "/.env" : "/", index < 15 ? 404 : 200, 10,
                               agent: "Mozilla/5.0 (Macintosh) Safari/605"))
        }
        lines.append("not a request at all")
        return lines.joined(separator: "\n") + "\n"
    }

    @Test func everyFigureOfAHandMadeLog() throws {
        var aggregator = aggregate(Self.log)
        let report = aggregator.report()
        let totals = report.totals
        // 6 shopper + 3 Googlebot + 2 robots-first + 60 scraper + 20 prober = 91 requests; 1 line that is not one.
        #expect(totals.lines == 92 && totals.valid == 91 && totals.failed == 1)
        // Bytes: shopper 1000+300+700+50+1000+1000 = 4050; Googlebot 1500; robots-first 600; scraper 6000; prober 200.
        #expect(totals.bandwidth == 4050 + 1500 + 600 + 6000 + 200)
        // 404s: the shopper's one and the prober's 15.
        #expect(totals.notFound == 16)
        #expect(report.statusCodes == ["200": 75, "404": 16])
        // Visitors (address, date, agent; 4xx left out): shopper on two days, Googlebot, robots-first, scraper
        // (one date), prober (its 200s) = 6.
        #expect(totals.uniqueVisitors == 6)
        // Crawlers: Googlebot 3 by user agent, robots-first 2, scraper 60, prober 20: 85; people: the shopper's 6.
        #expect(totals.bots == 85 && totals.humans == 6)
        let byName = Dictionary(uniqueKeysWithValues: report.bots.map { ($0.name, $0) })
        #expect(byName["Googlebot"]?.requests == 3 && byName["Googlebot"]?.recommendation.action == .keep)
        #expect(byName["Unlisted crawler"]?.requests == 2 && byName["Unlisted crawler"]?.evidence == "robots.txt first")
        #expect(byName["Scraper posing as a browser"]?.requests == 60)
        #expect(byName["Scraper posing as a browser"]?.recommendation.action == .rateLimit)
        #expect(byName["Prober posing as a browser"]?.requests == 20 && byName["Prober posing as a browser"]?.evidence == "mostly errors")
        #expect(report.bots.first?.name == "Scraper posing as a browser")
        // Hours (UTC): Mon 10:00 has 5 shopper + 3 + 2 + 30 scraper = 40, of them 35 crawlers; 11:00 has 30 scraper;
        // 12:00 the prober's 20; Tue 11:00 the shopper's 1.
        let hours = report.hours.map { ($0.start.timeIntervalSince1970, $0.requests, $0.bots) }
        let monday = Double(20_787 * 86400)  // 2026-11-30 00:00 UTC: day 20,794 (7 December) less a week
        #expect(hours.map(\.0) == [monday + 10 * 3600, monday + 11 * 3600, monday + 12 * 3600, monday + 35 * 3600])
        #expect(hours.map(\.1) == [40, 30, 20, 1])
        #expect(hours.map(\.2) == [35, 30, 20, 0])
        #expect(report.heatmap[0][10] == 40 && report.heatmap[0][11] == 30 && report.heatmap[1][11] == 1)
        #expect(report.heatmap.flatMap { $0 }.reduce(0, +) == 91)
        // Bandwidth by kind: the stylesheet 300, the image 700; pages the rest.
        #expect(report.bandwidthByKind["styles"] == 300 && report.bandwidthByKind["images"] == 700)
        // robots.txt and the prober's fifteen /.env (10 bytes each) are neither pages nor assets.
        #expect(report.bandwidthByKind["other"] == 100 + 150)
        #expect(report.bandwidthByKind["html"] == totals.bandwidth - 1000 - 250)
        // Pages: "/" 3 shopper + 5 prober = 8, "/.env" 15.
        #expect(report.topPaths.prefix(2).map(\.path) == ["/.env", "/"])
        #expect(report.topPaths.prefix(2).map(\.requests) == [15, 8])
        #expect(report.countries == nil && report.countriesNote.contains("PERFBOT_GEOIP_DATABASE"))
    }

    @Test func linesSplitAcrossReadsAreReadWhole() throws {
        let bytes = Array(Self.log.utf8)
        var split = TrafficAggregator()
        // Feed it in pieces of 7 bytes, keeping the unfinished line as `read` does.
        var pending: [UInt8] = []
        for chunk in stride(from: 0, to: bytes.count, by: 7) {
            pending += bytes[chunk..<min(chunk + 7, bytes.count)]
            let used = pending.withUnsafeBufferPointer { split.consume($0) }
            pending.removeFirst(used)
        }
        _ = pending.withUnsafeBufferPointer { split.consume($0, final: true) }
        var whole = aggregate(Self.log)
        #expect(split.report() == whole.report())
    }

    @Test func aFileAndAPipeAreReadToTheirEnd() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("access-\(UUID().uuidString).log").path
        try Self.log.write(toFile: path, atomically: true, encoding: .utf8)
        var fromFile = TrafficAggregator()
        try fromFile.read(path: path)
        var whole = aggregate(Self.log)
        #expect(fromFile.report() == whole.report())
        #expect(throws: AccessLogError.self) {
            var missing = TrafficAggregator()
            try missing.read(path: path + ".missing")
        }
    }

    /// Read in parts at once (each cut at a line's end) and merged, a log gives what one pass gives: clients,
    /// crawlers found by behaviour and hours that span the cuts included.
    @Test(arguments: [2, 3, 7])
    func partsReadAtOnceGiveWhatOnePassGives(_ parts: Int) throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("parts-\(UUID().uuidString).log").path
        // The log, then the same a month earlier from other addresses: every client, crawler and hour twice.
        var earlier = Self.log.replacingOccurrences(of: "Nov/2026", with: "Oct/2026")
        for address in ["203.0.113.5", "66.249.66.1", "100.64.0.7", "198.51.100.9", "192.0.2.44"] {
            earlier = earlier.replacingOccurrences(of: address + " ", with: address + "1 ")
        }
        try (Self.log + earlier).write(toFile: path, atomically: true, encoding: .utf8)
        var whole = TrafficAggregator()
        try whole.read(path: path)
        var merged = try TrafficAggregator.read(path: path, parts: parts, smallest: 0)
        let (a, b) = (whole.report(), merged.report())
        #expect(a == b)
        #expect(a.totals.valid == 182 && a.bots.count == 4 && a.totals.bots == 170)
    }

    @Test func theTextReportReadsAsSentences() throws {
        var aggregator = aggregate(Self.log)
        let text = TrafficText.render(aggregator.report(), source: "access.log")
        #expect(text.hasPrefix("Traffic of access.log: 91 requests, 30 Nov 2026 10:00 – 1 Dec 2026 11:00 UTC"))
        #expect(text.contains("(1 of 92 lines were not requests and were skipped)"))
        #expect(text.contains("People 7 % · crawlers 93 %"))
        #expect(text.contains("• Googlebot — 3 % of requests: keep: it brings visitors from search"))
        #expect(text.contains("Busiest: Monday 10:00–11:00."))
        #expect(text.contains("No countries: set PERFBOT_GEOIP_DATABASE"))
    }
}

@Suite struct GeoIPTests {
    static let database = repositoryPath("Tests/TrafficAnalyticsTests/Fixtures/test-country.mmdb")

    /// The fixture written by `scripts/geoip-testdb` (PyPI's mmdb-writer): documentation ranges, made-up countries.
    @Test func knownAddressesHaveTheirCountries() throws {
        let geo = try GeoIP(path: Self.database)
        #expect(GeoIP.code(geo.country(of: "203.0.113.77")) == "DE")
        #expect(GeoIP.code(geo.country(of: "198.51.100.1")) == "FR")
        #expect(GeoIP.code(geo.country(of: "2001:db8::1")) == "US")
        #expect(GeoIP.code(geo.country(of: "2001:db8:8000::1")) == "BR")
        #expect(GeoIP.code(geo.country(of: "100.64.3.3")) == "NL")  // registered_country only
        #expect(geo.country(of: "8.8.8.8") == 0)
        #expect(geo.country(of: "not an address") == 0)
        #expect(geo.description.hasPrefix("GeoLite2-Country, built "))
    }

    @Test func theReportCountsRequestsByCountry() throws {
        var aggregator = aggregate(TrafficAggregatorTests.log, geo: try GeoIP(path: Self.database))
        let report = aggregator.report()
        // 203.0.113.5 (DE) 6, 66.249.66.1 (none) 3, 100.64.0.7 (NL) 2, 198.51.100.9 (FR) 60, 192.0.2.44 (US) 20.
        #expect(report.countries?.map(\.country) == ["FR", "US", "DE", "NL"])
        #expect(report.countries?.map(\.requests) == [60, 20, 6, 2])
        #expect(report.countriesNote.hasPrefix("Countries from GeoLite2-Country"))
    }

    @Test func aFileThatIsNoDatabaseIsRefused() throws {
        #expect(throws: GeoIPError.self) { try GeoIP(path: repositoryPath("Package.swift")) }
        #expect(throws: GeoIPError.self) { try GeoIP(path: "/nonexistent/GeoLite2-Country.mmdb") }
    }
}

/// The same log through GoAccess (Debian's goaccess 1.7, installed by scripts/setup) and perfbot: the totals agree.
@Suite struct GoAccessAgreementTests {
    @Test func totalsMatchGoAccessOnARealisticLog() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("goaccess-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let log = directory.appendingPathComponent("access.log").path, json = directory.appendingPathComponent("report.json").path
        let executor = LocalExecutor()
        let generated = try await executor.run(CommandRequest(argv: ["/usr/bin/python3", repositoryPath("scripts/accesslog-gen"),
                                                                     "--lines", "26000", "--seed", "11", "--output", log], timeout: 120))
        #expect(generated.succeeded, "\(generated.output)")
        let goaccess = try await executor.run(CommandRequest(argv: ["goaccess", log, "--log-format=COMBINED", "--no-global-config",
                                                                    "-o", json], timeout: 120))
        #expect(goaccess.succeeded, "\(goaccess.output)")
        let theirs = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as? [String: Any])
        let general = try #require(theirs["general"] as? [String: Any])
        var codes: [String: Int] = [:]
        for group in (theirs["status_codes"] as? [String: Any])?["data"] as? [[String: Any]] ?? [] {
            for item in group["items"] as? [[String: Any]] ?? [] {
                let code = (item["data"] as? String ?? "").prefix(3)
                codes[String(code)] = (item["hits"] as? [String: Any])?["count"] as? Int
            }
        }
        var aggregator = TrafficAggregator()
        try aggregator.read(path: log)
        let ours = aggregator.report()
        #expect(general["total_requests"] as? Int == ours.totals.lines)
        #expect(general["valid_requests"] as? Int == ours.totals.valid)
        #expect(general["failed_requests"] as? Int == ours.totals.failed && ours.totals.failed > 0)
        #expect(general["unique_visitors"] as? Int == ours.totals.uniqueVisitors)
        #expect(general["bandwidth"] as? Int == ours.totals.bandwidth)
        #expect(codes == ours.statusCodes)
        #expect(codes["404"] == ours.totals.notFound && ours.totals.notFound > 0)
    }
}
