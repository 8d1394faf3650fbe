import BotCore
import BotStore
import Foundation
import GRDB
import Testing
import TestSupport

/// Pushed samples go to the inbox with their delivery and are filed right after: every read sees what was
/// acknowledged before it, a repeat is refused whether or not the first is filed yet, and what a killed process
/// acknowledged and did not file is filed when the store opens again.
@Suite struct SampleInboxTests {
    let answer: @Sendable (SampleIngest) -> StoredResponse = { ingest in
        StoredResponse(status: 200, body: Array("\(ingest.inserted)/\(ingest.duplicates)".utf8))
    }

    func delivery(_ key: String) -> DeliveryRecord {
        DeliveryRecord(source: "metrics", key: key, contentType: "application/json", body: Array(key.utf8), at: t0)
    }

    func batch(_ store: StoreID, minute: Int, value: Double) -> [MetricSample] {
        [MetricName.cpuPercent, .memoryPercent].map {
            MetricSample(store: store, metric: $0, at: t0.addingTimeInterval(Double(minute * 60)), value: value)
        }
    }

    @Test func everyReadSeesWhatWasAcknowledgedBeforeIt() async throws {
        let db = try SQLiteStore(path: try temporaryDatabase())
        try await db.upsert(customer("acme-store"), at: t0)
        for minute in 0..<20 {
            let result = try await db.ingest(batch(store("acme-store"), minute: minute, value: Double(minute)),
                                             delivery: delivery("push-\(minute)"), answer: answer)
            #expect(result == .fresh(StoredResponse(status: 200, body: Array("2/0".utf8))))
            // Read at once, with no wait of the test's own: the read waits for the filing.
            let samples = try await db.samples(.cpuPercent, of: store("acme-store"), from: t0.addingTimeInterval(-1),
                                               to: t0.addingTimeInterval(3600))
            #expect(samples.count == minute + 1)
            #expect(try await db.latestMetrics(stores: nil)[store("acme-store")]?[.memoryPercent] == Double(minute))
        }
        let rollup = try #require(try await db.hourlyRollups(.cpuPercent, store: store("acme-store"), from: t0,
                                                             to: t0.addingTimeInterval(3600)).first)
        #expect(rollup.mean == 9.5 && rollup.min == 0 && rollup.max == 19)
        // The check cycle's journal holds each sample once, in the order it was acknowledged.
        let journal = try await db.journal(after: 0, limit: 1000).samples
        #expect(journal.count == 40)
        #expect(journal.filter { $0.metric == .cpuPercent }.map(\.value) == (0..<20).map(Double.init))
    }

    @Test func aSampleSentTwiceCountsOnceWhetherOrNotTheFirstIsFiled() async throws {
        let db = try SQLiteStore(path: try temporaryDatabase())
        try await db.upsert(customer("acme-store"), at: t0)
        let samples = batch(store("acme-store"), minute: 0, value: 7)
        // Concurrently: one of the two is in the inbox or filed when the other arrives.
        async let first = db.ingest(samples, delivery: delivery("a"), answer: answer)
        async let second = db.ingest(samples, delivery: delivery("b"), answer: answer)
        let answers = Set(try await [first, second].map { result -> String in
            guard case let .fresh(response) = result else { return "repeat" }
            return String(decoding: response.body, as: UTF8.self)
        })
        #expect(answers == ["2/0", "0/2"])
        let again = try await db.ingest(samples, delivery: delivery("c"), answer: answer)
        #expect(again == .fresh(StoredResponse(status: 200, body: Array("0/2".utf8))))
        let rollup = try #require(try await db.hourlyRollups(.cpuPercent, store: store("acme-store"), from: t0,
                                                             to: t0.addingTimeInterval(3600)).first)
        #expect(rollup.mean == 7 && rollup.min == 7)
        #expect(try await db.journal(after: 0, limit: 100).samples.count == 2)
    }

    /// The process stopped after answering and before filing: the rows are in the inbox, and opening the file files
    /// them; a store removed meanwhile takes its samples with it.
    @Test func whatAStoppedProcessLeftInTheInboxIsFiledAtOpen() async throws {
        let path = try temporaryDatabase()
        do {
            let db = try SQLiteStore(path: path)
            try await db.upsert(customer("acme-store"), at: t0)
        }
        let queue = try DatabaseQueue(path: path)
        try await queue.write { db in
            for sample in (batch(store("acme-store"), minute: 3, value: 42) + batch(store("gone-shop"), minute: 3, value: 1)) {
                try db.execute(sql: "INSERT INTO sample_inbox (customer_id, metric, at, value) VALUES (?, ?, ?, ?)",
                               arguments: [sample.store.rawValue, sample.metric.rawValue, Int64(sample.at.timeIntervalSince1970), sample.value])
            }
        }
        try await queue.close()
        let reopened = try SQLiteStore(path: path)
        #expect(try await reopened.samples(.cpuPercent, of: store("acme-store"), from: t0, to: t0.addingTimeInterval(3600))
            .map(\.value) == [42])
        #expect(try await reopened.latestMetrics(stores: [store("acme-store")])[store("acme-store")]?[.memoryPercent] == 42)
        #expect(try await reopened.journal(after: 0, limit: 100).samples.count == 2)
        let left = try await DatabaseQueue(path: path).read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM sample_inbox") }
        #expect(left == 0)
    }
}
