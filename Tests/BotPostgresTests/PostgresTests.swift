import BotChannels
import BotCore
@testable import BotPostgres
import BotStore
import Foundation
import GRDB
import Logging
import PostgresNIO
import Testing
import TestSupport

let t0 = Date(timeIntervalSince1970: 1_800_000_000)

func temporarySQLite() throws -> String {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("perfbot-pg-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    return directory.appendingPathComponent("perfbot.sqlite").path
}

func shop(_ name: String) -> Customer {
    Customer(id: StoreID(name)!, platform: .woocommerce, plan: .premium, contactEmail: "owner@\(name).example",
             container: "\(name)-app", limits: ResourceLimits(memoryMB: 2048, cpuCores: 1.5, diskGB: 40),
             catalogSize: 1200, ordersPerDay: 80, settings: ["db_name": "shop"])
}

@Suite struct PostgresEndpointTests {
    @Test func readsTCPAndSocketURLsAndNeverPrintsThePassword() throws {
        let tcp = try PostgresEndpoint(url: "postgres://bot:s3cret%21@db.internal:6432/perfbot?sslmode=require")
        #expect(tcp.address == .tcp(host: "db.internal", port: 6432))
        #expect(tcp.username == "bot" && tcp.password == "s3cret!" && tcp.database == "perfbot" && tcp.tls == .require)
        #expect(tcp.description == "postgres://bot:***@db.internal:6432/perfbot")
        let socket = try PostgresEndpoint(url: "postgresql://bot@/perfbot?host=/run/postgresql")
        #expect(socket.address == .socket(directory: "/run/postgresql", port: 5432))
        #expect(socket.tls == .prefer)
        // What a message shows reads back as the same place.
        let other = try PostgresEndpoint(url: "postgres://bot@:6543/perfbot?host=/run/postgresql")
        #expect(other.address == .socket(directory: "/run/postgresql", port: 6543))
        #expect(try PostgresEndpoint(url: other.description).address == other.address)
        #expect(try PostgresEndpoint(url: socket.description).address == socket.address)
    }

    @Test func refusesWhatItCannotUseAndSaysWhy() {
        let cases = [
            ("mysql://bot@db/perfbot", "starts with postgres://"),
            ("postgres://db.internal/perfbot", "names no user"),
            ("postgres://bot:pw@db.internal/", "names no database"),
            ("postgres://bot:pw@db.internal/perfbot?sslmode=verify-full", "sslmode is one of"),
            ("postgres://bot:pw@db.internal/perfbot?timeout=3", "unknown URL option timeout"),
        ]
        for (url, reason) in cases {
            do {
                _ = try PostgresEndpoint(url: url)
                Issue.record("\(url) was accepted")
            } catch {
                #expect("\(error)".contains(reason), "\(url): \(error)")
                #expect(!"\(error)".contains("pw"))
            }
        }
    }
}

@Suite struct PostgresSchemaTests {
    /// Every table and column of the SQLite file exists in PostgreSQL with the matching type, so a copy loses
    /// nothing; a SQLite migration without its PostgreSQL twin fails here.
    @Test func theSchemaMatchesSQLitesTableByTableAndColumnByColumn() async throws {
        let path = try temporarySQLite()
        _ = try SQLiteStore(path: path)
        let sqlite = try DatabaseQueue(path: path)
        let expected: Set<String> = try await sqlite.read { db in
            var columns: Set<String> = []
            for table in try String.fetchAll(db, sql: """
                SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'grdb_%'
                """) {
                for row in try Row.fetchAll(db, sql: "SELECT name, type FROM pragma_table_info(?)", arguments: [table]) {
                    let type: String = switch row["type"] as String {
                    case "INTEGER": "bigint"
                    case "REAL": "double precision"
                    case "BLOB": "bytea"
                    default: "text"
                    }
                    columns.insert("\(table).\(row["name"] as String) \(type)")
                }
            }
            return columns
        }
        try await PostgresTestDatabase.with("schema") { database in
            // What only replicas need: the lease, the live replicas, and who claimed a message or a job.
            let replicasOnly = ["outbox.claimed_by text", "outbox.claimed_until timestamp with time zone", "outbox.sent_by text",
                                "jobs.run_by text"]
            let actual = Set(try await database.columns().filter { !$0.hasPrefix("perfbot_") }.filter { !replicasOnly.contains($0) })
            #expect(actual == expected, "only in PostgreSQL: \(actual.subtracting(expected).sorted()); only in SQLite: \(expected.subtracting(actual).sorted())")
        }
    }

    @Test func replicasStartingTogetherMigrateOnce() async throws {
        let endpoint = try await PostgresTestDatabase.create("migrate")
        let logger = PostgresTestDatabase.logger
        async let first = PostgresPool.with(endpoint, logger: logger) { try await $0.migrate() }
        async let second = PostgresPool.with(endpoint, logger: logger) { try await $0.migrate() }
        let (a, b) = try await (first, second)
        #expect((a + b).sorted() == ["1-schema-as-sqlite-v17", "2-replicas", "3-job-claims", "4-scheduled-jobs", "5-admin-factors", "6-fleet-health-daily", "7-traffic", "8-sample-inbox", "9-customers-version"])
        #expect(a.isEmpty || b.isEmpty)
        let again = try await PostgresPool.with(endpoint, logger: logger) { database in
            (try await database.migrate(), try await database.appliedMigrations())
        }
        #expect(again.0.isEmpty)
        #expect(again.1 == ["1-schema-as-sqlite-v17", "2-replicas", "3-job-claims", "4-scheduled-jobs", "5-admin-factors", "6-fleet-health-daily", "7-traffic", "8-sample-inbox", "9-customers-version"])
    }
}

@Suite struct PostgresLeadershipTests {
    @Test func oneReplicaLeadsAndAnotherTakesOverWhenItsLeaseLapses() async throws {
        try await PostgresTestDatabase.with("leader") { database in
            let logger = PostgresTestDatabase.logger
            let changes = LockedList<String>()
            let a = PostgresLeadership(database: database, identity: "replica-a", lease: .seconds(2), logger: logger,
                                       observe: { changes.append("a:\($0)") })
            let b = PostgresLeadership(database: database, identity: "replica-b", lease: .seconds(2), logger: logger,
                                       observe: { changes.append("b:\($0)") })
            #expect(await a.campaign())
            #expect(await !b.campaign())
            #expect(await a.campaign(), "the holder renews")
            #expect(await !b.campaign(), "the renewed lease has not lapsed")
            #expect(try await b.holder() == "replica-a")
            // `a` stops renewing, as a replica killed with SIGKILL would: `b` waits out the lease, no longer.
            try await Task.sleep(for: .milliseconds(2200))
            #expect(await !a.isLeader(), "a replica stops counting itself leader when its own lease ends")
            #expect(await b.campaign())
            #expect(await b.term == 2)
            #expect(await !a.campaign(), "the old leader does not take the lease back")
            // A clean stop hands over at once.
            await b.resign()
            #expect(await a.campaign())
            #expect(await a.term == 3)
            #expect(changes.values == ["a:true", "b:false", "b:true", "a:false", "b:false", "a:true"])
        }
    }

    @Test func aPeriodicServiceWorksOnlyWhileItsReplicaLeads() async throws {
        try await PostgresTestDatabase.with("leaderonly") { database in
            let logger = PostgresTestDatabase.logger
            let other = PostgresLeadership(database: database, identity: "other", lease: .seconds(30), logger: logger)
            let mine = PostgresLeadership(database: database, identity: "mine", lease: .seconds(30), logger: logger)
            #expect(await other.campaign())
            #expect(await !mine.campaign())
            let rounds = LockedList<Int>()
            let clock = ManualClock(t0)
            let service = PeriodicService(name: "cycle", every: .seconds(1), clock: clock, logger: logger, leadership: mine) {
                rounds.append(1)
            }
            let running = Task { try await service.run() }
            for _ in 0..<5 { clock.advance(by: 1); await Task.yield() }
            #expect(rounds.values.isEmpty, "a follower runs no round")
            await other.resign()
            #expect(await mine.campaign())
            for _ in 0..<5 where rounds.values.isEmpty {
                clock.advance(by: 1)
                try await Task.sleep(for: .milliseconds(20))
            }
            running.cancel()
            #expect(!rounds.values.isEmpty, "the leader runs its rounds")
        }
    }
}

@Suite struct PostgresOutboxTests {
    @Test func twoReplicasClaimEachMessageOnce() async throws {
        try await PostgresTestDatabase.with("claims", connections: 8) { database in
            let first = PostgresStore(database: database, replica: "r1")
            let second = PostgresStore(database: database, replica: "r2")
            for index in 0..<60 {
                try await first.enqueue(.slack("#alerts", .text("message \(index)")), at: t0)
            }
            async let a = Self.drain(first)
            async let b = Self.drain(second)
            let (claimedA, claimedB) = try await (a, b)
            #expect(Set(claimedA).isDisjoint(with: claimedB))
            #expect((claimedA + claimedB).sorted() == Array(1...60).map(Int64.init))
            #expect(try await first.dueMessages(now: t0, limit: 100).isEmpty, "claimed messages are not handed out again")
        }
    }

    static func drain(_ store: PostgresStore) async throws -> [Int64] {
        var claimed: [Int64] = []
        // Bounded: a store that handed claimed messages out again would never run dry.
        for _ in 0..<30 {
            let due = try await store.dueMessages(now: t0, limit: 7)
            if due.isEmpty { break }
            claimed += due.map(\.id)
        }
        return claimed
    }

    @Test func aClaimOfAReplicaThatDiedLapsesAndAnotherSendsTheMessage() async throws {
        try await PostgresTestDatabase.with("lapse") { database in
            let dead = PostgresStore(database: database, replica: "dead", claim: .milliseconds(500))
            let alive = PostgresStore(database: database, replica: "alive", claim: .seconds(60))
            let id = try await dead.enqueue(.slack("#alerts", .text("disk almost full")), at: t0)
            #expect(try await dead.dueMessages(now: t0, limit: 10).map(\.id) == [id])
            #expect(try await alive.dueMessages(now: t0, limit: 10).isEmpty)
            try await Task.sleep(for: .milliseconds(700))
            #expect(try await alive.dueMessages(now: t0, limit: 10).map(\.id) == [id])
            try await alive.markSent(id, at: t0)
            #expect(try await alive.outboxEntries().map(\.sentBy) == ["alive"])
        }
    }

    /// A replica killed with messages in hand: its claim is long, but it lapses once the replica stops heartbeating,
    /// so the others send them within a lease. A live replica's claim, and a claim by one that never beat, hold.
    @Test func aClaimLapsesWhenItsReplicaStopsHeartbeating() async throws {
        try await PostgresTestDatabase.with("beatlapse") { database in
            let dying = PostgresStore(database: database, replica: "dying", claim: .seconds(120))
            let living = PostgresStore(database: database, replica: "living", claim: .seconds(120))
            let silent = PostgresStore(database: database, replica: "silent", claim: .seconds(120))
            try await dying.heartbeat(for: .seconds(60))
            try await living.heartbeat(for: .seconds(60))
            let held = try await dying.enqueue(.slack("#alerts", .text("cache hit rate fell")), at: t0)
            #expect(try await dying.dueMessages(now: t0, limit: 10).map(\.id) == [held])
            let kept = try await living.enqueue(.slack("#alerts", .text("disk almost full")), at: t0)
            #expect(try await living.dueMessages(now: t0, limit: 10).map(\.id) == [kept])
            let unbeaten = try await silent.enqueue(.slack("#alerts", .text("slow queries")), at: t0)
            #expect(try await silent.dueMessages(now: t0, limit: 10).map(\.id) == [unbeaten])
            #expect(try await living.dueMessages(now: t0, limit: 10).isEmpty, "every claim holds while its replica beats")
            // `dying` beats one last time and stops, as a replica killed with SIGKILL would.
            try await dying.heartbeat(for: .milliseconds(300))
            try await Task.sleep(for: .milliseconds(500))
            #expect(try await living.dueMessages(now: t0, limit: 10).map(\.id) == [held])
            #expect(try await dying.dueMessages(now: t0, limit: 10).isEmpty, "the living replica holds it now")
        }
    }

    /// A replica whose heartbeat lapses half-way through a round: another replica takes the rest of its messages,
    /// and it sends none of them itself. Slack sees each message once.
    @Test func aReplicaWhoseClaimWasTakenDoesNotSendTheRestOfItsRound() async throws {
        try await PostgresTestDatabase.with("claimtaken", connections: 4) { database in
            let stalling = PostgresStore(database: database, replica: "stalling")
            let living = PostgresStore(database: database, replica: "living")
            try await stalling.heartbeat(for: .seconds(60))
            try await living.heartbeat(for: .seconds(60))
            for index in 1...3 { try await stalling.enqueue(.slack("#alerts", .text("alert \(index)")), at: t0) }
            let taken = TakenIDs()
            // Once the first message is sent, and before the second goes, the stalling replica's heartbeat lapses
            // and the other replica claims what it held.
            let stalled = StallingOutbox(store: stalling) {
                try await stalling.heartbeat(for: .milliseconds(50))
                try await Task.sleep(for: .milliseconds(150))
                await taken.set(try await living.dueMessages(now: t0, limit: 10).map(\.id))
            }
            let poster = RecordingPoster()
            let (clock, logger) = (ManualClock(t0), PostgresTestDatabase.logger)
            let deliverer = { (store: any OutboxStore) in
                OutboxDeliverer(store: store, poster: poster, clock: clock, slackAPI: "https://slack.test/api", slackToken: "xoxb-test",
                                logger: logger, pacing: .zero)
            }
            #expect(try await deliverer(stalled).deliverDue() == 1)
            #expect(await taken.ids == [2, 3])
            // The claims lapse only for the test's sake: the living replica's own round sends what it holds.
            try await database.execute("UPDATE outbox SET claimed_until = now() - interval '1 second' WHERE claimed_by = 'living'")
            #expect(try await deliverer(living).deliverDue() == 2)
            #expect(poster.messages.count == 3, "\(poster.messages)")
            #expect(try await living.outboxEntries().map { "\($0.id) \($0.sentBy ?? "-") \($0.attempts)" }
                    == ["1 stalling 1", "2 living 1", "3 living 1"])
        }
    }

    actor TakenIDs {
        var ids: [Int64] = []
        func set(_ ids: [Int64]) { self.ids = ids }
    }

    /// A replica's outbox that stalls once, just before its second send: `stall` runs before the second
    /// `keepClaim`, as if the replica had paused there.
    struct StallingOutbox: OutboxStore {
        let store: PostgresStore
        let stall: @Sendable () async throws -> Void
        let claims = Counter()

        actor Counter {
            var value = 0
            func next() -> Int { value += 1; return value }
        }

        func keepClaim(_ id: Int64) async throws -> Bool {
            if await claims.next() == 2 { try await stall() }
            return try await store.keepClaim(id)
        }

        func enqueue(_ message: Addressed, at: Date) async throws -> Int64 { try await store.enqueue(message, at: at) }
        func enqueue(_ message: Addressed, thread: ThreadKey, at: Date) async throws { try await store.enqueue(message, thread: thread, at: at) }
        func dueMessages(now: Date, limit: Int) async throws -> [OutboxMessage] { try await store.dueMessages(now: now, limit: limit) }
        func markSent(_ id: Int64, at: Date) async throws { try await store.markSent(id, at: at) }
        func markAttempt(_ id: Int64, error: String, nextAttempt: Date?) async throws {
            try await store.markAttempt(id, error: error, nextAttempt: nextAttempt)
        }
        func postpone(_ id: Int64, until: Date) async throws { try await store.postpone(id, until: until) }
        func wait(_ id: Int64, reason: String, until: Date) async throws { try await store.wait(id, reason: reason, until: until) }
        func threadHeadFailed(_ thread: ThreadKey) async throws -> Bool { try await store.threadHeadFailed(thread) }
        func threadTS(_ thread: ThreadKey) async throws -> String? { try await store.threadTS(thread) }
        func threadStarter(_ thread: ThreadKey) async throws -> Int64? { try await store.threadStarter(thread) }
        func rememberThread(_ thread: ThreadKey, channel: String, ts: String) async throws {
            try await store.rememberThread(thread, channel: channel, ts: ts)
        }
        func threadStarterMessage(_ thread: ThreadKey) async throws -> Outbound? { try await store.threadStarterMessage(thread) }
    }

    /// The real deliverer on two replicas sharing one outbox, threads included: Slack sees every message once.
    @Test func twoDeliverersSendEveryMessageExactlyOnce() async throws {
        try await PostgresTestDatabase.with("deliver", connections: 8) { database in
            let poster = RecordingPoster()
            let clock = ManualClock(t0)
            let logger = PostgresTestDatabase.logger
            let stores = [PostgresStore(database: database, replica: "r1"), PostgresStore(database: database, replica: "r2")]
            // More than one round's 50, so both replicas get some.
            for index in 0..<120 { try await stores[0].enqueue(.slack("#alerts", .text("alert \(index)")), at: t0) }
            let thread = ThreadKey(rawValue: "issue:7")
            try await stores[0].enqueue(.slack("#alerts", .text("thread head")), thread: thread, at: t0)
            try await stores[0].enqueue(.slack("#alerts", .text("thread reply")), thread: thread, at: t0)
            let deliverers = stores.map {
                OutboxDeliverer(store: $0, poster: poster, clock: clock, slackAPI: "https://slack.test/api", slackToken: "xoxb-test",
                                logger: logger, pacing: .zero)
            }
            for _ in 0..<20 {
                async let one = deliverers[0].deliverDue()
                async let two = deliverers[1].deliverDue()
                _ = try await (one, two)
                if try await stores[0].outboxEntries().allSatisfy({ $0.status == "sent" }) { break }
                clock.advance(by: 6)
            }
            let entries = try await stores[0].outboxEntries()
            #expect(entries.count == 122 && entries.allSatisfy { $0.status == "sent" && $0.attempts == 1 })
            #expect(Set(entries.compactMap(\.sentBy)) == ["r1", "r2"], "both replicas sent")
            let texts = poster.messages
            #expect(texts.count == 122, "each message once")
            #expect(Set(texts).count == 122)
            let reply = try #require(texts.first { $0.contains("thread reply") })
            #expect(reply.contains("thread_ts"), "the reply went into its thread")
        }
    }
}

