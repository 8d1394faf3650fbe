import BotCore
import Foundation
import Logging

/// Forecasts per store, the daily notices they lead to, and `/perf predict`.
public struct Predictions: Sendable {
    let store: any SchedulerStore
    let clock: any BotClock
    let forecaster = Forecaster()
    let alertsChannel: String?
    /// Admins are warned at this horizon and the customer told.
    static let warnHorizon: TimeInterval = 7 * 86400
    /// Admins are escalated to at this horizon.
    static let escalateHorizon: TimeInterval = 3 * 86400
    static let limited: [MetricName] = [.memoryPercent, .diskPercent, .cpuPercent]

    public init(store: any SchedulerStore, clock: any BotClock, alertsChannel: String?) {
        self.store = store
        self.clock = clock
        self.alertsChannel = alertsChannel
    }

    /// The forecasts of `store`'s resource metrics, and a traffic anomaly if there is one.
    func forecasts(_ id: StoreID) async throws -> (forecasts: [Forecast], traffic: Anomaly?) {
        let now = clock.now
        let from = now.addingTimeInterval(-7 * 86400)
        var forecasts: [Forecast] = []
        for metric in Self.limited {
            let points = try await store.hourlyMeans(metric, of: id, from: from, to: now)
            if let forecast = forecaster.forecast(metric, points: points, limit: 100) { forecasts.append(forecast) }
        }
        let traffic = try await store.hourlyMeans(.requests, of: id, from: now.addingTimeInterval(-28 * 86400), to: now)
        return (forecasts, Anomaly.detect(.requests, points: traffic))
    }

    /// `~3 days`, `~20 hours`.
    static func eta(_ seconds: TimeInterval) -> String {
        let hours = max(1, Int((seconds / 3600).rounded())), days = Int((seconds / 86400).rounded())
        if seconds < 86400 { return hours == 1 ? "~1 hour" : "~\(hours) hours" }
        return days == 1 ? "~1 day" : "~\(days) days"
    }

    static func resource(_ metric: MetricName) -> String {
        switch metric {
        case .memoryPercent: "memory"
        case .diskPercent: "disk"
        case .cpuPercent: "CPU"
        default: metric.rawValue
        }
    }

    /// The daily run: admins warned at ≤ 7 days and escalated at ≤ 3, the customer sent a notice at ≤ 7,
    /// and traffic surges reported as possible flash sales. - Returns: the notices, as lines.
    @discardableResult
    public func dailyRun() async throws -> [String] {
        var lines: [String] = []
        let now = clock.now
        for customer in try await store.allCustomers() where customer.active {
            let (forecasts, traffic) = try await forecasts(customer.id)
            for forecast in forecasts {
                guard let eta = forecast.timeToLimit, eta <= Self.warnHorizon else { continue }
                let escalate = eta <= Self.escalateHorizon
                let sentence = "\(customer.id) will reach its \(Self.resource(forecast.metric)) limit in \(Self.eta(eta)) "
                    + "(\(forecast.basis))"
                lines.append((escalate ? "escalate: " : "warn: ") + sentence)
                let alert = slackMessage(BotReply([
                    .text((escalate ? "🔴 *Escalation* · " : "🟠 ") + sentence + "."),
                    .context("Consider an upgrade or a cleanup before then. `/perf predict \(customer.id)`")]))
                let notice = CustomerMail(customer, .predictionNotice(
                    resource: Self.resource(forecast.metric), eta: Self.eta(eta), basis: forecast.basis,
                    recommendation: "Upgrade the plan's \(Self.resource(forecast.metric)) or let us clean up."))
                // The feed entry, the admins' alert and the customer's notice are written together.
                let messages = [alert, .mail(notice)].compactMap { $0 }
                try await store.record(InsightEntry(kind: "prediction", title: "Limit ahead", body: sentence),
                                       for: customer.id, messages: messages, at: now)
            }
            if let traffic, traffic.ratio > 1 {
                let sentence = "\(customer.id) has \(Wording.number(traffic.ratio))× its usual traffic for this hour "
                    + "(\(Int(traffic.latest)) vs \(Int(traffic.baseline)) requests): possibly a flash sale"
                lines.append("traffic: " + sentence)
                let alert = slackMessage(BotReply([.text("📈 " + sentence + "."),
                                                   .context("Consider pre-scaling: more PHP-FPM workers and a warm cache.")]))
                try await store.record(InsightEntry(kind: "prediction", title: "Traffic surge", body: sentence),
                                       for: customer.id, messages: [alert].compactMap { $0 }, at: now)
            }
        }
        return lines
    }

    /// `reply` as a message for the alerts channel: (channel, destination, payload); nil without a channel.
    func slackMessage(_ reply: BotReply) -> Addressed? {
        alertsChannel.map { .slack($0, reply) }
    }

    /// `/perf predict [<store>]`.
    func reply(for id: StoreID?) async throws -> BotReply {
        let customers = try await store.allCustomers().filter { id == nil || $0.id == id }
        if let id, customers.isEmpty {
            let names = try await store.allCustomers().map(\.id.rawValue)
            throw BotError.unknownStore(id.rawValue, among: names)
        }
        var lines: [String] = []
        for customer in customers {
            let (forecasts, traffic) = try await forecasts(customer.id)
            for forecast in forecasts {
                if let eta = forecast.timeToLimit {
                    let marker = eta <= Self.escalateHorizon ? "🔴" : eta <= Self.warnHorizon ? "🟠" : "🔵"
                    lines.append("\(marker) \(customer.id): \(Self.resource(forecast.metric)) limit in \(Self.eta(eta)) "
                        + "(\(forecast.basis))")
                } else if id != nil {
                    let outlook = forecast.current >= 90 ? "already near its limit, without a clear trend"
                        : "no limit ahead"
                    lines.append("• \(Self.resource(forecast.metric)): \(Wording.number(forecast.current))% now, \(outlook) "
                        + "(\(forecast.basis))")
                }
            }
            if let traffic, traffic.ratio > 1 {
                lines.append("📈 \(customer.id): traffic \(Wording.number(traffic.ratio))× the usual for this hour — possible flash sale")
            }
        }
        let scope = id.map { "\($0)" } ?? "the fleet"
        guard !lines.isEmpty else {
            return .text(id == nil ? "No store is heading for a limit." : "Not enough history for \(scope) yet (48 h of data needed).")
        }
        return BotReply([.header("Forecasts · \(scope)"), .text(lines.joined(separator: "\n")),
                         .context("Least squares over hourly means, robust slope; ETAs need a fit ≥ 0.6 over ≥ 48 h.")])
    }
}
