import BotCore
import BotPlaybooks
import Foundation

extension CheckCycle {
    /// One store: evaluate its rules, open, keep or resolve its issues, act per policy, write its snapshot.
    /// - Parameter firing: the rules that fire, when the caller already worked them out.
    func checkStore(_ customer: Customer, rules: [DetectionRule], state known: StoreState?, latest: MetricSnapshot,
                    uptime: Double?, now: Date, firing precomputed: [DetectionRule]? = nil) async throws -> CycleReport {
        var report = CycleReport()
        let id = customer.id
        // What the memory holds, or one read for everything this store needs; the rules are evaluated in memory.
        let state: StoreState
        if let known {
            state = known
        } else {
            state = try await store.state(of: id, since: now.addingTimeInterval(-RuleEvaluator.lookback(rules)), at: now)
        }
        let silence = state.silence
        let firing = precomputed ?? RuleEvaluator.firing(rules, series: state.series, now: now)
        let tracked = state.tracked
        let current = latest.fresh(asOf: now)

        for rule in firing {
            if let issue = tracked.first(where: { $0.type == rule.name }) {
                try await store.touchIssue(issue.id, at: now)
                continue
            }
            let value = current[rule.metric]
            let details = ["condition": rule.condition, "value": value.map { Wording.number($0) } ?? "unknown",
                           "detection_seconds": "\(Int(rule.window))"]
            let decision = silence == nil ? automation.decide(rule, customer: customer, silence: silence, now: now) : nil
            let draft = decision.flatMap { proposal(for: $0, rule: rule, value: value, customer: customer, now: now) }
            var outcome = decision?.text ?? ""
            var buttons: [ReplyButton] = []
            if let draft {
                outcome += " The proposal stands for \(Int(settings.approvalTTL / 3600)) h "
                    + "(until \(Wording.clockTime(draft.approval.expiresAt)))."
                buttons = Alerts.approvalButtons(draft.approval.id)
            }
            // The issue, its insight, its alert and any proposal are written together: none without the others.
            let message = decision.flatMap { _ in
                queued(Alerts.opened(rule, customer: customer, value: value, outcome: outcome, now: now, buttons: buttons))
            }
            guard let issueID = try await store.openIssue(
                store: id, type: rule.name, severity: rule.severity, title: rule.title, details: details,
                insight: InsightEntry(kind: "issue", title: rule.title, body: rule.condition), alert: message,
                approval: draft, at: now)
            else { continue }
            report.opened.append(.init(store: id, what: "\(rule.name) (\(rule.severity.rawValue))"))
            guard let decision else {
                report.actions.append(.init(store: id, what: "\(rule.name): silenced until \(Wording.clockTime(silence?.endsAt ?? now)), no alert or action"))
                continue
            }
            if let action = await carryOut(decision, rule: rule, value: value, customer: customer, issueID: issueID) {
                report.actions.append(.init(store: id, what: action))
            }
        }

        // Most stores have no open issue: nothing to look up then.
        let firingNames = tracked.isEmpty ? [] : Set(firing.map(\.name))
        let byName = tracked.isEmpty ? [:] : Dictionary(rules.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
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
            try await store.resolveIssue(
                issue.id, store: id,
                insight: InsightEntry(kind: "resolved", title: "\(issue.title) resolved",
                                      body: "Clear since \(Wording.ago(clearSince, now: now))."),
                alert: silence == nil ? queued(Alerts.resolved(issue, customer: customer, clearSince: clearSince, now: now)) : nil,
                at: now)
            report.resolved.append(.init(store: id, what: issue.type))
        }

        // 💡 Recommendations: each goes to the feed once, and again only when its evidence changes.
        // (Most stores have none: their check then does not wait for the memory of what the feed shows.)
        let advised = current.values.isEmpty ? [] : advice.current(current, platform: customer.platform)
        if !advised.isEmpty {
            let new = try await recommendations.fresh(advised, for: id) {
                try await store.shownRecommendations(of: id)
            }
            for recommendation in new {
                try await store.addInsight(id, at: now, kind: "recommendation", title: recommendation.title,
                                           body: recommendation.evidence)
            }
        }

        if !current.values.isEmpty, let score = scorer.report(HealthInputs(latest: current, uptime24h: uptime)).score {
            report.snapshots.append(SnapshotRecord(store: id, score: score, metrics: current))
        }
        return report
    }

    /// Runs what the policy decided for the issue `issueID` as a job: its result goes to the issue's thread, and a run
    /// that ended to the store's feed (and its contact). - Returns: what was done, for the cycle report.
    func carryOut(_ decision: Automation.Decision, rule: DetectionRule, value: Double?, customer: Customer,
                  issueID: Int64) async -> String? {
        let id = customer.id
        return await automation.carryOut(decision, issueID: issueID, customer: customer,
                                         reason: "\(rule.name) detected", later: { result in
            do {
                try await alert(result, thread: .issue(issueID))
            } catch {
                logger.error("could not queue a run's result", metadata: ["store": "\(id)", "error": "\(error)"])
            }
        }, ran: { playbook, report, held in
            do {
                try await announce(playbook, report: report, held: held, rule: rule, value: value, customer: customer)
            } catch {
                logger.error("could not record a run's notices", metadata: ["store": "\(id)", "error": "\(error)"])
            }
        })
    }

