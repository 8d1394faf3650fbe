import ArgumentParser
import BotCore
import Foundation
import TrafficAnalytics

/// `perfbot accesslog`: a store's traffic from its nginx or Apache access log.
struct AccessLog: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "accesslog", abstract: "Read nginx and Apache access logs (combined or common format).",
        subcommands: [Report.self])

    struct Report: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Requests, visitors, crawlers, bandwidth by kind, busiest hours and countries of an access log.",
            discussion: """
            Unique visitors are GoAccess's: the same address, date and user agent, with 4xx answers left out. Nothing \
            of the log is kept: not its lines, not its addresses. Countries need a MaxMind-format database \
            (--geoip or PERFBOT_GEOIP_DATABASE).
            """)

        @Argument(help: "The access log, or - for standard input.") var file: String
        @Option(help: "text or json.") var format: OutputFormat = .text
        @Option(help: "A MaxMind-format country database (default: PERFBOT_GEOIP_DATABASE).") var geoip: String?
        @Option(help: "How many pages to list.") var top = 10
        @Option(help: "Threads to read a file with (default: one per core).") var threads: Int?

        enum OutputFormat: String, ExpressibleByArgument { case text, json }

        func run() throws {
            let path = geoip ?? ProcessInfo.processInfo.environment["PERFBOT_GEOIP_DATABASE"]
            let geo: GeoIP?
            do {
                geo = try path.map(GeoIP.init(path:))
            } catch {
                throw fail("\(error)")
            }
            var aggregator = TrafficAggregator(geo: geo)
            do {
                if file == "-" {
                    try aggregator.read(path: file)
                } else {
                    // One part per core: lines are independent, and what each part counts merges.
                    aggregator = try TrafficAggregator.read(path: file, parts: threads ?? ProcessInfo.processInfo.activeProcessorCount,
                                                            geo: geo)
                }
            } catch {
                throw fail("\(error)")
            }
            let report = aggregator.report(top: max(1, min(top, 1000)))
            switch format {
            case .json:
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
                encoder.keyEncodingStrategy = .convertToSnakeCase
                encoder.dateEncodingStrategy = .iso8601
                print(String(decoding: try encoder.encode(report), as: UTF8.self))
            case .text:
                print(TrafficText.render(report, source: file == "-" ? "standard input" : (file as NSString).lastPathComponent))
            }
        }
    }
}
