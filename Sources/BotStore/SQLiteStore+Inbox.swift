import BotCore
import Foundation
import GRDB

/// The SQLite side of `SampleInbox`.
extension SQLiteStore {
    /// Samples filed per transaction at most, so a long backlog is filed in steps other writers can pass between.
    static let inboxStep = 5000

    /// Stores new samples in the inbox (in the caller's transaction): those already stored, or already waiting,
    /// are left out.
    /// - Returns: how many samples were new, and the highest inbox sequence number written (0 when none).
    static func enqueue(_ db: Database, _ samples: [MetricSample]) throws -> (inserted: Int, last: Int64) {
        var inserted = 0, last: Int64 = 0
        for start in stride(from: 0, to: samples.count, by: insertBatch) {
            let part = samples[start..<min(start + insertBatch, samples.count)]
            var arguments: [(any DatabaseValueConvertible)?] = []
            arguments.reserveCapacity(part.count * 4)
            for sample in part {
                arguments += [sample.store.rawValue, sample.metric.rawValue, sample.at.unixSeconds, sample.value]
            }
            // One statement a batch: the probe of what is stored runs inside SQLite, not once a sample from Swift. A
            // sample newer than its metric's newest value cannot be stored yet, so only the others are looked for among
            // the stored samples, whose index is the largest of the file and mostly out of its cache.
            let marks = Array(repeating: "(?, ?, ?, ?)", count: part.count).joined(separator: ", ")
            let seqs = try Int64.fetchAll(db.cachedStatement(sql: """
                INSERT OR IGNORE INTO sample_inbox (customer_id, metric, at, value)
                SELECT v.column1, v.column2, v.column3, v.column4 FROM (VALUES \(marks)) AS v
                WHERE CASE
                    WHEN v.column3 > (SELECT l.at FROM metric_latest l WHERE l.customer_id = v.column1 AND l.metric = v.column2)
                    THEN 1
                    ELSE NOT EXISTS (SELECT 1 FROM metric_samples s
                                     WHERE s.customer_id = v.column1 AND s.metric = v.column2 AND s.at = v.column3)
                END
                RETURNING seq
                """), arguments: StatementArguments(arguments))
            inserted += seqs.count
            last = max(last, seqs.max() ?? 0)
        }
        return (inserted, last)
    }

    /// Notes what a committed push put in the inbox and starts the filer if none runs.
    func inboxArrived(_ last: Int64) {
        let metrics = metrics
        inbox.arrived(last) { [pool] in
            try await pool.write { db in try Self.fileInboxStep(db, metrics: metrics) } < Self.inboxStep
        }
    }

    /// Files the next step of the inbox (at most `inboxStep` rows); 0 when it is empty.
    static func fileInboxStep(_ db: Database, metrics: MetricCatalogue) throws -> Int {
        guard let last = try Int64.fetchOne(db.cachedStatement(sql: """
            SELECT max(seq) FROM (SELECT seq FROM sample_inbox ORDER BY seq LIMIT ?)
            """), arguments: [inboxStep]) else { return 0 }
        return try fileInbox(db, through: last, metrics: metrics)
    }

    /// Files the inbox's samples up to `last` exactly as a direct insert files them (raw samples, rollups, newest
    /// values, journal) and takes them out of the inbox; those of a store removed meanwhile are dropped with it.
    /// - Returns: how many inbox rows were taken.
    static func fileInbox(_ db: Database, through last: Int64, metrics: MetricCatalogue) throws -> Int {
        let rows = try Row.fetchCursor(db.cachedStatement(sql: """
            SELECT i.customer_id, i.metric, i.at, i.value FROM sample_inbox i
            JOIN customers c ON c.id = i.customer_id WHERE i.seq <= ? ORDER BY i.seq
            """), arguments: [last])
        var samples: [MetricSample] = []
        while let row = try rows.next() {
            guard let store = StoreID(row[0]), let metric = metrics.metric(named: row[1]) else { continue }
            samples.append(MetricSample(store: store, metric: metric, at: Date(unixSeconds: row[2]), value: row[3]))
        }
        _ = try insert(db, samples)
        try db.cachedStatement(sql: "DELETE FROM sample_inbox WHERE seq <= ?").execute(arguments: [last])
        return db.changesCount
    }

    /// A read of samples, or of what is made of them: first waits until every acknowledged sample is filed.
    func sampleRead<T: Sendable>(_ body: @Sendable (Database) throws -> T) async throws -> T {
        await inbox.settled()
        return try await pool.read(body)
    }
}