    /// A silence (or maintenance window) is over: the admins hear what is still open, and each issue that opened
    /// while it lasted (no alert went out, nothing ran) is alerted and handled now as if it had just opened.
    func silenceEnded(_ silence: Silence, customer: Customer?, now: Date) async throws -> [CycleReport.Event] {
        let open = try await store.openIssues(store: silence.store)
        var text = silence.isMaintenanceWindow
            ? "🔔 The maintenance window of \(silence.store) has closed; alerts and automation are back on."
            : "🔔 The silence on \(silence.store) has ended; alerts and automation are back on."
        if silence.isMaintenanceWindow {
            try await store.audit(actor: Silence.windowActor, channel: "policy", action: "window.end", store: silence.store,
                                  details: ["still_open": "\(open.count)"], result: "ended", at: now)
        }
        if !open.isEmpty {
            text += "\nStill open:\n" + open.prefix(10).map { issue in
                (issue.severity == .critical ? "🔴 " : "🟠 ") + Wording.escapedForSlack(issue.summary)
                    + " — since " + Wording.ago(issue.detectedAt, now: now)
            }.joined(separator: "\n") + (open.count > 10 ? "\n… and \(open.count - 10) more" : "")
        }
        // A window closes every week: it is announced only when it leaves something open.
        if !(silence.isMaintenanceWindow && open.isEmpty) { try await alert(BotReply.text(text), thread: nil) }
        try await store.markSilenceAnnounced(silence.id)
        guard let customer else { return [] }
        // Still silenced by another silence or window: those issues wait for that one's end.
        guard try await store.activeSilence(customer.id, at: now) == nil else { return [] }
        let byName = Dictionary(rules(customer).map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let held = open.filter { $0.detectedAt >= silence.startsAt && $0.detectedAt <= silence.endsAt }
        guard !held.isEmpty else { return [] }
        let current = try await store.latestMetrics(stores: [customer.id])[customer.id]?.fresh(asOf: now) ?? MetricSnapshot()
        var events: [CycleReport.Event] = []
        for issue in held {
            guard let rule = byName[issue.type] else { continue }
            let value = current[rule.metric]
            let decision = automation.decide(rule, customer: customer, silence: nil, now: now)
            var outcome = decision.text
            var buttons: [ReplyButton] = []
            if let draft = proposal(for: decision, rule: rule, value: value, customer: customer, issueID: issue.id, now: now) {
                if case .proposed = try await store.propose(draft, at: now) {
                    outcome += " The proposal stands for \(Int(settings.approvalTTL / 3600)) h "
                        + "(until \(Wording.clockTime(draft.approval.expiresAt)))."
                    buttons = Alerts.approvalButtons(draft.approval.id)
                }
            }
            try await alert(Alerts.opened(rule, customer: customer, value: value,
                                          outcome: "Opened during the silence. " + outcome, now: issue.detectedAt,
                                          buttons: buttons), thread: .issue(issue.id))
            let action = await carryOut(decision, rule: rule, value: value, customer: customer, issueID: issue.id)
            events.append(.init(store: customer.id, what: "\(rule.name): after the silence, " + (action ?? "alerted")))
        }
        return events
    }

    /// Whether `rule`'s condition holds on the latest sample, whatever its window.
    func stillBreaching(_ rule: DetectionRule, series: [MetricName: [(at: Date, value: Double)]], now: Date) -> Bool {
        var instant = rule
        if rule.mode == .sustained { instant.window = 0 }
        return !RuleEvaluator.firing([instant], series: series, now: now).isEmpty
    }

    /// After an automatic run: the playbook's line in the store's insights feed and, when it names one and
    /// customers get mail, its e-mail to the store's contact (only if some step did its work), together.
    func announce(_ playbook: Playbook, report: RunReport, held: [Int: String], rule: DetectionRule, value: Double?,
                  customer: Customer) async throws {
        let done = report.steps.filter { $0.status == .succeeded }.count
        var messages: [Addressed] = []
        if let fix = playbook.notifications.email, settings.replyDomain != nil, done > 0 {
            messages.append(.mail(CustomerMail(customer, .automaticFix(
                fix, issue: rule.title, explanation: rule.inPlainWords(now: value), playbook: playbook.title,
                steps: report.steps.map { $0.customerLine(held: held) }))))
        }
        // A run that did nothing is no "Done": the feed says it could not be applied, and why in a few words.
        let entry: InsightEntry
        if done == 0, report.steps.contains(where: { $0.status.recorded.state == .failed }) {
            let why = report.steps.contains(where: \.status.unreachable)
                ? "perfbot could not reach the store, so nothing was changed; the hosting team has been told."
                : "it did not work, so nothing was changed; the hosting team has been told."
            entry = InsightEntry(kind: "issue", title: "\(playbook.title) could not be applied", body: why)
        } else {
            entry = InsightEntry(kind: "action", title: playbook.notifications.dashboard ?? "\(playbook.title) ran automatically",
                                 body: "\(playbook.name): \(done) of \(report.steps.count) steps done")
        }
        try await store.record(entry, for: customer.id, messages: messages, at: clock.now)
    }

    /// `reply` as a message for the alerts channel; nil when no channel is configured.
    func queued(_ reply: BotReply) -> Addressed? {
        settings.alertsChannel.map { .slack($0, reply) }
    }

    /// Queues a Slack message to the alerts channel, in `thread` when given.
    func alert(_ reply: BotReply, thread: ThreadKey?) async throws {
        guard let message = queued(reply) else { return }
        if let thread {
            try await store.enqueue(message, thread: thread, at: clock.now)
        } else {
            try await store.enqueue(message, at: clock.now)
        }
    }
}
