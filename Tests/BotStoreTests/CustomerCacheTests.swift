import BotCore
import BotStore
import Foundation
import GRDB
import Testing
import TestSupport

/// A check cycle reads every store each time; they are read from the file again only when `customers_version`
/// moved, which every column they are read with moves, from this process or another writing the same file, and
/// which the cycle's own writes of the last health score leave alone.
@Suite struct CustomerCacheTests {
    @Test func theStoresAreReadAgainWhenAnythingTheyAreReadWithChangesAndOnlyThen() async throws {
        let path = try temporaryDatabase()
        let store = try SQLiteStore(path: path)
        try await store.upsert([customer("acme-store"), customer("beta-shop")], at: t0)
        #expect(try await store.allCustomers().map { $0.active } == [true, true])
        // Another process (`perfbot customers …` beside `perfbot serve`) writing the file.
        let other = try DatabaseQueue(path: path)
        func version() async throws -> Int64 {
            try await other.read { try #require(try Int64.fetchOne($0, sql: "SELECT version FROM customers_version")) }
        }
        try await other.write { try $0.execute(sql: "UPDATE customers SET active = 0 WHERE id = 'beta-shop'") }
        #expect(try await store.allCustomers().map { $0.active } == [true, false])

        let scored = try await version()
        try await store.writeSnapshots([SnapshotRecord(store: StoreID("acme-store")!, score: 80, metrics: MetricSnapshot())], at: t0)
        #expect(try await version() == scored, "a cycle's score is no change to the stores")
        #expect(try await store.allCustomers().map { $0.id.rawValue } == ["acme-store", "beta-shop"])

        for column in CustomerRow.columns.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespacesAndNewlines) }) {
            let before = try await version()
            try await other.write { try $0.execute(sql: "UPDATE customers SET \(column) = \(column) WHERE id = 'acme-store'") }
            #expect(try await version() > before, "an update of \(column)")
        }
        try await other.write { try $0.execute(sql: "DELETE FROM customers WHERE id = 'beta-shop'") }
        #expect(try await store.allCustomers().map { $0.id.rawValue } == ["acme-store"])
        try await store.upsert(customer("gamma-shop"), at: t0)
        #expect(try await store.allCustomers().map { $0.id.rawValue } == ["acme-store", "gamma-shop"])
    }
}
