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