/// The stores are read again only when `customers_version` moved: on any replica's change to a column they are read
/// with, not on the cycle's writes of the last health score.
@Suite struct PostgresCustomerCacheTests {
    @Test func aStoreChangedOnAnotherReplicaIsSeenAtTheNextRead() async throws {
        try await PostgresTestDatabase.with("customers-version") { database in
            let (one, two) = (PostgresStore(database: database, replica: "r1"), PostgresStore(database: database, replica: "r2"))
            try await one.upsert([shop("acme-store"), shop("beta-shop")], at: t0)
            #expect(try await two.allCustomers().map(\.active) == [true, true])
            func version() async throws -> Int64 {
                try #require(try await database.rows("SELECT version FROM customers_version").first).decode(Int64.self)
            }
            var paused = shop("beta-shop")
            paused.active = false
            try await one.upsert([paused], at: t0)
            #expect(try await two.allCustomers().map(\.active) == [true, false])

            let scored = try await version()
            try await one.writeSnapshots([SnapshotRecord(store: StoreID("acme-store")!, score: 80, metrics: MetricSnapshot())], at: t0)
            #expect(try await version() == scored, "a cycle's score is no change to the stores")
            for column in CustomerRow.columns.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespacesAndNewlines) }) {
                let before = try await version()
                try await database.execute(PostgresQuery(unsafeSQL: "UPDATE customers SET \(column) = \(column) WHERE id = 'acme-store'"))
                #expect(try await version() > before, "an update of \(column)")
            }
            try await database.execute("DELETE FROM customers WHERE id = 'beta-shop'")
            #expect(try await two.allCustomers().map(\.id.rawValue) == ["acme-store"])
        }
    }
}

