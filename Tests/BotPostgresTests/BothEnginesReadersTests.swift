import BotCore
import BotPostgres
import BotStore
import Foundation
import Testing
import TestSupport

/// The store protocols the scheduler, the commands, the console and the status page read, alike on both engines.
@Suite struct BothEnginesReadersTests {
    static let acme = StoreID("acme-store")!

    static func sample(_ metric: MetricName, _ minutes: Double, _ value: Double, store: StoreID = acme) -> MetricSample {
        MetricSample(store: store, metric: metric, at: t0.addingTimeInterval(minutes * 60), value: value)
    }

    static func proposal(_ id: String, issue: Int64? = nil, expires: TimeInterval = 3600) -> ApprovalDraft {
        let job = JobDraft(store: acme, kind: .playbook("cache_miss_storm"), requester: .slack(SlackUserID("U0OPS0001")!, .operator),
                           plan: [PlannedStep(name: "Flush the cache", argv: ["wp", "cache", "flush"])], planHash: "h1",
                           reason: "proposed")
        return ApprovalDraft(approval: Approval(id: id, store: acme, issueID: issue, playbook: "cache_miss_storm",
                                                steps: ["Flush the cache"], createdAt: t0, expiresAt: t0.addingTimeInterval(expires)),
                             tokenHash: "token-\(id)", proposal: nil, job: job)
    }

    @Test(arguments: Engine.allCases)
    func metricsAreReadBackAsStoredNewestRollupsAndWindows(_ engine: Engine) async throws {
        try await engine.with([shop("acme-store"), shop("widgets-inc")]) { store in
            let widgets = StoreID("widgets-inc")!
            try await store.insert([Self.sample(.cpuPercent, 1, 40), Self.sample(.cpuPercent, 2, 60), Self.sample(.uptimePercent, 1, 100),
                                    Self.sample(.uptimePercent, 70, 50), Self.sample(.cpuPercent, 3, 10, store: widgets)])
            let latest = try await store.latestMetrics(stores: nil)
            #expect(latest[Self.acme]?[.cpuPercent] == 60 && latest[widgets]?[.cpuPercent] == 10)
            #expect(try await store.latestMetrics(stores: [widgets]).keys.sorted { $0.rawValue < $1.rawValue } == [widgets])
            let asOf = try await store.metrics(of: Self.acme, asOf: t0.addingTimeInterval(90), lookback: 900)
            #expect(asOf[.cpuPercent] == 40, "the newest at or before the time asked")
            let uptime = try await store.average(.uptimePercent, stores: nil, from: t0.addingTimeInterval(-3600), to: t0.addingTimeInterval(7200))
            #expect(uptime[Self.acme] == 75)
            let hours = try await store.hourlyMeans(.cpuPercent, of: Self.acme, from: t0.addingTimeInterval(-3600), to: t0.addingTimeInterval(3600))
            #expect(hours.map(\.value) == [50])
            #expect(try await store.samples(.cpuPercent, of: Self.acme, from: t0, to: t0.addingTimeInterval(600)).map(\.value) == [40, 60])
        }
    }

