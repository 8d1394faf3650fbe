import Foundation
import Prometheus

/// perfbot's own Prometheus metrics, served at `/metrics`.
public final class ServerMetrics: Sendable {
    /// The registry that `/metrics` renders.
    public let registry: PrometheusCollectorRegistry
    static let latencyBuckets: [Duration] = [
        .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10),
        .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
        .seconds(1), .seconds(2.5), .seconds(5),
    ]

    /// Made once: it is counted on the fastest path a command has.
    private let reusedAnswers: Counter

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        reusedAnswers = registry.makeCounter(
            descriptor: .init(namespace: "perfbot", metricName: "command_answers_reused", unitName: "total",
                              helpText: "Commands that show what is stored, answered as the same question was within the last second"))
    }

    /// Counts a finished request and records its latency.
    func recordRequest(route: String, method: String, status: Int, duration: Duration) {
        registry.makeCounter(
            descriptor: .init(namespace: "perfbot", metricName: "http_requests", unitName: "total",
                              helpText: "HTTP requests by route, method and status"),
            labels: [("route", route), ("method", method), ("status", String(status))]).increment()
        registry.makeDurationHistogram(
            descriptor: .init(namespace: "perfbot", metricName: "http_request_duration", unitName: "seconds",
                              helpText: "Time from request to response"),
            labels: [("route", route)], buckets: Self.latencyBuckets).record(duration)
    }

    /// Counts a request refused by signature or token checks.
    func recordVerificationFailure(route: String, reason: String) {
        registry.makeCounter(
            descriptor: .init(namespace: "perfbot", metricName: "verification_failures", unitName: "total",
                              helpText: "Requests refused by signature or token verification, by reason"),
            labels: [("route", route), ("reason", reason)]).increment()
    }

    /// Counts a request refused by a rate limit, by route and by what the limit is counted per.
    func recordRateLimited(route: String, keyKind: String) {
        registry.makeCounter(
            descriptor: .init(namespace: "perfbot", metricName: "rate_limited", unitName: "total",
                              helpText: "Requests answered 429 by a rate limit, by route and key kind"),
            labels: [("route", route), ("key_kind", keyKind)]).increment()
    }

    /// Records how long a command took from grammar to reply.
    func recordDispatch(command: String, duration: Duration) {
        registry.makeDurationHistogram(
            descriptor: .init(namespace: "perfbot", metricName: "dispatch_duration", unitName: "seconds",
                              helpText: "Time to parse, route and answer a command"),
            labels: [("command", command)], buckets: Self.latencyBuckets).record(duration)
    }

    /// Counts a command answered as the same question was a moment ago, with nothing stored since.
    func recordReusedAnswer() {
        reusedAnswers.increment()
    }

    /// Counts a delivery answered from the log instead of acted on again.
    func recordDuplicate(source: String) {
        registry.makeCounter(
            descriptor: .init(namespace: "perfbot", metricName: "duplicate_deliveries", unitName: "total",
                              helpText: "Retries and repeats recognised and not acted on twice"),
            labels: [("source", source)]).increment()
    }

    static let cycleBuckets: [Duration] = [
        .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5),
        .seconds(10), .seconds(20), .seconds(30), .seconds(60), .seconds(120),
    ]

    /// Records one complete check cycle: how long it took, how many stores it checked, how many failed.
    public func recordCycle(duration: Duration, checked: Int, errors: Int, completedAt: Date) {
        registry.makeDurationHistogram(
            descriptor: .init(namespace: "perfbot", metricName: "check_cycle_duration", unitName: "seconds",
                              helpText: "Time one check cycle over the whole fleet took"),
            buckets: Self.cycleBuckets).record(duration)
        registry.makeGauge(descriptor: .init(namespace: "perfbot", metricName: "check_cycle_stores", unitName: "",
                                             helpText: "Stores checked by the last complete cycle")).set(Double(checked))
        registry.makeCounter(descriptor: .init(namespace: "perfbot", metricName: "check_cycle_errors", unitName: "total",
                                               helpText: "Stores whose check failed or timed out")).increment(by: Int64(errors))
        registry.makeGauge(descriptor: .init(namespace: "perfbot", metricName: "check_cycle_last_complete",
                                             unitName: "timestamp_seconds",
                                             helpText: "Unix time of the last complete check cycle"))
            .set(completedAt.timeIntervalSince1970)
    }

    /// Whether this replica leads (runs the check cycle, predictions, weekly mail and retention): 1 or 0.
    public func setLeader(_ leads: Bool) {
        registry.makeGauge(descriptor: .init(namespace: "perfbot", metricName: "leader", unitName: "",
                                             helpText: "1 while this replica leads the fleet's periodic work, else 0"))
            .set(Double(leads ? 1 : 0))
    }

    /// Counts an e-mail command by what became of it (`answered`, `stranger`, `unauthenticated`).
    public func recordMailCommand(_ result: String) {
        registry.makeCounter(descriptor: .init(namespace: "perfbot", metricName: "mail_commands", unitName: "total",
                                               helpText: "E-mail commands by result"),
                             labels: [("result", result)]).increment()
    }

    /// Sets the jobs per state and the outbox messages waiting per channel (read at each scrape).
    func setQueues(jobs: [String: Int], outbox: [String: Int]) {
        for state in ["requested", "held", "approved", "queued", "running", "succeeded", "failed", "interrupted",
                      "cancelled", "expired"] {
            registry.makeGauge(descriptor: .init(namespace: "perfbot", metricName: "jobs", unitName: "", helpText: "Jobs by state"),
                               labels: [("state", state)]).set(Double(jobs[state] ?? 0))
        }
        for channel in ["slack", "slack_response", "email"] {
            registry.makeGauge(descriptor: .init(namespace: "perfbot", metricName: "outbox_pending", unitName: "",
                                                 helpText: "Messages waiting to be sent, by channel"),
                               labels: [("channel", channel)]).set(Double(outbox[channel] ?? 0))
        }
    }

    /// The Prometheus text exposition.
    public func render() -> [UInt8] { registry.emitToBuffer() }
}
