import BotCore
import BotPostgres
import BotStore
import Foundation
import Testing
import TestSupport

/// What the admin console, windows, interventions and second factors read and write, alike on both engines.
@Suite struct BothEnginesConsoleTests {
    static let acme = StoreID("acme-store")!
    static let widgets = StoreID("widgets-inc")!

    static func sample(_ metric: MetricName, _ minutes: Double, _ value: Double, store: StoreID = acme) -> MetricSample {
        MetricSample(store: store, metric: metric, at: t0.addingTimeInterval(minutes * 60), value: value)
    }

    @Test(arguments: Engine.allCases)
    func fleetAggregatesDailyMeansAndTheKeptHealth(_ engine: Engine) async throws {
        try await engine.with([shop("acme-store"), shop("widgets-inc")]) { store in
            // acme: memory 80, 92, 95 in the hour (2 at or above 90); widgets: 50. Connections: acme at 140 and 145 of 151
            // (90 % is 135.9: both), widgets at 10 of 151.
            try await store.insert([Self.sample(.memoryPercent, -50, 80), Self.sample(.memoryPercent, -30, 92), Self.sample(.memoryPercent, -10, 95),
                                    Self.sample(.memoryPercent, -20, 50, store: Self.widgets),
                                    Self.sample(.maxConnections, -5, 151), Self.sample(.maxConnections, -5, 151, store: Self.widgets),
                                    Self.sample(.activeConnections, -40, 140), Self.sample(.activeConnections, -20, 145),
                                    Self.sample(.activeConnections, -20, 10, store: Self.widgets)])
            let memory = try await store.fleetAggregates(.memoryPercent, from: t0.addingTimeInterval(-3600), to: t0, threshold: 90)
            #expect(memory[Self.acme] == MetricAggregate(mean: 89, sum: 267, count: 3, max: 95, atOrAbove: 2))
            #expect(memory[Self.widgets]?.atOrAbove == 0)
            let near = try await store.connectionsNearLimit(from: t0.addingTimeInterval(-3600), to: t0, share: 0.9)
            #expect(near == [Self.acme: 2])
            // Daily means from the rollups: the day of t0's previous hour holds acme's three and widgets' one.
            let day = Date(timeIntervalSince1970: (t0.timeIntervalSince1970 / 86400).rounded(.down) * 86400)
            let daily = try await store.dailyMeans(.memoryPercent, from: day, to: day.addingTimeInterval(86400))
            #expect(daily[Self.acme]?[day] == 89 && daily[Self.widgets]?[day] == 50)
            let profile = try await store.weeklyProfile(.memoryPercent, from: day, to: day.addingTimeInterval(86400))
            #expect(profile[Self.acme]?.count == 1)
            // Health: 80 and 60 on the day of t0.
            try await store.writeSnapshots([SnapshotRecord(store: Self.acme, score: 80, metrics: MetricSnapshot()),
                                            SnapshotRecord(store: Self.widgets, score: 60, metrics: MetricSnapshot())], at: t0)
            let kept = try await store.keepFleetHealth(day: day)
            #expect(kept?.average == 70 && kept?.stores == 2)
            #expect(try await store.fleetHealth(from: day, to: day.addingTimeInterval(86400)).map(\.average) == [70])
        }
    }

    @Test(arguments: Engine.allCases)
    func factorsWindowsAndWaitingJobs(_ engine: Engine) async throws {
        try await engine.with([shop("acme-store")]) { store in
            let admin = SlackUserID("U0ADMIN01")!
            try await store.enrollFactor(admin, secret: "SECRET", at: t0)
            #expect(try await store.useFactorStep(admin, step: 10, verifiedUntil: t0.addingTimeInterval(300)))
            #expect(try await !store.useFactorStep(admin, step: 10, verifiedUntil: t0.addingTimeInterval(300)))
            #expect(try await store.factor(of: admin)?.lastStep == 10)
            // A window's opening silences once, however often asked.
            let opening = t0.addingTimeInterval(-600)
            #expect(try await store.startWindow(Self.acme, opening: opening, until: t0.addingTimeInterval(600), reason: "maintenance window") != nil)
            #expect(try await store.startWindow(Self.acme, opening: opening, until: t0.addingTimeInterval(600), reason: "maintenance window") == nil)
            let silence = try #require(try await store.activeSilence(Self.acme, at: t0))
            #expect(silence.isMaintenanceWindow && silence.startsAt == opening)
            // A requested job waits, and moves on once; a scheduled one is not claimed before its time.
            let draft = JobDraft(store: Self.acme, kind: .playbook("optimize_store"), requester: .slack(admin, .admin),
                                 plan: [PlannedStep(name: "a", argv: ["true"])], planHash: "h", state: .requested,
                                 reason: "intervention: test", notBefore: t0.addingTimeInterval(3600))
            guard case let .admitted(job, _) = try await store.admitJob(draft, at: t0) else { Issue.record("not admitted"); return }
            #expect(job.state == .requested && job.notBefore == t0.addingTimeInterval(3600))
            #expect(try await store.moveJob(job.id, from: .requested, to: .queued, createdSince: t0)?.state == .queued)
            #expect(try await store.moveJob(job.id, from: .requested, to: .queued, createdSince: t0) == nil)
            #expect(try await store.claimNextJob(of: Self.acme, at: t0.addingTimeInterval(60)) == nil)
            #expect(try await store.claimNextJob(of: Self.acme, at: t0.addingTimeInterval(3600))?.id == job.id)
        }
    }
}