    /// What `/perf store` and the status page read of one store: its row, newest values, values a day ago, uptime over
    /// the last day and the day before, and its open issues, most severe first; another store's never.
    @Test(arguments: Engine.allCases)
    func aStoresReadingsAreItsOwnAndComplete(_ engine: Engine) async throws {
        try await engine.with([shop("acme-store"), shop("widgets-inc"), shop("quiet-shop")]) { store in
            let widgets = StoreID("widgets-inc")!, quiet = StoreID("quiet-shop")!
            let day = 24.0 * 60
            try await store.insert([
                Self.sample(.cpuPercent, -day - 5, 30), Self.sample(.cpuPercent, -day - 30, 20), Self.sample(.cpuPercent, -1, 70),
                Self.sample(.memoryPercent, -2, 50), Self.sample(.uptimePercent, -180, 90), Self.sample(.uptimePercent, -60, 100),
                Self.sample(.uptimePercent, -day + 10, 50), Self.sample(.uptimePercent, -30 * 60, 70),
                Self.sample(.cpuPercent, -1, 10, store: widgets),
                Self.sample(.uptimePercent, -60, 40, store: widgets), Self.sample(.cpuPercent, -day - 5, 99, store: widgets),
            ])
            _ = try await store.openIssue(store: Self.acme, type: "slow_ttfb", severity: .warning, title: "Slow TTFB", details: [:],
                                          at: t0.addingTimeInterval(-600))
            _ = try await store.openIssue(store: Self.acme, type: "high_memory", severity: .critical, title: "High memory",
                                          details: [:], at: t0.addingTimeInterval(-1200))
            _ = try await store.openIssue(store: widgets, type: "slow_ttfb", severity: .critical, title: "Slow TTFB", details: [:],
                                          at: t0.addingTimeInterval(-60))
            let readings = try #require(try await store.storeReadings(Self.acme, asOf: t0))
            #expect(readings.customer.id == Self.acme)
            #expect(readings.latest.values == [.cpuPercent: 70, .memoryPercent: 50, .uptimePercent: 100])
            #expect(readings.latest.times[.cpuPercent] == t0.addingTimeInterval(-60))
            #expect(readings.dayAgo.values == [.cpuPercent: 30, .uptimePercent: 70], "the newest values at or before a day ago")
            // The hour that starts a day ago is the last day's, not the day before's.
            #expect(readings.uptime24h == 80 && readings.uptime24hDayAgo == 70)
            #expect(readings.openIssues.map(\.summary) == ["High memory", "Slow TTFB"])
            #expect(readings.openIssues.allSatisfy { $0.store == Self.acme })
            let empty = try #require(try await store.storeReadings(quiet, asOf: t0))
            #expect(empty.customer.id == quiet && empty.latest.values.isEmpty && empty.dayAgo.values.isEmpty)
            #expect(empty.uptime24h == nil && empty.uptime24hDayAgo == nil && empty.openIssues.isEmpty)
            #expect(try await store.storeReadings(StoreID("no-such-shop")!, asOf: t0) == nil)
        }
    }

    @Test(arguments: Engine.allCases)
    func aProposalIsDecidedOnceAndItsHeldJobQueued(_ engine: Engine) async throws {
        try await engine.with([shop("acme-store")]) { store in
            #expect(try await store.propose(Self.proposal("ap1"), at: t0) == .proposed)
            guard case let .alreadyWaiting(same) = try await store.propose(Self.proposal("ap2"), at: t0.addingTimeInterval(5)) else {
                Issue.record("a replayed request should collapse into the pending one")
                return
            }
            #expect(same.id == "ap1")
            let held = try #require(try await store.approval(tokenHash: "token-ap1"))
            #expect(held.status == .pending && held.steps == ["Flush the cache"])
            let job = try #require(held.jobID)
            #expect(try await store.job(job)?.state == .held)
            guard case let .decided(decided) = try await store.decideApproval("ap1", approve: true, by: "dana@acme.example",
                                                                             channel: .email, at: t0.addingTimeInterval(60)) else {
                Issue.record("the approval should be decided")
                return
            }
            #expect(decided.status == .approved && decided.decidedBy == "dana@acme.example")
            #expect(try await store.job(job)?.state == .queued)
            guard case .alreadyDecided = try await store.decideApproval("ap1", approve: false, by: "someone", channel: .slack,
                                                                        at: t0.addingTimeInterval(61)) else {
                Issue.record("a second decision must change nothing")
                return
            }
            #expect(try await store.approvals(store: Self.acme, since: t0, limit: 10).map(\.id) == ["ap1"])
            #expect(try await store.auditEntries(store: Self.acme, limit: 10).map(\.action) == ["approval.decide"])
        }
    }

