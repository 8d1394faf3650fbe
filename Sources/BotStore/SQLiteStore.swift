import BotCore
import Foundation
import GRDB
import GRDBSQLite
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// perfbot's storage on one SQLite file: WAL, a busy timeout, foreign keys on, migrations at open.
public final class SQLiteStore: Sendable {
    /// The GRDB pool (readers run concurrently with the single writer).
    let pool: DatabasePool
    /// The database file.
    public let path: String
    /// The metrics it reads back from its rows: the core's, and the packs' where the wiring passes them. A row
    /// of a metric it does not know is left out.
    public let metrics: MetricCatalogue
    /// Pushed samples acknowledged and not yet filed (see `SampleInbox`).
    let inbox = SampleInbox()
    /// Copies the write-ahead log into the file beside the writer.
    let checkpointer: Checkpointer
    /// Counts the commits that changed what is stored (see `StoredChanges`).
    let changes = ChangeCounter()
    let customerCache = CustomerCache()

    /// Opens (creating if needed) the database at `path` and applies pending migrations.
    public init(path: String, metrics: MetricCatalogue = .core) throws {
        self.metrics = metrics
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        configuration.foreignKeysEnabled = true
        Self.restrictMode(path)
        let checkpointer = try Checkpointer(path: path)
        self.checkpointer = checkpointer
        let signal = CheckpointSignal(checkpointer)
        _ = Unmanaged.passRetained(signal)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            // SQLite's automatic checkpoint would run in whichever commit crossed a thousand pages, and every write
            // queued behind it would wait: the same signal hands it to the `Checkpointer` instead.
            sqlite3_wal_hook(db.sqliteConnection, checkpointHook, Unmanaged.passUnretained(signal).toOpaque())
        }
        pool = try DatabasePool(path: path, configuration: configuration)
        self.path = path
        // SQLite gives the -wal and -shm files the database file's mode; older files are tightened here.
        for suffix in ["", "-wal", "-shm"] { Self.restrictMode(path + suffix, create: false) }
        try Migrations.migrator().migrate(pool)
        pool.add(transactionObserver: changes, extent: .observerLifetime)
        // What a stopped process acknowledged and did not file is filed before anything reads.
        try fileInboxNow()
    }

    /// Files every sample left in the inbox, synchronously (at open, and before an export).
    func fileInboxNow() throws {
        let metrics = metrics
        try pool.write { db in
            while try Self.fileInboxStep(db, metrics: metrics) > 0 {}
        }
    }

    /// Creates the file readable and writable by its owner only (0600), or tightens an existing one: it holds
    /// raw mail and unsent tokens.
    static func restrictMode(_ path: String, create: Bool = true) {
        if create, !FileManager.default.fileExists(atPath: path) {
            let descriptor = open(path, O_CREAT | O_WRONLY, 0o600)
            if descriptor >= 0 { _ = Glibc.close(descriptor) }
        }
        if FileManager.default.fileExists(atPath: path) { chmod(path, 0o600) }
    }

    /// The names of the migrations applied so far, oldest first.
    public func appliedMigrations() async throws -> [String] {
        try await pool.read { db in try Migrations.migrator().appliedMigrations(db) }
    }

    /// The journal mode in force (`wal`).
    public func journalMode() async throws -> String {
        try await pool.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") ?? "" }
    }

    /// The names of the tables, sorted.
    public func tableNames() async throws -> [String] {
        try await pool.read { db in
            try String.fetchAll(db, sql: """
                SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'
                AND name NOT LIKE 'grdb_%' ORDER BY name
                """)
        }
    }
}

/// Checkpoints the write-ahead log from a connection of its own when a commit leaves a thousand pages or more in it
/// (SQLite's own threshold), so no writer's commit ever copies pages into the database file and nothing queued for the
/// writer waits for that. A passive checkpoint waits for no reader and no writer; the next write starts the log over
/// once it is all copied. It runs on a dispatch queue of its own, and its connection is closed before the store is gone.
final class Checkpointer: Sendable {
    private let connection: DatabaseQueue
    private let queue = DispatchQueue(label: "perfbot.store.checkpoint", qos: .utility)
    /// Whether a checkpoint is queued and not yet started.
    private final class Pending: Sendable { let flag = Atomic(false) }
    private let pending = Pending()

    init(path: String) throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        connection = try DatabaseQueue(path: path, configuration: configuration)
    }

    /// Asks for a checkpoint; one asked for while another waits to run is the same one.
    func request() {
        guard pending.flag.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else { return }
        // Not `self`: the store may be gone by then, and its checkpointer must not end on its own queue.
        queue.async { [connection, pending] in
            pending.flag.store(false, ordering: .releasing)
            _ = try? connection.writeWithoutTransaction { db in try db.checkpoint(.passive) }
        }
    }

    deinit {
        // After a checkpoint under way.
        queue.sync { [connection] in try? connection.close() }
    }
}

/// What the write-ahead-log hook of a connection holds: the store's checkpointer, for as long as it lives. One small
/// box per opened store is never freed (SQLite keeps its address for the connection's life).
final class CheckpointSignal: @unchecked Sendable {
    weak var checkpointer: Checkpointer?
    init(_ checkpointer: Checkpointer) { self.checkpointer = checkpointer }
}

/// Called by SQLite after each commit with the pages now in the write-ahead log.
private let checkpointHook: @convention(c) (UnsafeMutableRawPointer?, OpaquePointer?, UnsafePointer<CChar>?, Int32) -> Int32 = {
    context, _, _, pages in
    if pages >= 1000, let context {
        Unmanaged<CheckpointSignal>.fromOpaque(context).takeUnretainedValue().checkpointer?.request()
    }
    return SQLITE_OK
}
