import BotCore
import Foundation
import GRDB
import Logging
import Synchronization

/// Where pushed samples wait, durably, for the one writer that files them.
///
/// A push's transaction writes its delivery record and its new samples to `sample_inbox`, a small table appended at
/// its end: a handful of pages. Filing them (the raw samples, their hourly rollups, the newest values and the cycle's
/// journal, each a page of its own per store and metric) is done after the push is answered, by `fileInbox()`,
/// which takes every waiting sample, up to 5,000 a transaction. A push is acknowledged once its inbox rows are committed, so
/// a process killed before they are filed loses nothing: the store files what is left when it opens.
///
/// Every read of samples or what is made of them waits until what was acknowledged before it began is filed
/// (`settled()`), so a reader never misses a sample it could have seen.
final class SampleInbox: Sendable {
    private struct State {
        /// The highest inbox sequence number committed, and the highest filed.
        var arrived: Int64 = 0
        var filed: Int64 = 0
        var filing = false
        var waiters: [(target: Int64, continuation: CheckedContinuation<Void, Never>)] = []
    }

    private let state = Mutex(State())

    /// Notes that rows up to `seq` are committed; true when a filer must be started.
    func arrived(_ seq: Int64) -> Bool {
        state.withLock { state in
            state.arrived = max(state.arrived, seq)
            guard !state.filing else { return false }
            state.filing = true
            return true
        }
    }

    /// What the next filing pass must reach, or nil when everything is filed (and the filer stops).
    func nextTarget() -> Int64? {
        state.withLock { state in
            if state.filed >= state.arrived {
                state.filing = false
                return nil
            }
            return state.arrived
        }
    }

    /// Notes that rows up to `seq` are filed (or, after a failure, that readers must not wait for them), and wakes the
    /// readers waiting for no more than that.
    func filed(_ seq: Int64) {
        let ready = state.withLock { state in
            state.filed = max(state.filed, seq)
            let ready = state.waiters.filter { $0.target <= state.filed }
            state.waiters.removeAll { $0.target <= state.filed }
            return ready
        }
        for waiter in ready { waiter.continuation.resume() }
    }

    /// Returns once every sample acknowledged before the call is filed.
    func settled() async {
        let target = state.withLock { $0.arrived > $0.filed ? $0.arrived : nil }
        guard let target else { return }
        await withCheckedContinuation { continuation in
            let now = state.withLock { state in
                if state.filed >= target { return true }
                state.waiters.append((target, continuation))
                return false
            }
            if now { continuation.resume() }
        }
    }
}

extension SQLiteStore {
    static let inboxLogger = Logger(label: "perfbot.store")

    /// Samples filed per transaction at most, so a long backlog is filed in steps other writers can pass between.
    static let inboxStep = 5000

    /// Stores new samples in the inbox (in the caller's transaction): those already stored, or already waiting,
    /// are left out.
    /// - Returns: how many samples were new, and the highest inbox sequence number written (0 when none).
    static func enqueue(_ db: Database, _ samples: [MetricSample]) throws -> (inserted: Int, last: Int64) {
        let stored = try db.cachedStatement(sql: "SELECT 1 FROM metric_samples WHERE customer_id = ? AND metric = ? AND at = ?")
        var fresh: [MetricSample] = []
        fresh.reserveCapacity(samples.count)
        for sample in samples {
            let arguments: StatementArguments = [sample.store.rawValue, sample.metric.rawValue, sample.at.unixSeconds]
            if try Bool.fetchOne(stored, arguments: arguments) == nil { fresh.append(sample) }
        }
        var inserted = 0, last: Int64 = 0
        for start in stride(from: 0, to: fresh.count, by: insertBatch) {
            let part = fresh[start..<min(start + insertBatch, fresh.count)]
            var arguments: [(any DatabaseValueConvertible)?] = []
            arguments.reserveCapacity(part.count * 4)
            for sample in part {
                arguments += [sample.store.rawValue, sample.metric.rawValue, sample.at.unixSeconds, sample.value]
            }
            let marks = Array(repeating: "(?, ?, ?, ?)", count: part.count).joined(separator: ", ")
            let seqs = try Int64.fetchAll(db.cachedStatement(sql: """
                INSERT OR IGNORE INTO sample_inbox (customer_id, metric, at, value) VALUES \(marks) RETURNING seq
                """), arguments: StatementArguments(arguments))
            inserted += seqs.count
            last = max(last, seqs.max() ?? 0)
        }
        return (inserted, last)
    }

    /// Notes what a committed push put in the inbox and starts the filer if none runs.
    func inboxArrived(_ last: Int64) {
        guard last > 0, inbox.arrived(last) else { return }
        Task { await self.runFiler() }
    }

    /// Files until nothing acknowledged is left. When a pass fails, the readers waiting for it go on with what is
    /// filed, and the pass is tried again after a pause that grows to half a minute: the samples stay in the inbox.
    private func runFiler() async {
        while let target = inbox.nextTarget() {
            var failures = 0
            while true {
                do {
                    try await fileInbox()
                    break
                } catch {
                    failures += 1
                    if failures == 1 {
                        Self.inboxLogger.error("pushed samples could not be filed yet; they stay in the inbox",
                                               metadata: ["error": "\(error)"])
                        inbox.filed(target)
                    }
                    try? await Task.sleep(for: .seconds(min(30, failures)))
                }
            }
            inbox.filed(target)
        }
    }

    /// Files every sample waiting in the inbox, in steps of `inboxStep`, each one transaction.
    /// - Returns: how many samples were filed.
    @discardableResult
    func fileInbox() async throws -> Int {
        var total = 0
        let metrics = metrics
        while true {
            let moved = try await pool.write { db in try Self.fileInboxStep(db, metrics: metrics) }
            guard moved > 0 else { return total }
            total += moved
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