@Suite struct PostgresJournalTests {
    /// The journal is taken a range of numbers at a time; numbers that are not there (a rolled-back push, or one
    /// not committed yet) do not cut a page short, and what is taken is not taken again.
    @Test func aPageIsFullDespiteGapsAndEachSampleIsTakenOnce() async throws {
        try await PostgresTestDatabase.with("journal") { database in
            let store = PostgresStore(database: database, replica: "r1")
            try await store.upsert([shop("acme-store")], at: t0)
            try await database.execute("""
                INSERT INTO sample_journal (seq, customer_id, metric, at, value) VALUES
                (1, 'acme-store', 'cpu_percent', \(t0.unixSeconds), 10), (2, 'acme-store', 'cpu_percent', \(t0.unixSeconds + 60), 20),
                (9, 'acme-store', 'cpu_percent', \(t0.unixSeconds + 120), 30), (40, 'acme-store', 'memory_percent', \(t0.unixSeconds), 40),
                (41, 'acme-store', 'cpu_percent', \(t0.unixSeconds + 180), 50)
                """)
            let first = try await store.journal(after: 0, limit: 4)
            #expect(first.samples.map(\.value) == [10, 20, 30, 40])
            #expect(first.mark == 40)
            let second = try await store.journal(after: first.mark, limit: 4)
            #expect(second.samples.map(\.value) == [50])
            #expect(try await store.journal(after: second.mark, limit: 4).samples.isEmpty)
            #expect(try await database.count("sample_journal") == 0)
        }
    }

