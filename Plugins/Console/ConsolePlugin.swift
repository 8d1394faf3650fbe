import BotCore
import Foundation

/// The admin console in Slack: the fleet overview and the store drill-down (ORIGINAL-DESIGN §3.1, §1.1).
public struct ConsolePlugin: BotPlugin {
    /// What the console reads.
    public typealias Reader = CustomerDirectory & MetricReader & IssueReader

    public let name = "console"
    let reader: any Reader
    let clock: any BotClock
    let scorer = HealthScorer()
    /// How many stores the fleet table shows.
    let tableLimit: Int

    public init(reader: any Reader, clock: any BotClock, tableLimit: Int = 25) {
        self.reader = reader
        self.clock = clock
        self.tableLimit = tableLimit
    }

    public static let fleetSpec = CommandSpec(
        "fleet",
        flags: [
            FlagSpec("sort", values: FleetSort.allCases.map(\.rawValue),
                     help: "order of the table: health (worst first), cpu, memory or issues (highest first)"),
            FlagSpec("platform", values: Platform.allCases.map(\.rawValue), help: "only stores on this platform"),
        ],
        summary: "Fleet overview: totals, health distribution and the stores that need attention.",
        examples: ["fleet", "fleet --sort cpu", "fleet --platform magento --sort issues"])

    public static let storeSpec = CommandSpec(
        "store", arguments: [ArgumentSpec("store", .store)],
        summary: "A store's health score, its factors, trend and open issues.",
        examples: ["store acme-store"])

    public var commands: [CommandSpec] { [Self.fleetSpec, Self.storeSpec] }

    public func handle(_ command: ParsedCommand, context: CommandContext) async throws -> BotReply {
        switch command.name {
        case "fleet":
            let sort = command.option("sort").flatMap(FleetSort.init(rawValue:)) ?? .health
            let platform = command.option("platform").flatMap(Platform.init(rawValue:))
            return try await fleet(sort: sort, platform: platform)
        case "store":
            guard let store = command.store() else { throw BotError.invalid("Which store? `/perf store <store>`.") }
            return try await storeDetail(store)
        default:
            throw BotError.unsupported(command.name)
        }
    }

    /// Current health of `stores` (nil for all) from the newest samples.
    func currentHealth(of stores: [StoreID]?, now: Date) async throws
        -> (latest: [StoreID: MetricSnapshot], reports: [StoreID: HealthReport]) {
        let latest = try await reader.latestMetrics(stores: stores).mapValues { $0.fresh(asOf: now) }
        let uptime = try await reader.average(.uptimePercent, stores: stores, from: now.addingTimeInterval(-86400), to: now)
        var reports: [StoreID: HealthReport] = [:]
        for (store, snapshot) in latest where !snapshot.values.isEmpty {
            reports[store] = scorer.report(HealthInputs(latest: snapshot, uptime24h: uptime[store]))
        }
        return (latest, reports)
    }

    /// The health `store` had at `asOf`, from the samples stored then.
    func pastHealth(of store: StoreID, asOf: Date) async throws -> HealthReport? {
        let snapshot = try await reader.metrics(of: store, asOf: asOf, lookback: MetricName.longestFreshness)
            .fresh(asOf: asOf)
        guard !snapshot.values.isEmpty else { return nil }
        let uptime = try await reader.average(.uptimePercent, stores: [store], from: asOf.addingTimeInterval(-86400), to: asOf)
        return scorer.report(HealthInputs(latest: snapshot, uptime24h: uptime[store]))
    }
}

/// How the fleet table is ordered.
public enum FleetSort: String, CaseIterable, Sendable {
    case health, cpu, memory, issues
}
