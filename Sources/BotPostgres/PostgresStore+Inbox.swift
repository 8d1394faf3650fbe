import BotCore
import BotStore
import Foundation
import Logging
import PostgresNIO

/// The PostgreSQL side of `SampleInbox`: a push writes its samples to `sample_inbox` and is answered; this replica's
/// filer moves them into the samples, rollups, newest values and journal right after, in batches.
///
/// Any replica files any replica's rows: a filing pass locks the rows it takes, in order, and waits for a pass of
/// another replica that holds them, so when a pass finds nothing left, every row committed before it began is filed
/// and committed. A replica killed before filing loses nothing: the next pass of any replica files its rows.
extension PostgresStore {
    /// Samples filed per statement at most.
    static let inboxStep = 5000

    /// Notes what a committed push put in the inbox and starts the filer if none runs.
    func inboxArrived(_ last: Int64) {
        inbox.arrived(last) { [database] in
            try await Self.fileInboxStep(database) < Self.inboxStep
        }
    }

    /// Files the next `inboxStep` samples waiting. - Returns: how many were taken from the inbox.
    static func fileInboxStep(_ database: PostgresPool) async throws -> Int {
        try await database.execute(FileInboxStatement()).first ?? 0
    }

    /// Files every sample waiting in the inbox, this replica's and any other's, in steps of `inboxStep` (at start, by
    /// the filer, and before the check cycle reads the journal).
    /// - Returns: how many samples were taken from the inbox.
    @discardableResult
    public func fileInbox() async throws -> Int {
        var total = 0
        while true {
            let moved = try await Self.fileInboxStep(database)
            guard moved > 0 else { return total }
            total += moved
        }
    }

    /// What follows from `new`, the samples just stored: their hourly rollups, the newest values and the journal,
    /// grouped per row they change and taken in key order (so two statements filing at once lock rows in one order),
    /// leaving what one statement per sample would.
    static let filedFromNew = """
        rollups AS (
            INSERT INTO metric_rollups AS r (customer_id, metric, hour, count, sum, min, max)
            SELECT customer_id, metric, at - at % 3600, COUNT(*), SUM(value), MIN(value), MAX(value) FROM new
            GROUP BY customer_id, metric, at - at % 3600 ORDER BY customer_id, metric, at - at % 3600
            ON CONFLICT (customer_id, metric, hour) DO UPDATE SET
                count = r.count + EXCLUDED.count, sum = r.sum + EXCLUDED.sum,
                min = LEAST(r.min, EXCLUDED.min), max = GREATEST(r.max, EXCLUDED.max)
        ), latest AS (
            INSERT INTO metric_latest AS l (customer_id, metric, at, value)
            SELECT DISTINCT ON (customer_id, metric) customer_id, metric, at, value FROM new ORDER BY customer_id, metric, at DESC
            ON CONFLICT (customer_id, metric) DO UPDATE SET at = EXCLUDED.at, value = EXCLUDED.value
            WHERE EXCLUDED.at >= l.at
        ), journal AS (
            INSERT INTO sample_journal (customer_id, metric, at, value) SELECT customer_id, metric, at, value FROM new
        )
        """

    /// A read of samples, or of what is made of them: first waits until every sample this replica acknowledged is
    /// filed.
    func sampleRows(_ query: PostgresQuery) async throws -> [PostgresRow] {
        await inbox.settled()
        return try await database.rows(query)
    }
}

/// Files the next `PostgresStore.inboxStep` samples of the inbox, in the order they came (see `fileInbox()`). It
/// commits without waiting for the disk, as the pushes it files did: moving rows out of the inbox is one statement,
/// so a crash of the database's machine either keeps it or leaves the rows in the inbox to be filed again.
struct FileInboxStatement: PostgresPreparedStatement {
    static let name = "perfbot_file_inbox_1"
    static let sql = """
        WITH durability AS (
            SELECT set_config('synchronous_commit', 'off', true) AS setting
        ), taken AS (
            DELETE FROM sample_inbox WHERE seq IN (SELECT seq FROM sample_inbox ORDER BY seq LIMIT \(PostgresStore.inboxStep) FOR UPDATE)
            RETURNING seq, customer_id, metric, at, value
        ), new AS (
            INSERT INTO metric_samples (customer_id, metric, at, value)
            SELECT t.customer_id, t.metric, t.at, t.value FROM taken t JOIN customers c ON c.id = t.customer_id ORDER BY t.seq
            ON CONFLICT DO NOTHING
            RETURNING customer_id, metric, at, value
        ), \(PostgresStore.filedFromNew)
        SELECT COUNT(*) FROM taken, durability
        """

    func makeBindings() throws -> PostgresBindings { PostgresBindings() }

    func decodeRow(_ row: PostgresRow) throws -> Int { try row.decode(Int.self) }
}