    /// What was read is deleted after the cycle, by its numbers: a row committed late below them (a replica's
    /// transaction that took its number earlier) is read next time, not deleted unread.
    @Test func aRowCommittedLateBelowWhatWasReadIsReadNextTime() async throws {
        try await PostgresTestDatabase.with("journallate") { database in
            let store = PostgresStore(database: database, replica: "r1")
            try await store.upsert([shop("acme-store")], at: t0)
            func add(_ seq: Int, _ value: Int) async throws {
                try await database.execute("""
                    INSERT INTO sample_journal (seq, customer_id, metric, at, value)
                    VALUES (\(seq), 'acme-store', 'cpu_percent', \(t0.unixSeconds + Int64(seq * 60)), \(Double(value)))
                    """)
            }
            for (seq, value) in [(1, 10), (2, 20), (3, 30), (7, 70), (8, 80)] { try await add(seq, value) }
            let first = try await store.journal(after: 0, limit: 100)
            #expect(first.samples.map(\.value) == [10, 20, 30, 70, 80])
            try await store.forgetJournal(through: first.mark)
            // Number 5 was taken before 7 and 8 but commits after they were read.
            try await add(5, 50)
            let second = try await store.journal(after: first.mark, limit: 100)
            #expect(second.samples.map(\.value) == [50])
            try await store.forgetJournal(through: second.mark)
            #expect(try await store.journal(after: second.mark, limit: 100).samples.isEmpty)
            #expect(try await database.count("sample_journal") == 0, "every row read is deleted")
        }
    }

