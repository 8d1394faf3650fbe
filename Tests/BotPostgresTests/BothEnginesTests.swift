import BotCore
import BotPostgres
import BotStore
import Foundation
import Testing
import TestSupport

/// What both engines implement, checked the same way on each: a store protocol answers alike on SQLite and on
/// PostgreSQL.
typealias EngineStore = SchedulerStore & OperationsStore & CustomerStore & StatusPageStore & ServerStore & SampleReader & FactorStore
    & CollectorStatusStore & IssueReader & OutboxStore

enum Engine: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite, postgres

    var testDescription: String { rawValue }

    /// Runs `body` with a fresh store of this engine holding `customers`.
    func with(_ customers: [Customer], _ body: @escaping @Sendable (any EngineStore) async throws -> Void) async throws {
        switch self {
        case .sqlite:
            let store = try SQLiteStore(path: try temporarySQLite())
            try await store.upsert(customers, at: t0)
            try await body(store)
        case .postgres:
            try await PostgresTestDatabase.with("engines") { database in
                let store = PostgresStore(database: database, replica: "r1")
                try await store.upsert(customers, at: t0)
                try await body(store)
            }
        }
    }
}

@Suite struct BothEnginesTests {
    static let acme = StoreID("acme-store")!

    @Test(arguments: Engine.allCases)
    func silencesCoverTheirWindowAndTheirEndIsAnnouncedOnce(_ engine: Engine) async throws {
        try await engine.with([shop("acme-store")]) { store in
            #expect(try await store.activeSilence(Self.acme, at: t0) == nil)
            let id = try await store.addSilence(Self.acme, until: t0.addingTimeInterval(3600), reason: "migration", by: "U0OPS0001", at: t0)
            let active = try #require(try await store.activeSilence(Self.acme, at: t0.addingTimeInterval(60)))
            #expect(active.id == id && active.reason == "migration" && active.createdBy == "U0OPS0001")
            #expect(try await store.endedSilences(at: t0.addingTimeInterval(60)).isEmpty)
            #expect(try await store.activeSilence(Self.acme, at: t0.addingTimeInterval(3600)) == nil, "it ends at its end")
            #expect(try await store.endedSilences(at: t0.addingTimeInterval(3601)).map(\.id) == [id])
            try await store.markSilenceAnnounced(id)
            #expect(try await store.endedSilences(at: t0.addingTimeInterval(3601)).isEmpty)
            // Ended by hand: in force no longer, and its end announced as any other's.
            let second = try await store.addSilence(Self.acme, until: t0.addingTimeInterval(7200), reason: nil, by: "U0OPS0001",
                                                    at: t0.addingTimeInterval(3700))
            #expect(try await store.activeSilences(at: t0.addingTimeInterval(3800)).map(\.id) == [second])
            #expect(try await store.endSilences(of: Self.acme, at: t0.addingTimeInterval(3800)) == 1)
            #expect(try await store.activeSilences(at: t0.addingTimeInterval(3801)).isEmpty)
            #expect(try await store.endSilences(of: Self.acme, at: t0.addingTimeInterval(3801)) == 0)
            #expect(try await store.endedSilences(at: t0.addingTimeInterval(3801)).map(\.id) == [second])
        }
    }

    @Test(arguments: Engine.allCases)
    func aDailyRunIsClaimedOncePerInterval(_ engine: Engine) async throws {
        try await engine.with([]) { store in
            let first = try await store.claimDailyRun("predictions", at: t0, interval: 86400)
            let soon = try await store.claimDailyRun("predictions", at: t0.addingTimeInterval(3600), interval: 86400)
            let other = try await store.claimDailyRun("weekly_report", at: t0.addingTimeInterval(3600), interval: 86400)
            let nextDay = try await store.claimDailyRun("predictions", at: t0.addingTimeInterval(86400), interval: 86400)
            #expect(first && !soon && nextDay)
            #expect(other, "each task has its own")
        }
    }

    /// Two replicas ask at once, ten times over: the weekly mail goes out once.
    @Test func replicasClaimingADailyRunAtOnceWinItOnce() async throws {
        try await PostgresTestDatabase.with("dailyruns", connections: 8) { database in
            let (one, two) = (PostgresStore(database: database, replica: "r1"), PostgresStore(database: database, replica: "r2"))
            for day in 0..<10 {
                let at = t0.addingTimeInterval(Double(day) * 86400)
                async let a = one.claimDailyRun("weekly_report", at: at, interval: 86400)
                async let b = two.claimDailyRun("weekly_report", at: at, interval: 86400)
                let (first, second) = try await (a, b)
                #expect(first != second, "day \(day): exactly one replica wins")
            }
        }
    }

    @Test(arguments: Engine.allCases)
    func insightsKeepTheNewestEvidenceOfEachRecommendation(_ engine: Engine) async throws {
        try await engine.with([shop("acme-store")]) { store in
            try await store.addInsight(Self.acme, at: t0, kind: "recommendation", title: "Enable Redis", body: "hit rate 60 %")
            try await store.record(InsightEntry(kind: "recommendation", title: "Enable Redis", body: "hit rate 55 %"), for: Self.acme,
                                   messages: [.slack("#perf-alerts", .text("Redis hit rate low on acme-store"))], at: t0)
            try await store.addInsight(Self.acme, at: t0, kind: "issue", title: "Slow checkout", body: "TTFB 2 s")
            #expect(try await store.shownRecommendations(of: Self.acme) == ["Enable Redis": "hit rate 55 %"])
            #expect(try await store.dueMessages(now: t0, limit: 10).count == 1, "the insight's message was queued with it")
            try await store.audit(actor: "U0OPS0001", channel: "slack", action: "silence", store: Self.acme,
                                  details: ["until": "10:00"], result: "ok", at: t0)
        }
    }

