import BotCore
import BotStore
import Foundation
import Testing
import TestSupport

/// A fresh directory for one test's database file.
func temporaryDatabase() throws -> String {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("perfbot-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    return directory.appendingPathComponent("perfbot.sqlite").path
}

let t0 = Date(timeIntervalSince1970: 1_800_000_000)  // 2027-01-15T08:00:00Z, an hour boundary
func store(_ name: String) -> StoreID { StoreID(name)! }
func customer(_ name: String, platform: Platform = .woocommerce) -> Customer {
    Customer(id: store(name), platform: platform, plan: .premium, contactEmail: "owner@\(name).example",
             container: "\(name)-app", automationExceptions: ["skip_restarts"],
             limits: ResourceLimits(memoryMB: 2048, cpuCores: 1.5, diskGB: 40), catalogSize: 1200, ordersPerDay: 80,
             settings: ["app_path": "/srv/\(name)", "db_name": "shop"])
}

@Suite struct SQLiteStoreTests {
    @Test func migratesAFreshFileWithTheWholeSchemaInWALMode() async throws {
        let db = try SQLiteStore(path: try temporaryDatabase())
        #expect(try await db.journalMode() == "wal")
        #expect(try await db.appliedMigrations() == ["v1-core-schema", "v2-scheduler", "v3-monitor-alerts", "v4-probes", "v5-store-settings", "v6-jobs-retention", "v7-report-opt-outs", "v8-slow-queries-hourly", "v9-collector-status", "v10-plan-tiers", "v11-status-links", "v12-store-tokens", "v13-job-kinds", "v14-typed-outbox", "v15-open-platforms", "v16-platform-names", "v17-sample-journal", "v18-scheduled-jobs", "v19-admin-factors", "v20-fleet-health-daily", "v21-traffic", "v22-sample-inbox", "v23-customers-version"])
        let tables = Set(try await db.tableNames())
        for table in ["customers", "performance_snapshots", "performance_issues", "automation_actions", "slow_queries",
                      "lighthouse_probes", "admin_interventions", "approvals", "outbox", "webhook_deliveries",
                      "silences", "audit_log", "metric_samples", "metric_rollups", "metric_latest", "insights"] {
            #expect(tables.contains(table), "missing table \(table)")
        }
    }

    @Test func reopeningAMigratedFileKeepsItsData() async throws {
        let path = try temporaryDatabase()
        do {
            let first = try SQLiteStore(path: path)
            try await first.upsert(customer("acme-store"), at: t0)
            try await first.insert([MetricSample(store: store("acme-store"), metric: .cpuPercent, at: t0, value: 42)])
        }
        let second = try SQLiteStore(path: path)
        #expect(try await second.appliedMigrations() == ["v1-core-schema", "v2-scheduler", "v3-monitor-alerts", "v4-probes", "v5-store-settings", "v6-jobs-retention", "v7-report-opt-outs", "v8-slow-queries-hourly", "v9-collector-status", "v10-plan-tiers", "v11-status-links", "v12-store-tokens", "v13-job-kinds", "v14-typed-outbox", "v15-open-platforms", "v16-platform-names", "v17-sample-journal", "v18-scheduled-jobs", "v19-admin-factors", "v20-fleet-health-daily", "v21-traffic", "v22-sample-inbox", "v23-customers-version"])
        #expect(try await second.customer(store("acme-store")) == customer("acme-store"))
        #expect(try await second.latestMetrics(stores: nil)[store("acme-store")]?[.cpuPercent] == 42)
    }

    @Test func upsertUpdatesTheSameStore() async throws {
        let db = try SQLiteStore(path: try temporaryDatabase())
        try await db.upsert(customer("acme-store"), at: t0)
        var changed = customer("acme-store")
        changed.automationLevel = .fullAuto
        changed.plan = .basic
        try await db.upsert(changed, at: t0.addingTimeInterval(60))
        #expect(try await db.allCustomers() == [changed])
    }

    @Test func samplesAreStoredOnceAndRolledUpHourly() async throws {
        let db = try SQLiteStore(path: try temporaryDatabase())
        try await db.upsert(customer("acme-store"), at: t0)
        let samples = (0..<90).map {
            MetricSample(store: store("acme-store"), metric: .memoryPercent, at: t0.addingTimeInterval(TimeInterval($0 * 60)),
                         value: Double($0))
        }
        #expect(try await db.insert(samples) == 90)
        #expect(try await db.insert(Array(samples.prefix(10))) == 0)
        let rollups = try await db.hourlyRollups(.memoryPercent, store: store("acme-store"), from: t0,
                                                 to: t0.addingTimeInterval(7200))
        #expect(rollups.count == 2)
        #expect(rollups[0].mean == 29.5)
        #expect(rollups[0].min == 0 && rollups[0].max == 59)
        #expect(rollups[1].mean == 74.5)
        let latest = try await db.latestMetrics(stores: [store("acme-store")])
        #expect(latest[store("acme-store")]?[.memoryPercent] == 89)
        let past = try await db.metrics(of: store("acme-store"), asOf: t0.addingTimeInterval(600), lookback: 900)
        #expect(past[.memoryPercent] == 10)
        let average = try await db.average(.memoryPercent, stores: nil, from: t0, to: t0.addingTimeInterval(3600))
        #expect(average[store("acme-store")] == 29.5)
    }

    @Test func olderSampleDoesNotReplaceTheLatest() async throws {
        let db = try SQLiteStore(path: try temporaryDatabase())
        try await db.upsert(customer("acme-store"), at: t0)
        try await db.insert([MetricSample(store: store("acme-store"), metric: .cpuPercent, at: t0, value: 50)])
        try await db.insert([MetricSample(store: store("acme-store"), metric: .cpuPercent, at: t0.addingTimeInterval(-60), value: 10)])
        #expect(try await db.latestMetrics(stores: nil)[store("acme-store")]?[.cpuPercent] == 50)
    }

    @Test func pruneRemovesOldRawSamplesAndRollups() async throws {
        let db = try SQLiteStore(path: try temporaryDatabase())
        try await db.upsert(customer("acme-store"), at: t0)
        try await db.insert([
            MetricSample(store: store("acme-store"), metric: .cpuPercent, at: t0, value: 1),
            MetricSample(store: store("acme-store"), metric: .cpuPercent, at: t0.addingTimeInterval(3 * 86400), value: 2),
        ])
        var policy = RetentionPolicy()
        policy.samples = 2 * 86400
        policy.rollups = 3 * 86400 - 60
        let pruned = try await db.prune(policy, now: t0.addingTimeInterval(3 * 86400))
        #expect(pruned["metric_samples"] == 1)
        #expect(pruned["metric_rollups"] == 1)
    }

    func record(_ key: String, body: [UInt8] = []) -> DeliveryRecord {
        DeliveryRecord(source: "slack_event", key: key, contentType: "application/json", body: body, at: t0)
    }

    @Test func aDeliveryKeyActsOnceAndARetryGetsTheStoredAnswer() async throws {
        let db = try SQLiteStore(path: try temporaryDatabase())
        guard case let .fresh(id) = try await db.admitDelivery(record("slack-event:Ev1", body: [1, 2])) else {
            Issue.record("first delivery was not fresh")
            return
        }
        #expect(try await db.admitDelivery(record("slack-event:Ev1")) == .duplicate(id: id, response: nil))
        try await db.finishDelivery(key: "slack-event:Ev1", succeeded: true, response: StoredResponse(status: 200, body: [7]), at: t0)
        #expect(try await db.admitDelivery(record("slack-event:Ev1"))
            == .duplicate(id: id, response: StoredResponse(status: 200, body: [7])))
        let recorded = try #require(try await db.delivery(id: id))
        #expect(recorded.body == [1, 2])
        #expect(recorded.retries == 2)
        #expect(recorded.status == "processed")
    }

    @Test func aFailedDeliveryIsHandledAfreshOnRetry() async throws {
        let db = try SQLiteStore(path: try temporaryDatabase())
        guard case let .fresh(id) = try await db.admitDelivery(record("k")) else { Issue.record("not fresh"); return }
        try await db.finishDelivery(key: "k", succeeded: false, response: StoredResponse(status: 500, body: []), at: t0)
        #expect(try await db.admitDelivery(record("k")) == .fresh(id: id))
    }

    /// A delivery being handled when the process died is released at the next start: its retry is handled
    /// afresh, while finished ones keep their answers.
    @Test func deliveriesInterruptedByAStopAreHandledAfreshAfterARestart() async throws {
        let path = try temporaryDatabase()
        let before = try SQLiteStore(path: path)
        guard case let .fresh(id) = try await before.admitDelivery(record("mailgun:tok-1")) else { Issue.record("not fresh"); return }
        _ = try await before.admitDelivery(record("mailgun:tok-2"))
        try await before.finishDelivery(key: "mailgun:tok-2", succeeded: true, response: StoredResponse(status: 200, body: [1]), at: t0)
        #expect(try await before.admitDelivery(record("mailgun:tok-1")) == .duplicate(id: id, response: nil))

        let after = try SQLiteStore(path: path)
        #expect(try await after.releaseInterruptedDeliveries(at: t0) == 1)
        #expect(try await after.admitDelivery(record("mailgun:tok-1")) == .fresh(id: id))
        guard case .duplicate(_, StoredResponse(status: 200, body: [1])?) = try await after.admitDelivery(record("mailgun:tok-2")) else {
            Issue.record("a finished delivery lost its answer")
            return
        }
    }

    @Test func anAnsweredDeliveryIsRecordedWithItsAnswerOnce() async throws {
        let db = try SQLiteStore(path: try temporaryDatabase())
        let first = StoredResponse(status: 200, body: [1])
        #expect(try await db.recordDelivery(record("c"), response: first) == .fresh(first))
        #expect(try await db.recordDelivery(record("c"), response: StoredResponse(status: 200, body: [2])) == .duplicate(first))
    }

    @Test func aBatchIsStoredExactlyOnceWithItsDelivery() async throws {
        let db = try SQLiteStore(path: try temporaryDatabase())
        try await db.upsert(customer("acme-store"), at: t0)
        let samples = [MetricSample(store: store("acme-store"), metric: .cpuPercent, at: t0, value: 5),
                       MetricSample(store: store("ghost-shop"), metric: .cpuPercent, at: t0, value: 5)]
        let answer: @Sendable (SampleIngest) -> StoredResponse = { ingest in
            StoredResponse(status: 200, body: Array("\(ingest.inserted) \(ingest.unknownStores.map(\.rawValue))".utf8))
        }
        let first = try await db.ingest(samples, delivery: record("batch"), answer: answer)
        #expect(first == .fresh(StoredResponse(status: 200, body: Array(#"1 ["ghost-shop"]"#.utf8))))
        let again = try await db.ingest(samples, delivery: record("batch"), answer: answer)
        #expect(again == .duplicate(StoredResponse(status: 200, body: Array(#"1 ["ghost-shop"]"#.utf8))))
        #expect(try await db.hourlyRollups(.cpuPercent, store: store("acme-store"), from: t0, to: t0.addingTimeInterval(3600))
            .first?.mean == 5)
    }

    @Test func oneOpenIssuePerTypeAndStore() async throws {
        let db = try SQLiteStore(path: try temporaryDatabase())
        try await db.upsert(customer("acme-store"), at: t0)
        let first = try await db.openIssue(store: store("acme-store"), type: "high_memory", severity: .warning,
                                           title: "High memory", at: t0)
        let again = try await db.openIssue(store: store("acme-store"), type: "high_memory", severity: .warning,
                                           title: "High memory", at: t0.addingTimeInterval(60))
        try await db.openIssue(store: store("acme-store"), type: "disk_critical", severity: .critical,
                               title: "Disk critical", at: t0)
        #expect(first != nil)
        #expect(again == nil)
        #expect(try await db.openIssues(store: nil).map(\.type) == ["disk_critical", "high_memory"])
    }

    @Test func foreignKeysAreEnforced() async throws {
        let db = try SQLiteStore(path: try temporaryDatabase())
        await #expect(throws: (any Error).self) {
            try await db.insert([MetricSample(store: store("ghost"), metric: .cpuPercent, at: t0, value: 1)])
        }
    }
}