    /// Another session deletes journal rows while the memory is rebuilt (retention, as the leader starts): the
    /// rebuild's snapshot fails to serialize and is read again, not given up until the next cycle.
    @Test func aRebuildMeetingAConcurrentDeletionIsReadAgain() async throws {
        try await PostgresTestDatabase.with("rebuildretry", connections: 4) { database in
            let store = PostgresStore(database: database, replica: "r1")
            try await store.upsert([shop("acme-store")], at: t0)
            try await store.insert([MetricSample(store: StoreID("acme-store")!, metric: .cpuPercent, at: t0, value: 40)])
            let rebuilding = try await database.transaction { other in
                _ = try await other.rows("DELETE FROM sample_journal", logger: database.logger)
                let rebuilding = Task {
                    try await store.fleetSamples(since: t0.addingTimeInterval(-3600), hourly: .uptimePercent,
                                                 hoursFrom: t0.addingTimeInterval(-86400))
                }
                // The rebuild takes its snapshot and waits for this session's deletion, which then commits.
                try await Task.sleep(for: .milliseconds(300))
                return rebuilding
            }
            let fleet = try await rebuilding.value
            #expect(fleet.series[StoreID("acme-store")!]?[.cpuPercent]?.map(\.value) == [40])
        }
    }
}

@Suite struct PostgresInboxTests {
    /// What a replica killed after acknowledging a push left in the inbox is filed by another replica: by the
    /// leader before it reads the journal, and by any replica as it starts. Filed once, with its rollup and newest
    /// value, and the inbox is left empty.
    @Test func whatAKilledReplicaLeftInTheInboxIsFiledByAnother() async throws {
        try await PostgresTestDatabase.with("inbox") { database in
            let (dead, leader) = (PostgresStore(database: database, replica: "r1"), PostgresStore(database: database, replica: "r2"))
            try await dead.upsert([shop("acme-store")], at: t0)
            // Acknowledged by r1, which died before filing them (and a sample of a store removed meanwhile).
            try await database.execute("""
                INSERT INTO sample_inbox (customer_id, metric, at, value) VALUES
                ('acme-store', 'cpu_percent', \(t0.unixSeconds), 40), ('acme-store', 'cpu_percent', \(t0.unixSeconds + 60), 60)
                """)
            let (samples, _) = try await leader.journal(after: 0, limit: 100)
            #expect(samples.map(\.value) == [40, 60])
            #expect(try await database.count("sample_inbox") == 0)
            #expect(try await leader.latestMetrics(stores: nil)[StoreID("acme-store")!]?[.cpuPercent] == 60)
            #expect(try await leader.hourlyMeans(.cpuPercent, of: StoreID("acme-store")!, from: t0, to: t0.addingTimeInterval(3600))
                .map(\.value) == [50])
            // Filing again finds nothing; a sample already stored that reaches the inbox again is not stored twice.
            #expect(try await leader.fileInbox() == 0)
            try await database.execute("INSERT INTO sample_inbox (customer_id, metric, at, value) VALUES ('acme-store', 'cpu_percent', \(t0.unixSeconds), 99)")
            #expect(try await dead.fileInbox() == 1)
            #expect(try await database.count("metric_samples") == 2)
            #expect(try await leader.samples(.cpuPercent, of: StoreID("acme-store")!, from: t0.addingTimeInterval(-1), to: t0)
                .map(\.value) == [40])
        }
    }
}