    @Test(arguments: Engine.allCases)
    func aPushWhoseFirstHandlingFailedIsTakenAfreshAndStoredOnce(_ engine: Engine) async throws {
        try await engine.with([shop("acme-store")]) { store in
            let samples = [MetricSample(store: Self.acme, metric: .cpuPercent, at: t0, value: 40),
                           MetricSample(store: Self.acme, metric: .cpuPercent, at: t0.addingTimeInterval(60), value: 60)]
            let delivery = DeliveryRecord(source: "metrics", key: "push-failed", contentType: nil, body: [], at: t0)
            let failed = try await store.ingest(samples, delivery: delivery) { _ in StoredResponse(status: 503, body: Array("busy".utf8)) }
            #expect(failed == .fresh(StoredResponse(status: 503, body: Array("busy".utf8))))
            let counted: @Sendable (SampleIngest) -> StoredResponse = { ingest in
                StoredResponse(status: 200, body: Array("\(ingest.inserted)/\(ingest.duplicates)".utf8))
            }
            // Its samples went in with the first try: the retry finds them stored, and acts on nothing twice.
            #expect(try await store.ingest(samples, delivery: delivery, answer: counted) == .fresh(StoredResponse(status: 200, body: Array("0/2".utf8))))
            #expect(try await store.ingest(samples, delivery: delivery, answer: counted) == .duplicate(StoredResponse(status: 200, body: Array("0/2".utf8))))
            let stored = try await store.samples(.cpuPercent, of: Self.acme, from: t0.addingTimeInterval(-1), to: t0.addingTimeInterval(60))
            #expect(stored.map(\.value) == [40, 60])
            #expect(try await store.hourlyMeans(.cpuPercent, of: Self.acme, from: t0.addingTimeInterval(-3600), to: t0.addingTimeInterval(3600))
                .map(\.value) == [50])
        }
    }

    @Test(arguments: Engine.allCases)
    func aDeliveryIsActedOnOnceAndItsAlertsTogether(_ engine: Engine) async throws {
        try await engine.with([shop("acme-store")]) { store in
            let samples = [MetricSample(store: Self.acme, metric: .cpuPercent, at: t0, value: 40),
                           MetricSample(store: Self.acme, metric: .cpuPercent, at: t0.addingTimeInterval(60), value: 60),
                           MetricSample(store: StoreID("ghost-shop")!, metric: .cpuPercent, at: t0, value: 1)]
            let delivery = DeliveryRecord(source: "metrics", key: "push-1", contentType: "application/json", body: Array("{}".utf8), at: t0)
            let answer: @Sendable (SampleIngest) -> StoredResponse = { ingest in
                StoredResponse(status: 200, body: Array("\(ingest.inserted)/\(ingest.duplicates)/\(ingest.unknownStores.map(\.rawValue).sorted())".utf8))
            }
            let first = try await store.ingest(samples, delivery: delivery, answer: answer)
            #expect(first == .fresh(StoredResponse(status: 200, body: Array("2/0/[\"ghost-shop\"]".utf8))))
            #expect(try await store.ingest(samples, delivery: delivery, answer: answer) == .duplicate(StoredResponse(
                status: 200, body: Array("2/0/[\"ghost-shop\"]".utf8))), "a retry gets the first answer")
            #expect(try await store.insert([samples[0]]) == 0, "a stored sample is not stored again")
            func alert(_ identity: String, store: String?, firing: Bool = true) -> ExternalAlert {
                ExternalAlert(source: "alertmanager", identity: identity, firing: firing, startsAt: "2027-01-15T08:00:00Z",
                              storeLabel: store, store: store.flatMap(StoreID.init), name: "RedisHitRateLow", severity: .warning,
                              summary: "Redis hit rate below 80%")
            }
            let notify: @Sendable (ExternalAlert, Bool) -> Addressed? = { alert, opened in
                .slack("#perf-alerts", .text("\(opened ? "opened" : "resolved") \(alert.name)"))
            }
            let effects = try await store.ingest([alert("a1", store: "acme-store"), alert("a1", store: "acme-store"),
                                                  alert("a2", store: "acme-store"), alert("g1", store: "ghost-shop")],
                                                 at: t0, notify: notify)
            guard case .opened = effects[0] else { Issue.record("\(effects)"); return }
            #expect(Array(effects.dropFirst()) == [.duplicate, .alreadyOpen, .unknownStore])
            let resolved = try await store.ingest([alert("a1", store: "acme-store", firing: false)], at: t0.addingTimeInterval(60),
                                                  notify: notify)
            #expect(resolved == [.resolved({ if case let .opened(id) = effects[0] { id } else { 0 } }())])
            #expect(try await store.dueMessages(now: t0.addingTimeInterval(60), limit: 10).count == 2, "opened, then resolved")
        }
    }
}