    @Test(arguments: Engine.allCases)
    func aLapsedProposalIsClosedOnceWithItsJob(_ engine: Engine) async throws {
        try await engine.with([shop("acme-store")]) { store in
            try await store.propose(Self.proposal("ap1", expires: 600), at: t0)
            let lapsed = try await store.lapsedApprovals(at: t0.addingTimeInterval(601))
            #expect(lapsed.map(\.approval.id) == ["ap1"] && lapsed.map(\.status) == [.expired])
            let closing = ApprovalClosing(id: "ap1", status: .expired, mail: nil, alert: nil, thread: nil)
            #expect(try await store.close([closing], at: t0.addingTimeInterval(601)) == ["ap1"])
            #expect(try await store.close([closing], at: t0.addingTimeInterval(602)).isEmpty)
            let job = try #require(try await store.approval(id: "ap1")?.jobID)
            #expect(try await store.job(job)?.state == .expired)
            guard case .expired = try await store.decideApproval("ap1", approve: true, by: "late", channel: .email,
                                                                 at: t0.addingTimeInterval(700)) else {
                Issue.record("an expired proposal stays expired")
                return
            }
        }
    }

    @Test(arguments: Engine.allCases)
    func issuesOpenOncePerTypeAndCarryTheirInsightAlertAndProposal(_ engine: Engine) async throws {
        try await engine.with([shop("acme-store")]) { store in
            let insight = InsightEntry(kind: "issue", title: "Slow TTFB", body: "TTFB is 1.2 s")
            let alert = Addressed.slack("#perf-alerts", .text("TTFB on acme-store"))
            let id = try #require(try await store.openIssue(store: Self.acme, type: "slow_ttfb", severity: .warning, title: "Slow TTFB",
                                                           details: ["detection_seconds": "120"], insight: insight, alert: alert,
                                                           approval: Self.proposal("ap1"), at: t0))
            #expect(try await store.openIssue(store: Self.acme, type: "slow_ttfb", severity: .warning, title: "again", details: [:],
                                              insight: insight, alert: alert, approval: nil, at: t0.addingTimeInterval(60)) == nil)
            #expect(try await store.approval(id: "ap1")?.issueID == id)
            #expect(try await store.threadStarter(.issue(id)) != nil, "the alert starts the issue's thread")
            #expect(try await store.openIssues(store: Self.acme).map(\.id) == [id])
            try await store.markClear(id, since: t0.addingTimeInterval(120))
            let context = try await store.ruleContext(at: t0.addingTimeInterval(130))
            #expect(context.tracked[Self.acme]?.first?.clearSince == t0.addingTimeInterval(120))
            try await store.touchIssue(id, at: t0.addingTimeInterval(180))
            #expect(try await store.state(of: Self.acme, since: t0, at: t0.addingTimeInterval(190)).tracked.first?.clearSince == nil)
            try await store.resolveIssue(id, store: Self.acme, insight: InsightEntry(kind: "resolved", title: "TTFB back", body: "0.3 s"),
                                         alert: nil, at: t0.addingTimeInterval(300))
            #expect(try await store.openIssues(store: nil).isEmpty)
            #expect(try await store.resolvedIssues(store: Self.acme, since: t0).map(\.id) == [id])
            // The proposal of a resolved issue lapses as withdrawn.
            #expect(try await store.lapsedApprovals(at: t0.addingTimeInterval(301)).map(\.status) == [.cancelled])
            let report = try await store.report(since: t0.addingTimeInterval(-60), store: Self.acme)
            #expect(report.issuesOpened == 1 && report.issuesResolved == 1 && report.medianDetectSeconds == 120)
            #expect(try await store.feed(of: Self.acme, limit: 10).map(\.title) == ["TTFB back", "Slow TTFB"])
        }
    }

    /// What a rebuilt memory reads, then what arrived since: each sample once.
    @Test(arguments: Engine.allCases)
    func theJournalGivesWhatArrivedAfterTheFleetWasRead(_ engine: Engine) async throws {
        try await engine.with([shop("acme-store")]) { store in
            try await store.insert([Self.sample(.cpuPercent, 1, 40), Self.sample(.uptimePercent, 1, 100)])
            let fleet = try await store.fleetSamples(since: t0.addingTimeInterval(-3600), hourly: .uptimePercent,
                                                     hoursFrom: t0.addingTimeInterval(-86400))
            #expect(fleet.series[Self.acme]?[.cpuPercent]?.map(\.value) == [40])
            #expect(fleet.hourly[Self.acme]?.map(\.count) == [1])
            try await store.insert([Self.sample(.cpuPercent, 2, 55)])
            let (new, mark) = try await store.journal(after: fleet.mark, limit: 100)
            #expect(new.map(\.value) == [55], "only what arrived after the fleet was read")
            try await store.forgetJournal(through: mark)
            #expect(try await store.journal(after: mark, limit: 100).samples.isEmpty)
            try await store.writeSnapshots([SnapshotRecord(store: Self.acme, score: 87, metrics: MetricSnapshot())], at: t0)
            #expect(try await store.scores(of: Self.acme, since: t0).map(\.score) == [87])
            #expect(try await store.allCustomers().first?.id == Self.acme)
        }
    }

    @Test(arguments: Engine.allCases)
    func statusLinksSlowQueriesAndCollectorsAreKept(_ engine: Engine) async throws {
        try await engine.with([shop("acme-store")]) { store in
            try await store.issueStatusLink(id: "link1", store: Self.acme, contact: "Dana@Acme.example", at: t0,
                                            expiresAt: t0.addingTimeInterval(86400))
            #expect(try await store.statusLink(id: "link1", store: Self.acme)?.contact == "dana@acme.example")
            #expect(try await store.statusLink(id: "link1", store: StoreID("other-shop")!) == nil)
            let hour = SlowQueryHour(queryID: "q1", fingerprint: "select * from wp_options where autoload = ?", hour: t0, count: 3,
                                     totalMs: 900, maxMs: 500, tables: ["wp_options"], firstSeen: t0, lastSeen: t0.addingTimeInterval(60))
            let cursor = SlowLogCursor(path: "/var/log/mysql/slow.log", identity: "ino:1", offset: 4096)
            try await store.recordSlowQueries(Self.acme, hours: [hour], cursor: cursor, at: t0)
            try await store.recordSlowQueries(Self.acme, hours: [hour], cursor: cursor, at: t0.addingTimeInterval(60))
            let (classes, total) = try await store.slowQueryClasses(Self.acme, since: t0, limit: 10, offset: 0)
            #expect(total == 1 && classes.first?.count == 6 && classes.first?.totalMs == 1800 && classes.first?.tables == ["wp_options"])
            #expect(try await store.slowLogCursor(Self.acme) == cursor)
            try await store.recordCollector(Self.acme, reading: "redis", source: "docker", error: nil, at: t0)
            try await store.recordCollector(Self.acme, reading: "redis", source: "docker", error: "connection refused", at: t0.addingTimeInterval(60))
            let status = try #require(try await store.collectorStatuses(store: Self.acme).first)
            #expect(status.lastSuccess == t0 && status.lastError == "connection refused")
            try await store.setWeeklyReport(Self.acme, enabled: false, at: t0)
            #expect(try await !store.weeklyReport(of: Self.acme))
            try await store.setWeeklyReport(Self.acme, enabled: true, at: t0)
            #expect(try await store.weeklyReport(of: Self.acme))
            try await store.setAutomation(Self.acme, level: .fullAuto, exceptions: ["flush_cache"], at: t0)
            #expect(try await store.customer(Self.acme)?.automationLevel == .fullAuto)
        }
    }
}
