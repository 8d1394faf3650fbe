import BotCore
import Foundation
import Logging
import PostgresNIO

/// One leader among the replicas that share a PostgreSQL database, through a lease row (`perfbot_leader`).
///
/// Each replica campaigns every quarter of `lease`: the holder renews the row, and another replica takes it only once
/// it has expired by the database's clock. A replica counts itself leader until `lease` after the start of its last
/// successful renewal, by its own monotonic clock, so it stops leading before anyone else can begin. A leader killed
/// with SIGKILL is replaced within one lease; `resign()` hands over at once on a clean stop.
public actor PostgresLeadership: Leadership {
    /// This replica, as the row and the logs name it (host, process and a random part).
    public nonisolated let identity: String
    let database: PostgresPool
    let lease: Duration
    let logger: Logger
    /// Told each time leadership is gained or lost (the `perfbot_leader` gauge).
    let observe: @Sendable (Bool) -> Void
    private var leadsUntil: ContinuousClock.Instant?
    public private(set) var term: Int64?
    /// What `observe` was last told.
    private var reported: Bool?

    public init(database: PostgresPool, identity: String = PostgresLeadership.defaultIdentity(), lease: Duration,
                logger: Logger, observe: @escaping @Sendable (Bool) -> Void = { _ in }) {
        self.database = database
        self.identity = identity
        self.lease = lease
        self.logger = logger
        self.observe = observe
    }

    /// `host:pid:random`: unique per process, readable in the row and the logs.
    public static func defaultIdentity() -> String {
        "\(ProcessInfo.processInfo.hostName):\(ProcessInfo.processInfo.processIdentifier):"
            + String(UInt32.random(in: 0...UInt32.max), radix: 16)
    }

    public func isLeader() -> Bool {
        guard let leadsUntil else { return false }
        return ContinuousClock.now < leadsUntil
    }

    public func leadingTerm() -> Int64? {
        isLeader() ? term : nil
    }

    /// One round: renews the lease when this replica holds it, takes it when it has expired. Returns whether this
    /// replica leads now. A failed round leaves the replica leading only until its last lease runs out.
    @discardableResult
    public func campaign() async -> Bool {
        let started = ContinuousClock.now
        let seconds = lease.timeInterval
        do {
            let rows = try await database.rows("""
                INSERT INTO perfbot_leader AS l (id, holder, term, acquired_at, expires_at)
                VALUES (1, \(identity), 1, now(), now() + make_interval(secs => \(seconds)))
                ON CONFLICT (id) DO UPDATE SET
                    term = CASE WHEN l.holder = EXCLUDED.holder THEN l.term ELSE l.term + 1 END,
                    acquired_at = CASE WHEN l.holder = EXCLUDED.holder THEN l.acquired_at ELSE now() END,
                    holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at
                WHERE l.holder = EXCLUDED.holder OR l.expires_at <= now()
                RETURNING term
                """)
            if let row = rows.first {
                term = try row.decode(Int64.self)
                leadsUntil = started + lease
            } else {
                leadsUntil = nil
            }
        } catch {
            logger.warning("leader lease not renewed", metadata: ["replica": "\(identity)", "error": "\(String(reflecting: error))"])
        }
        let leads = isLeader()
        await report(leads)
        return leads
    }

    /// Logs and tells `observe` when leadership changed since the last report (and the first time).
    private func report(_ leads: Bool) async {
        guard leads != reported else { return }
        if leads {
            logger.notice("this replica leads", metadata: ["replica": "\(identity)", "term": "\(term.map(String.init) ?? "?")"])
        } else if reported == true {
            let leader = (try? await holder()) ?? nil
            logger.warning("this replica no longer leads", metadata: ["replica": "\(identity)", "leader": "\(leader ?? "none yet")"])
        }
        reported = leads
        observe(leads)
    }

    /// The replica that holds the lease, if one does.
    public func holder() async throws -> String? {
        try await database.rows("SELECT holder FROM perfbot_leader WHERE id = 1 AND expires_at > now()")
            .first.map { try $0.decode(String.self) }
    }

    /// Gives the lease up at once (a clean stop), so another replica takes over at its next round.
    public func resign() async {
        leadsUntil = nil
        reported = false
        observe(false)
        do {
            try await database.execute("UPDATE perfbot_leader SET expires_at = now() WHERE id = 1 AND holder = \(identity)")
            logger.notice("this replica resigned the lead", metadata: ["replica": "\(identity)"])
        } catch {
            logger.warning("could not resign the lead", metadata: ["error": "\(String(reflecting: error))"])
        }
    }

    /// Campaigns every quarter of the lease until cancelled, then resigns.
    public func run() async {
        while !Task.isCancelled {
            await campaign()
            do { try await Task.sleep(for: lease / 4) } catch { break }
        }
        await resign()
    }
}

/// `perfbot serve`'s campaign: runs beside the other services.
public struct LeadershipService: BotService {
    public let name = "leadership"
    let leadership: PostgresLeadership

    public init(_ leadership: PostgresLeadership) { self.leadership = leadership }

    public func run() async throws { await leadership.run() }
}
