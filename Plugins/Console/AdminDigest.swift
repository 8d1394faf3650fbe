import BotCore
import Foundation
import Logging

/// The admins' daily digest in Slack, one message (ORIGINAL-DESIGN §3.3, §7): stores newly flagged against their
/// cohort, the hotspots of the last hour, the fleet's average health score (worked out daily and kept) and the week's trend.
public struct AdminDigest: Sendable {
    let analytics: any FleetAnalyticsReader
    let resources: (any ResourceReadings)?
    let clock: any BotClock

    public init(analytics: any FleetAnalyticsReader, resources: (any ResourceReadings)? = nil, clock: any BotClock) {
        self.analytics = analytics
        self.resources = resources
        self.clock = clock
    }

    /// The start of the UTC day of `date`.
    static func day(_ date: Date) -> Date {
        Date(timeIntervalSince1970: (date.timeIntervalSince1970 / 86400).rounded(.down) * 86400)
    }

    /// Composes the digest at the clock's time, keeping yesterday's fleet health on the way.
    public func compose() async throws -> BotReply {
        let now = clock.now
        let today = Self.day(now)
        let yesterday = today.addingTimeInterval(-86400)
        let kept = try await analytics.keepFleetHealth(day: yesterday)
        let week = try await analytics.fleetHealth(from: today.addingTimeInterval(-7 * 86400), to: today)
        let customers = try await analytics.allCustomers().filter(\.active)
        // Flags: lagging on each of the last three whole days; new when not so on the three days before.
        let days = (1...4).map { today.addingTimeInterval(Double(-86400 * $0)) }
        var daily: [MetricName: [StoreID: [Date: Double]]] = [:]
        for measure in BenchmarkMeasure.standard {
            daily[measure.metric] = try await analytics.dailyMeans(measure.metric, from: days[3], to: today)
        }
        let index = CohortIndex(customers)
        let flagged = BenchmarkFlags.lagging(customers, index: index, measures: BenchmarkMeasure.standard, daily: daily,
                                             days: Array(days[0...2]))
        let before = BenchmarkFlags.lagging(customers, index: index, measures: BenchmarkMeasure.standard, daily: daily,
                                            days: Array(days[1...3]))
        let new = flagged.compactMapValues { labels in labels }.filter { store, labels in
            !Set(labels).isSubset(of: Set(before[store] ?? []))
        }
        // Hotspots of the last hour.
        var inputs = HotspotInputs()
        let hourAgo = now.addingTimeInterval(-3600)
        inputs.cpu = try await analytics.fleetAggregates(.cpuPercent, from: hourAgo, to: now, threshold: HotspotAnalysis.cpuShare)
        inputs.memory = try await analytics.fleetAggregates(.memoryPercent, from: hourAgo, to: now, threshold: HotspotAnalysis.memoryLevel)
        inputs.connectionsNearLimit = try await analytics.connectionsNearLimit(from: hourAgo, to: now, share: 0.9)
        if let resources, let traffic = try? await resources.containerTraffic(period: 3600) { inputs.traffic = traffic }
        let hotspots = HotspotAnalysis.find(customers, inputs: inputs, period: 3600)

        var health = kept.map { "\(Wording.number($0.average)) average over \(Wording.grouped(Double($0.stores))) stores yesterday" }
            ?? "no health snapshots yesterday"
        if let first = week.first, let last = week.last, week.count >= 2 {
            let change = last.average - first.average
            health += " · week: \(Wording.number(first.average)) → \(Wording.number(last.average)) "
                + (abs(change) < 0.05 ? "(steady)" : change > 0 ? "(▲ \(Wording.number(change)))" : "(▼ \(Wording.number(-change)))")
        }
        var blocks: [ReplyBlock] = [.header("Daily digest · \(Wording.dayAndTime(now).components(separatedBy: ",").first ?? "")"),
                                    .text("*Fleet health:* \(health)")]
        let flagLines = new.sorted { $0.key.rawValue < $1.key.rawValue }.prefix(15).map { store, labels in
            "• \(store): \(labels.joined(separator: ", ").lowercased())"
        }
        blocks.append(.text("*New flags* (below their cohort's 10th percentile 3 days running):"
            + (flagLines.isEmpty ? " none." : "\n" + flagLines.joined(separator: "\n") + (new.count > 15 ? "\n… and \(new.count - 15) more" : ""))))
        let hotLines = hotspots.prefix(10).map { "• \($0.store): \($0.evidence.first ?? "")" }
        blocks.append(.text("*Hotspots* (last hour):"
            + (hotLines.isEmpty ? " none." : "\n" + hotLines.joined(separator: "\n") + (hotspots.count > 10 ? "\n… and \(hotspots.count - 10) more" : ""))))
        blocks.append(.context("`/perf benchmark <store>` compares one store with its cohort; `/perf hotspots` shows the evidence."))
        return BotReply(blocks)
    }

    /// Once a day on the leading replica, to `channel`.
    public func service(outbox: any OutboxWriter, runs: any DailyRuns, channel: String, leadership: any Leadership,
                        logger: Logger) -> PeriodicService {
        PeriodicService(name: "admin-digest", every: .seconds(3600), clock: clock, logger: logger, leadership: leadership) {
            let now = clock.now
            // One a day (a little under 24 h, so it does not drift later each day), whichever replica leads.
            guard try await runs.claimDailyRun("admin-digest", at: now, interval: 86400 - 3600) else { return }
            try await outbox.enqueue(.slack(channel, try await compose()), at: now)
        }
    }
}
