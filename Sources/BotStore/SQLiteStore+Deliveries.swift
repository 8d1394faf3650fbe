import BotCore
import Foundation
import GRDB

extension SQLiteStore {
    /// Records an accepted delivery; a key seen before is a retry, counted, and not acted on again
    /// unless its first handling failed.
    public func admitDelivery(_ record: DeliveryRecord) async throws -> DeliveryAdmission {
        try await pool.write { db in try Self.admit(db, record) }
    }

    /// Marks a delivery handled and keeps the answer given.
    public func finishDelivery(key: String, succeeded: Bool, response: StoredResponse, at: Date) async throws {
        try await finishDelivery(key: key, succeeded: succeeded, response: response, messages: [], at: at)
    }

    /// Marks a delivery handled and queues the messages it caused, in one transaction.
    public func finishDelivery(key: String, succeeded: Bool, response: StoredResponse,
                               messages: [Addressed], at: Date) async throws {
        try await pool.write { db in
            try Self.finish(db, key: key, succeeded: succeeded, response: response, at: at)
            for message in messages {
                try Self.enqueue(db, message, at: at)
            }
        }
    }

    /// Records a delivery already answered (work without side effects) with its answer, in one transaction.
    /// A key seen before is counted as a retry and its first answer returned.
    public func recordDelivery(_ record: DeliveryRecord, response: StoredResponse) async throws -> DeliveryResult {
        try await pool.write { db in
            if case let .duplicate(_, stored) = try Self.admit(db, record) { return .duplicate(stored) }
            try Self.finish(db, key: record.key, succeeded: response.succeeded, response: response, at: record.at)
            return .fresh(response)
        }
    }

    /// All in one write transaction: the batch of read-only commands' records the server's recorder hands over.
    public func recordDeliveries(_ answered: [(record: DeliveryRecord, response: StoredResponse)]) async throws {
        try await pool.write { db in
            // Each is one insert, done when it is written; a key already recorded takes the two steps a retry takes.
            let insert = try db.cachedStatement(sql: """
                INSERT OR IGNORE INTO webhook_deliveries (source, idempotency_key, received_at, content_type, body, status,
                                                          response_status, response_body, processed_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            for (record, response) in answered {
                try insert.execute(arguments: [record.source, record.key, record.at.unixSeconds, record.contentType,
                                               Data(record.body), StoredResponse.recordedStatus(succeeded: response.succeeded),
                                               response.status, response.body.isEmpty ? nil : Data(response.body),
                                               record.at.unixSeconds])
                if db.changesCount > 0 { continue }
                if case .duplicate = try Self.admit(db, record) { continue }
                try Self.finish(db, key: record.key, succeeded: response.succeeded, response: response, at: record.at)
            }
        }
    }

    /// At start-up: deliveries still `received` were being handled when the last process stopped (a crash,
    /// a kill). They are marked failed, so that the sender's retry is handled afresh instead of being told
    /// "being handled" forever. Call only before serving: a running process's deliveries are `received` too.
    /// - Returns: how many there were.
    @discardableResult
    public func releaseInterruptedDeliveries(at: Date) async throws -> Int {
        try await pool.write { db in
            try db.execute(sql: "UPDATE webhook_deliveries SET status = 'failed', processed_at = ? WHERE status = 'received'",
                           arguments: [at.unixSeconds])
            return db.changesCount
        }
    }

    static func admit(_ db: Database, _ record: DeliveryRecord) throws -> DeliveryAdmission {
        try db.cachedStatement(sql: """
            INSERT OR IGNORE INTO webhook_deliveries (source, idempotency_key, received_at, content_type, body)
            VALUES (?, ?, ?, ?, ?)
            """).execute(arguments: [record.source, record.key, record.at.unixSeconds, record.contentType, Data(record.body)])
        if db.changesCount > 0 { return .fresh(id: db.lastInsertedRowID) }
        try db.cachedStatement(sql: "UPDATE webhook_deliveries SET retry_count = retry_count + 1 WHERE idempotency_key = ?")
            .execute(arguments: [record.key])
        let row = try Row.fetchOne(db.cachedStatement(sql: """
            SELECT id, response_status, response_body, status FROM webhook_deliveries WHERE idempotency_key = ?
            """), arguments: [record.key])
        guard let row else { return .fresh(id: 0) }
        // A delivery whose handling failed did not act: its retry is handled afresh.
        if row[3] == "failed" {
            try db.execute(sql: """
                UPDATE webhook_deliveries SET status = 'received', response_status = NULL, response_body = NULL WHERE id = ?
                """, arguments: [row[0]])
            return .fresh(id: row[0])
        }
        let status: Int? = row[1]
        let body: Data? = row[2]
        return .duplicate(id: row[0], response: status.map { StoredResponse(status: $0, body: Array(body ?? Data())) })
    }

    static func finish(_ db: Database, key: String, succeeded: Bool, response: StoredResponse, at: Date) throws {
        try db.cachedStatement(sql: """
            UPDATE webhook_deliveries SET status = ?, response_status = ?, response_body = ?, processed_at = ?
            WHERE idempotency_key = ?
            """).execute(arguments: [StoredResponse.recordedStatus(succeeded: succeeded), response.status, Data(response.body),
                                     at.unixSeconds, key])
    }

    /// One delivery as recorded: (source, status, retry count, body).
    public func delivery(id: Int64) async throws -> (source: String, status: String, retries: Int, body: [UInt8])? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT source, status, retry_count, body FROM webhook_deliveries WHERE id = ?",
                             arguments: [id]).map { row in
                let body: Data = row[3]
                return (row[0], row[1], row[2], Array(body))
            }
        }
    }

    /// How many deliveries are recorded for `source`.
    public func deliveryCount(source: String) async throws -> Int {
        try await pool.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM webhook_deliveries WHERE source = ?", arguments: [source]) ?? 0
        }
    }
}

extension SQLiteStore: ServerStore {}
