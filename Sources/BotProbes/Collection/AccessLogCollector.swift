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
        let stat = try await context.run(["stat", "--format=%i %s", "--", path])
        let fields = stat.split(whereSeparator: \.isWhitespace)
        guard fields.count == 2, let size = Int64(fields[1]) else { throw ProbeParseError.invalid("stat \(path): \(stat.prefix(80))") }
        let identity = String(fields[0])
        let window = Int64(bytesPerCycle)
        var offset: Int64
        var fresh = false
        if let cursor = try await traffic.accessLogCursor(customer.id) {
            // A new file (rotation) or a shorter one (truncation) starts over at its beginning.
            offset = cursor.path == path && cursor.identity == identity && cursor.offset <= size ? cursor.offset : 0
        } else {
            // A log never read before: its last lines, not its whole history.
            offset = max(0, size - window)
            fresh = true
        }
        let since = lastRead.swap(customer.id, now)
        guard size > offset else {
            try await traffic.recordTraffic(customer.id, hours: [], cursor: SlowLogCursor(path: path, identity: identity, offset: offset), at: now)
            return since == nil || fresh ? [] : [(.requests, 0)]
        }
        let count = min(size - offset, window)
        let outcome = try await context.executors.executor(for: customer).run(CommandRequest(
            argv: ["dd", "if=\(path)", "bs=65536", "iflag=skip_bytes,count_bytes", "skip=\(offset)", "count=\(count)", "status=none"],
            timeout: 20, outputLimit: Int(count)))
        guard outcome.succeeded else { throw ProbeParseError.invalid("dd \(path): \(outcome.failureReason)") }
        var bytes = outcome.bytes
        var skipped = 0
        if fresh && offset > 0, let newline = bytes.firstIndex(of: 0x0A) {
            // Started inside the file: begin at the first whole line.
            skipped = newline + 1
            bytes.removeFirst(skipped)
        }
        var aggregator = TrafficAggregator(geo: geo)
        // The last line may be unfinished (the server is writing it): it waits for the next cycle.
        let used = bytes.withUnsafeBufferPointer { aggregator.consume($0, final: false) }
        let hours = aggregator.hourRecords()
        let cursor = SlowLogCursor(path: path, identity: identity, offset: offset + Int64(skipped) + Int64(used))
        try await traffic.recordTraffic(customer.id, hours: hours, cursor: cursor, at: now)
        // Requests per minute since the last read; none for a first read (its lines span an unknown time).
        guard let since, !fresh else { return [] }
        let minutes = max(now.timeIntervalSince(since) / 60, 1.0 / 60)
        return [(.requests, Double(aggregator.validRequests) / minutes)]
    }
}
