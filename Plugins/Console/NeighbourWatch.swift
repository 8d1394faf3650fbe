import BotCore
import Foundation
import Logging

/// Watches the hosts (node_exporter through Prometheus) every few minutes on the leading replica: a host that
/// becomes saturated is posted to the alerts channel once per episode, with the tenant that drives it, those
/// that suffer and what to do (ORIGINAL-DESIGN §3.2).
public actor NeighbourWatch: BotService {
    public nonisolated let name = "neighbours"
    let analytics: any FleetAnalyticsReader
    let resources: any ResourceReadings
    let outbox: any OutboxWriter
    let runs: any DailyRuns
    let alertsChannel: String
    let clock: any BotClock
    let interval: Duration
    let leadership: any Leadership
    let logger: Logger
    /// The hosts saturated at the last look: a host already in it is the same episode.
    private var saturated: Set<String> = []

    public init(analytics: any FleetAnalyticsReader, resources: any ResourceReadings, outbox: any OutboxWriter, runs: any DailyRuns,
                alertsChannel: String, clock: any BotClock, interval: Duration = .seconds(300),
                leadership: any Leadership = SoleReplica(), logger: Logger) {
        self.analytics = analytics
        self.resources = resources
        self.outbox = outbox
        self.runs = runs
        self.alertsChannel = alertsChannel
        self.clock = clock
        self.interval = interval
        self.leadership = leadership
        self.logger = logger
    }

    public func run() async throws {
        while !Task.isCancelled {
            if await leadership.isLeader() {
                do {
                    _ = try await look()
                } catch {
                    logger.warning("could not look at the hosts", metadata: ["error": "\(error)"])
                }
            }
            try? await clock.sleep(for: interval)
        }
    }

    /// One look: the findings of saturated hosts, and which of them were posted now (a new episode).
    @discardableResult
    public func look() async throws -> (findings: [NeighbourFinding], posted: [String]) {
        let now = clock.now
        let hosts = try await resources.hosts()
        let customers = try await analytics.allCustomers()
        let tenantsByHost = Set(customers.compactMap(\.host))
        let watched = hosts.filter { tenantsByHost.contains($0.key) }
        guard watched.values.contains(where: { !$0.saturation.isEmpty }) else {
            saturated = []
            return ([], [])
        }
        let latest = try await analytics.latestMetrics(stores: nil)
        let recent = try await analytics.fleetAggregates(.ttfbMs, from: now.addingTimeInterval(-3600), to: now, threshold: .infinity)
        let baseline = try await analytics.average(.ttfbMs, stores: nil, from: now.addingTimeInterval(-7 * 86400),
                                                   to: now.addingTimeInterval(-3600))
        let findings = NeighbourAnalysis.find(hosts: watched, customers: customers, latest: latest,
                                              ttfbNow: recent.mapValues(\.mean), ttfbBaseline: baseline)
        var posted: [String] = []
        for finding in findings where !saturated.contains(finding.host) {
            // Once per episode, and at most once an hour per host whichever replica leads or restarts meanwhile.
            guard try await runs.claimDailyRun("neighbours:\(finding.host)", at: now, interval: 3600) else { continue }
            try await outbox.enqueue(.slack(alertsChannel, finding.reply), at: now)
            posted.append(finding.host)
        }
        saturated = Set(findings.map(\.host))
        return (findings, posted)
    }
}
