import BotCore
import Foundation

/// The admin console in Slack: the fleet overview and the store drill-down (ORIGINAL-DESIGN §3.1, §1.1).
public struct ConsolePlugin: BotPlugin {

    public let name = "console"
    let reader: any ConsoleReader
    let clock: any BotClock
    let scorer = HealthScorer()
    /// How many stores the fleet table shows.
    let tableLimit: Int

    /// The 💡 rules: shared ones and each platform's.
    let advice: Recommendations

    /// The platforms of the packs, for `--platform`.
    let platforms: [Platform]
    /// The fleet's samples aggregated per store (hotspots, benchmarks); nil leaves those commands out.
    let analytics: (any FleetAnalyticsReader)?
    /// Containers' disk and network use and hosts' saturation (Prometheus); nil: hotspots without them.
    let resources: (any ResourceReadings)?
    /// Stores' traffic from their access logs; nil leaves `/perf traffic` out.
    let traffic: (any TrafficStore)?
    /// Whether a GeoIP database places traffic in countries.
    let countriesKnown: Bool
    /// Where the crawlers' names come from, for the traffic report's footnote.
    let botListNote: String
    /// The services: the noisy-neighbour watch, when hosts can be read and alerts posted.
    public var services: [any BotService] = []

    public init(reader: any ConsoleReader, clock: any BotClock, tableLimit: Int = 25, advice: Recommendations = Recommendations(),
                platforms: [Platform] = [], analytics: (any FleetAnalyticsReader)? = nil, resources: (any ResourceReadings)? = nil,
                traffic: (any TrafficStore)? = nil, countriesKnown: Bool = false, botListNote: String = "") {
        self.botListNote = botListNote
        self.traffic = traffic
        self.countriesKnown = countriesKnown
        self.analytics = analytics
        self.resources = resources
        self.advice = advice
        self.platforms = platforms
        self.reader = reader
        self.clock = clock
        self.tableLimit = tableLimit
    }

    public var fleetSpec: CommandSpec { CommandSpec(
        "fleet",
        flags: [
            FlagSpec("sort", values: FleetSort.allCases.map(\.rawValue),
                     help: "order of the table: health (worst first), cpu, memory or issues (highest first)"),
            FlagSpec("platform", values: platforms.map(\.rawValue), help: "only stores on this platform"),
        ],
        showsStored: true,
        summary: "Fleet overview: totals, health distribution and the stores that need attention.",
        examples: ["fleet", "fleet --sort cpu", "fleet --platform magento --sort issues"]) }

    public static let storeSpec = CommandSpec(
        "store", arguments: [ArgumentSpec("store", .store)], showsStored: true,
        summary: "A store's health score, its factors, trend and open issues.",
        examples: ["store acme-store"])

    public var commands: [CommandSpec] {
        [fleetSpec, Self.storeSpec] + (analytics == nil ? [] : [Self.hotspotsSpec, Self.benchmarkSpec])
            + (traffic == nil ? [] : [Self.trafficSpec])
    }

    public func handle(_ command: ParsedCommand, context: CommandContext) async throws -> BotReply {
        switch command.name {
        case "fleet":
            let sort = command.option("sort").flatMap(FleetSort.init(rawValue:)) ?? .health
            let platform = command.option("platform").flatMap(Platform.init(rawValue:)).map { $0.named(among: platforms) }
            return try await fleet(sort: sort, platform: platform)
        case "store":
            guard let store = command.store() else { throw BotError.invalid("Which store? `/perf store <store>`.") }
            return try await storeDetail(store)
        case "hotspots":
            return try await hotspots(host: command.option("host"), periodText: command.option("period"))
        case "benchmark":
            guard let store = command.store() else { throw BotError.invalid("Which store? `/perf benchmark <store>`.") }
            return try await benchmark(store)
        case "traffic":
            guard let store = command.store() else { throw BotError.invalid("Which store? `/perf traffic <store>`.") }
            return try await traffic(store, daysText: command.option("days"))
        default:
            throw BotError.unsupported(command.name)
        }
    }

    /// The health `snapshot` shows at `asOf`, counting only values still current then; nil without any.
    func report(_ snapshot: MetricSnapshot, uptime24h: Double?, asOf: Date) -> HealthReport? {
        let fresh = snapshot.fresh(asOf: asOf)
        guard !fresh.values.isEmpty else { return nil }
        return scorer.report(HealthInputs(latest: fresh, uptime24h: uptime24h))
    }
}

/// How the fleet table is ordered.
public enum FleetSort: String, CaseIterable, Sendable {
    case health, cpu, memory, issues
}
