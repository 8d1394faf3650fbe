import BotCore
@testable import BotStore
import Foundation
import GRDB
import Testing
import TestSupport

/// The count of stored changes that lets a server give an answer again: it moves with every commit that changed what
/// is stored, and with nothing else.
@Suite struct StoredChangesTests {
    @Test func deliveryRecordsRollbacksAndWritesThatChangeNothingDoNotCount() async throws {
        let db = try SQLiteStore(path: try temporaryDatabase())
        let start = try #require(db.storedChanges)
        try await db.upsert(customer("acme-store"), at: t0)
        #expect(db.storedChanges == start + 1)

        let record = DeliveryRecord(source: "slack_command", key: "k-1", contentType: nil, body: [], at: t0)
        try await db.recordDeliveries([(record, StoredResponse(status: 200, body: Array("ok".utf8)))])
        #expect(db.storedChanges == start + 1, "a read-only command's record is not a change to what is shown")

        try await db.upsert(customer("acme-store"), at: t0.addingTimeInterval(60))
        #expect(db.storedChanges == start + 2)

        struct Abandoned: Error {}
        await #expect(throws: Abandoned.self) {
            try await db.pool.write { db in
                try db.execute(sql: "DELETE FROM customers")
                throw Abandoned()
            }
        }
        #expect(db.storedChanges == start + 2, "a transaction rolled back changed nothing")
        try await db.pool.write { db in try db.execute(sql: "UPDATE customers SET plan = plan WHERE id = 'no-such-store'") }
        #expect(db.storedChanges == start + 2, "a statement that changed no row changed nothing")
    }
}

/// Answered deliveries written after their answers (read-only commands): each once, as first recorded.
@Suite struct AnsweredDeliveryTests {
    @Test func eachIsWrittenOnceAndARepeatKeepsTheFirst() async throws {
        let db = try SQLiteStore(path: try temporaryDatabase())
        func record(_ key: String) -> DeliveryRecord {
            DeliveryRecord(source: "slack_command", key: key, contentType: "application/x-www-form-urlencoded",
                           body: Array("text=store+\(key)".utf8), at: t0)
        }
        try await db.recordDeliveries([(record("a"), StoredResponse(status: 200, body: [])),
                                       (record("b"), StoredResponse(status: 404, body: Array("{}".utf8)))])
        try await db.recordDeliveries([(record("a"), StoredResponse(status: 500, body: []))])
        #expect(try await db.deliveryCount(source: "slack_command") == 2)
        let rows = try await db.pool.read { db in
            try Row.fetchAll(db, sql: """
                SELECT idempotency_key, status, response_status, response_body IS NULL, retry_count, processed_at
                FROM webhook_deliveries ORDER BY idempotency_key
                """)
        }
        #expect(rows.map { $0[0] as String } == ["a", "b"])
        #expect(rows.map { $0[1] as String } == ["processed", "failed"])
        #expect(rows.map { $0[2] as Int } == [200, 404])
        #expect(rows.map { $0[3] as Bool } == [true, false])
        #expect(rows.map { $0[4] as Int } == [1, 0], "the repeat is counted, not written over the first")
        #expect(rows.map { $0[5] as Int64 } == [t0.unixSeconds, t0.unixSeconds])
    }
}
