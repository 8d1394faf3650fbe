import BotCore
import BotPlaybooks
import Foundation

/// The slow query log, read incrementally into `slow_queries` (premium): slow queries counted by their own times.
public struct SlowLogCollector: MetricCollector {
    public let name = "slow_log"
    public let probe: ProbeKind? = .slowLog
    let slowQueries: any SlowQueryStore
    /// The most of a slow log read per store and round.
    let slowLogBytesPerCycle: Int
    /// When each store's slow log was last read (its recent counts start there).
    let lastRead = Memory<Date>()
    /// The database in effect where each store's cursor stands (MySQL names it only when it changes).
    let databaseInEffect = Memory<[UInt8]>()

    public init(slowQueries: any SlowQueryStore, slowLogBytesPerCycle: Int = 4 << 20) {
        self.slowQueries = slowQueries
        self.slowLogBytesPerCycle = slowLogBytesPerCycle
    }

    public func collect(_ context: CollectorContext) async throws -> [(MetricName, Double)] {
        let counts = try await ingest(context.customer, now: context.now, context: context)
        return [(.slowQueryCount, counts.slow), (.slowQuery3sCount, counts.over3s)]
    }

    /// Reads what the store's slow log gained since the last cycle (at most `slowLogBytesPerCycle`) into
    /// `slow_queries`, through the store's executor: `stat` for the file's identity and size, `dd` for the bytes.
    /// A new inode or a shorter file (rotation, truncation) starts over at 0; a log never read before starts
    /// at its last entries. - Returns: queries of 1 s or more, and of 3 s or more, since the last read.
    func ingest(_ customer: Customer, now: Date, context: CollectorContext) async throws -> (slow: Double, over3s: Double) {
        guard customer.plan.isPremium else { throw ProbeParseError.invalid("the slow-log collector is for premium plans") }
        guard let path = customer.settings[TemplateVariable.slowLog.rawValue], TemplateVariable.slowLog.accepts(path) else {
            throw ProbeParseError.invalid("set slow_log (the slow log's path) in the store's settings")
        }
        // A slow log is server-wide: only the entries of the store's own database (and account, where set) are its.
        guard let database = customer.settings[TemplateVariable.dbName.rawValue]
                ?? context.packs[customer.platform]?.templateDefaults(for: customer)[.dbName],
              TemplateVariable.dbName.accepts(database) else {
            throw ProbeParseError.invalid("set db_name in the store's settings: only its database's entries are read")
        }
        var tail = try await LogTail.read(path, cursor: try await slowQueries.slowLogCursor(customer.id), window: Int64(slowLogBytesPerCycle),
                                          context: context)
        let since = lastRead.swap(customer.id, now) ?? now.addingTimeInterval(-60)
        guard !tail.bytes.isEmpty else {
            try await slowQueries.recordSlowQueries(customer.id, hours: [], cursor: tail.cursor(after: 0), at: now)
            return (0, 0)
        }
        var skipped = 0
        if tail.startedInside {
            // Started inside the file: begin at the first whole entry.
            guard let start = SlowLogIngest.firstEntry(in: tail.bytes) else { return (0, 0) }
            tail.bytes.removeFirst(start)
            skipped = start
        }
        var ingest = SlowLogIngest(recentSince: since, database: database, user: customer.settings[TemplateVariable.dbUser.rawValue])
        // Unknown after a restart or a rotation: entries before the next `use`/`Schema:` are left out, never guessed.
        ingest.databaseInEffect = tail.offset == 0 || tail.startedInside ? [] : databaseInEffect[customer.id] ?? []
        let reachedEnd = tail.offset + Int64(skipped + tail.bytes.count) == tail.size
        ingest.read(tail.bytes, complete: reachedEnd && tail.bytes.suffix(2) == [UInt8(ascii: ";"), 10], fallbackTime: now)
        let cursor = tail.cursor(after: skipped + Int(ingest.consumed))
        databaseInEffect[customer.id] = ingest.databaseInEffect
        try await slowQueries.recordSlowQueries(customer.id, hours: ingest.hours, cursor: cursor, at: now)
        return (Double(ingest.recentSlow), Double(ingest.recentOver3s))
    }
}
