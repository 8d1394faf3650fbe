import BotCore
import BotPlaybooks
import Foundation
import TrafficAnalytics

/// The web server's access log, read incrementally into the store's hourly traffic (premium, ORIGINAL-DESIGN §1.6):
/// `stat` for the file's identity and size, `dd` for what it gained since the last cycle (at most
/// `bytesPerCycle`), through the store's executor, like the slow log. Only aggregates are kept. It gives the
/// `requests` metric (requests per minute since the last read), which the anomaly and flash-sale checks read.
public struct AccessLogCollector: MetricCollector {
    public let name = "access_log"
    public let probe: ProbeKind? = .accessLog
    let traffic: any TrafficStore
    let bytesPerCycle: Int
    let geo: GeoIP?
    /// When each store's log was last read.
    let lastRead = Memory<Date>()

    public init(traffic: any TrafficStore, bytesPerCycle: Int = 4 << 20, geo: GeoIP? = nil) {
        self.traffic = traffic
        self.bytesPerCycle = bytesPerCycle
        self.geo = geo
    }

    public func collect(_ context: CollectorContext) async throws -> [(MetricName, Double)] {
        let customer = context.customer, now = context.now
        guard customer.plan.isPremium else { throw ProbeParseError.invalid("traffic analytics are for premium plans") }
        guard let path = customer.settings[TemplateVariable.accessLog.rawValue], TemplateVariable.accessLog.accepts(path) else {
            throw ProbeParseError.invalid("set access_log (the access log's path) in the store's settings")
        }
        var tail = try await LogTail.read(path, cursor: try await traffic.accessLogCursor(customer.id), window: Int64(bytesPerCycle),
                                          context: context)
        let since = lastRead.swap(customer.id, now)
        guard !tail.bytes.isEmpty else {
            try await traffic.recordTraffic(customer.id, hours: [], cursor: tail.cursor(after: 0), at: now)
            return since == nil || tail.firstRead ? [] : [(.requests, 0)]
        }
        var skipped = 0
        if tail.startedInside, let newline = tail.bytes.firstIndex(of: 0x0A) {
            // Started inside the file: begin at the first whole line.
            skipped = newline + 1
            tail.bytes.removeFirst(skipped)
        }
        var aggregator = TrafficAggregator(geo: geo)
        // The last line may be unfinished (the server is writing it): it waits for the next cycle.
        let used = tail.bytes.withUnsafeBufferPointer { aggregator.consume($0, final: false) }
        try await traffic.recordTraffic(customer.id, hours: aggregator.hourRecords(), cursor: tail.cursor(after: skipped + used), at: now)
        // Requests per minute since the last read; none for a first read (its lines span an unknown time).
        guard let since, !tail.firstRead else { return [] }
        let minutes = max(now.timeIntervalSince(since) / 60, 1.0 / 60)
        return [(.requests, Double(aggregator.validRequests) / minutes)]
    }
}
