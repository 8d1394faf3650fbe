import BotCore
import BotPlaybooks
import Foundation

extension CheckCycle {
    /// One store: evaluate its rules, open, keep or resolve its issues, act per policy, write its snapshot.
    func checkStore(_ customer: Customer, latest: MetricSnapshot, uptime: Double?, now: Date) async throws -> CycleReport {
        var report = CycleReport()
        let id = customer.id
        let rules = self.rules(customer)
        // One read for everything this store needs; the rules are then evaluated in memory.
        let state = try await store.state(of: id, since: now.addingTimeInterval(-RuleEvaluator.lookback(rules)), at: now)
        let silence = state.silence
        let firing = RuleEvaluator.firing(rules, series: state.series, now: now)
        let tracked = state.tracked
        let current = latest.fresh(asOf: now)

        for rule in firing {
            if let issue = tracked.first(where: { $0.type == rule.name }) {
                try await store.touchIssue(issue.id, at: now)
                continue
            }
            let value = current[rule.metric]
            let details = ["condition": rule.condition, "value": value.map { Wording.number($0) } ?? "unknown"]
            guard let issueID = try await store.openIssue(store: id, type: rule.name, severity: rule.severity,
                                                         title: rule.title, details: details, at: now) else { continue }
            report.opened.append(.init(store: id, what: "\(rule.name) (\(rule.severity.rawValue))"))
            try await store.addInsight(id, at: now, kind: "issue", title: rule.title, body: rule.condition)
            if let silence {
                report.actions.append(.init(store: id, what: "\(rule.name): silenced until \(silence.endsAt), no alert or action"))
                continue
            }
            let outcome = try await automation.respond(to: rule, issueID: issueID, customer: customer, now: now) { result in
                do {
                    try await alert(result, thread: "issue:\(issueID)")
                } catch {
                    logger.error("could not queue a run's result", metadata: ["store": "\(id)", "error": "\(error)"])
                }
            }
            if let action = outcome.action { report.actions.append(.init(store: id, what: action)) }
            try await alert(Alerts.opened(rule, customer: customer, value: value, outcome: outcome.text, now: now),
                            thread: "issue:\(issueID)")
        }

        let firingNames = Set(firing.map(\.name))
        let byName = Dictionary(rules.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        for issue in tracked where !firingNames.contains(issue.type) {
            guard let rule = byName[issue.type] else { continue }
            // Hysteresis: while the condition holds at all (even briefly), the issue stays and its quiet period restarts.
            if stillBreaching(rule, series: state.series, now: now) {
                try await store.touchIssue(issue.id, at: now)
                continue
            }
            guard let clearSince = issue.clearSince else {
                try await store.markClear(issue.id, since: now)
                continue
            }
            guard now.timeIntervalSince(clearSince) >= settings.quietPeriod else { continue }
            try await store.resolveIssue(issue.id, at: now, autoFixed: false)
            report.resolved.append(.init(store: id, what: issue.type))
            try await store.addInsight(id, at: now, kind: "resolved", title: "\(issue.title) resolved",
                                       body: "Clear since \(Wording.ago(clearSince, now: now)).")
            if silence == nil {
                try await alert(Alerts.resolved(issue, customer: customer, clearSince: clearSince, now: now),
                                thread: "issue:\(issue.id)")
            }
        }

        if !current.values.isEmpty, let score = scorer.report(HealthInputs(latest: current, uptime24h: uptime)).score {
            report.snapshots.append(SnapshotRecord(store: id, score: score, metrics: current))
        }
        return report
    }

    /// Whether `rule`'s condition holds on the latest sample, whatever its window.
    func stillBreaching(_ rule: DetectionRule, series: [MetricName: [(at: Date, value: Double)]], now: Date) -> Bool {
        var instant = rule
        if rule.mode == .sustained { instant.window = 0 }
        return !RuleEvaluator.firing([instant], series: series, now: now).isEmpty
    }

    /// Queues a Slack message to the alerts channel, in `thread` when given.
    func alert(_ reply: BotReply, thread: String?) async throws {
        guard let channel = settings.alertsChannel else { return }
        var pairs: [(String, JSONValue)] = [("channel", .string(channel)), ("text", .string(reply.plainText))]
        pairs.append(("blocks", .array(render(reply))))
        pairs.append(("unfurl_links", .bool(false)))
        let payload = String(decoding: JSONValue.object(pairs).bytes(), as: UTF8.self)
        if let thread {
            try await store.enqueueThreaded(channel: channel, payload: payload, thread: thread, at: clock.now)
        } else {
            try await store.enqueue(.slack, to: channel, payload: payload, at: clock.now)
        }
    }
}