@Suite struct PostgresSnapshotTests {
    /// The cycle's snapshots go to the server as arrays, a column each: every value lands in its column, a missing one
    /// is NULL, and whole-number columns keep the integer part, as the SQLite store writes them.
    @Test func snapshotsKeepEachValueInItsColumnAndMissingOnesEmpty() async throws {
        try await PostgresTestDatabase.with("snapshots") { database in
            let store = PostgresStore(database: database, replica: "r1")
            try await store.upsert([shop("acme-store"), shop("widgets-inc")], at: t0)
            var metrics = MetricSnapshot()
            metrics.record(.cpuPercent, 42.5, at: t0)
            metrics.record(.ttfbMs, 812.9, at: t0)
            metrics.record(.tableSizeBytes, 5_000_000_000, at: t0)
            try await store.writeSnapshots([SnapshotRecord(store: StoreID("acme-store")!, score: 71, metrics: metrics),
                                            SnapshotRecord(store: StoreID("widgets-inc")!, score: 95, metrics: MetricSnapshot())], at: t0)
            let rows = try await database.rows("""
                SELECT customer_id, health_score, ttfb_ms, fcp_ms, cpu_percent, memory_percent, db_size_bytes
                FROM performance_snapshots ORDER BY customer_id
                """).map { try $0.decode((String, Int64, Int64?, Int64?, Double?, Double?, Int64?).self) }
            #expect(rows.count == 2)
            #expect(rows.first.map { [$0.0, "\($0.1)", "\($0.2 ?? -1)", "\($0.3 ?? -1)", "\($0.4 ?? -1)", "\($0.5 ?? -1)", "\($0.6 ?? -1)"] }
                == ["acme-store", "71", "812", "-1", "42.5", "-1.0", "5000000000"])
            #expect(rows.last.map { $0.2 == nil && $0.4 == nil && $0.6 == nil } == true)
            let scores = try await database.rows("SELECT id, last_health_score FROM customers ORDER BY id")
                .map { try $0.decode((String, Int64?).self) }
            #expect(scores.map(\.1) == [71, 95])
        }
    }
}

@Suite struct DatabaseCopyTests {
    @Test func aSQLiteInstallationMovesToPostgreSQLWhole() async throws {
        let path = try temporarySQLite()
        let sqlite = try SQLiteStore(path: path)
        try await sqlite.upsert([shop("acme-store"), shop("beta-shop")], at: t0)
        var samples: [MetricSample] = []
        for minute in 0..<1500 {
            samples.append(MetricSample(store: StoreID("acme-store")!, metric: .ttfbMs, at: t0.addingTimeInterval(Double(minute) * 60),
                                        value: 200 + Double(minute % 7)))
        }
        #expect(try await sqlite.insert(samples) == 1500)
        let queued = try await sqlite.enqueue(.mail(CustomerMail(to: "owner@acme-store.example", store: StoreID("acme-store")!, replyTo: "approve+t0k3n@perfbot.example", kind: .approvalAcknowledged(playbook: "clear-cache"))), at: t0)
        try await sqlite.markSent(queued, at: t0)
        let pending = try await sqlite.enqueue(.slack("#alerts", .text("slow checkout on `acme-store`")), at: t0)
        let export = try sqlite.export()
        try await PostgresTestDatabase.with("copy") { database in
            let report = try await DatabaseCopy.copy(export, to: database)
            let order = report.tables.map(\.name)
            for (referred, referring) in [("customers", "metric_samples"), ("customers", "jobs"), ("jobs", "job_steps"),
                                          ("performance_issues", "approvals")] {
                #expect(try #require(order.firstIndex(of: referred)) < #require(order.firstIndex(of: referring)), "\(referred) first")
            }
            let copied = Dictionary(uniqueKeysWithValues: report.tables.map { ($0.name, $0.rows) })
            #expect(copied["customers"] == 2 && copied["metric_samples"] == 1500 && copied["outbox"] == 2)
            #expect(copied["metric_rollups"] == 25 && copied["sample_journal"] == 1500)
            for table in report.tables {
                #expect(try await database.count(table.name) == table.rows, "\(table.name)")
            }
            // The pending message is still due, under its id, and new ids continue after the copied ones.
            let store = PostgresStore(database: database, replica: "r1")
            let due = try await store.dueMessages(now: t0, limit: 10)
            #expect(due.map(\.id) == [pending])
            #expect(due.first?.message == .post(.text("slow checkout on `acme-store`")))
            #expect(try await store.enqueue(.slack("#alerts", .text("next")), at: t0) == pending + 1)
            // A second copy would mix two installations: it is refused and changes nothing.
            await #expect(throws: PostgresStoreError.self) { try await DatabaseCopy.copy(export, to: database) }
            #expect(try await database.count("customers") == 2)
        }
    }
}

/// A list appended to from several tasks.
final class LockedList<Element: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var elements: [Element] = []

    func append(_ element: Element) { lock.withLock { elements.append(element) } }
    var values: [Element] { lock.withLock { elements } }
}
