import BotCore
import BotPlaybooks
import BotProbes
import BotStore
import Foundation
import Logging
import PerfbotApp
import Testing
import TestSupport

/// The database tools against a real MariaDB (Debian's, started here) with its slow log on and
/// `long_query_time=0`: WooCommerce- and Magento-like tables and queries, the log MariaDB wrote ingested by
/// the check cycle, EXPLAIN with the read-only account, a table fragmented by deletes found and optimized,
/// an index proposed, approved, created by its job and dropped by the revert.
@Suite(.serialized) struct DatabaseToolsTests {
    let operatorUser = SlackUserID("U0OPS0001")!

    /// Asks as an operator; the answers are kept under `.build/replies/` to be read as an admin reads them.
    func ask(_ bot: SchedulerBot, _ text: String) async throws -> String {
        let answer = try await bot.wiring.commandRouter().route(text, user: operatorUser, channel: nil, logger: Logger(label: "t")).plainText
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(".build/replies")
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let file = folder.appendingPathComponent("database-tools.txt")
        let entry = "/perf \(text)\n\(answer)\n\n"
        if let handle = try? FileHandle(forWritingTo: file) {
            handle.seekToEndOfFile()
            handle.write(Data(entry.utf8))
            try? handle.close()
        } else {
            try? entry.write(to: file, atomically: true, encoding: .utf8)
        }
        return answer
    }

    func finished(_ bot: SchedulerBot, job id: Int64) async throws -> JobRecord {
        for _ in 0..<200 {
            if let job = try await bot.store.job(id), job.state.isFinal { return job }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw BotError.invalid("job \(id) did not end")
    }

    static let schema = """
        CREATE DATABASE shop;
        USE shop;
        CREATE TABLE wp_posts (ID BIGINT PRIMARY KEY AUTO_INCREMENT, post_status VARCHAR(20), post_type VARCHAR(20),
          post_date DATETIME, post_title VARCHAR(200)) ENGINE=InnoDB;
        CREATE TABLE wp_postmeta (meta_id BIGINT PRIMARY KEY AUTO_INCREMENT, post_id BIGINT, meta_key VARCHAR(255),
          meta_value LONGTEXT) ENGINE=InnoDB;
        CREATE TABLE catalog_product_entity (entity_id INT PRIMARY KEY AUTO_INCREMENT, sku VARCHAR(64), type_id VARCHAR(32),
          created_at DATETIME) ENGINE=InnoDB;
        CREATE TABLE wp_actionscheduler_logs (log_id INT PRIMARY KEY, message VARCHAR(1000)) ENGINE=MyISAM;
        INSERT INTO wp_posts (post_status, post_type, post_date, post_title)
          SELECT IF(seq % 3 = 0, 'draft', 'publish'), 'product', NOW() - INTERVAL seq MINUTE, CONCAT('Product ', seq) FROM seq_1_to_3000;
        INSERT INTO wp_postmeta (post_id, meta_key, meta_value) SELECT seq % 3000 + 1, CONCAT('_meta_', seq % 25), REPEAT('v', 20)
          FROM seq_1_to_20000;
        INSERT INTO catalog_product_entity (sku, type_id, created_at) SELECT CONCAT('SKU-', seq), IF(seq % 5 = 0, 'configurable', 'simple'),
          NOW() - INTERVAL seq HOUR FROM seq_1_to_2000;
        INSERT INTO wp_actionscheduler_logs SELECT seq, REPEAT('log line ', 100) FROM seq_1_to_4000;
        DELETE FROM wp_actionscheduler_logs WHERE log_id % 10 <> 0;
        CREATE USER perfbot_ro@localhost;
        GRANT SELECT ON shop.* TO perfbot_ro@localhost;
        """

    @Test func slowLogTablesExplainIndexAndOptimizeOnARealMariaDB() async throws {
        let scratch = try ServiceCollectorTests.Scratch("dbtools")
        let socket = scratch.path("mysqld.sock")
        let slowLog = scratch.path("slow.log")
        let install = try await scratch.run([
            "mariadb-install-db", "--no-defaults", "--datadir=\(scratch.path("data"))", "--tmpdir=\(try scratch.tmpdir())", "--user=root",
            "--auth-root-authentication-method=socket", "--skip-test-db"])
        try #require(install.succeeded, "\(install.output)")
        // The store's own `mysql`, pointed at its server (as in the store's container); root unless told otherwise.
        // perfbot's own calls say `--no-defaults` (or a private `--defaults-file=`) first, which the client requires
        // first; anything else reads the option files of HOME, as a careless client would.
        try scratch.write("mysql", """
            #!/bin/sh
            case "$1" in
              --no-defaults|--defaults-file=*) first=$1; shift; exec /usr/bin/mysql "$first" --socket=\(socket) -uroot "$@" ;;
              *) exec /usr/bin/mysql --socket=\(socket) -uroot "$@" ;;
            esac

            """, executable: true)
        try await scratch.withServer([
            "/usr/sbin/mariadbd", "--no-defaults", "--datadir=\(scratch.path("data"))", "--tmpdir=\(try scratch.tmpdir())", "--socket=\(socket)",
            "--skip-networking", "--user=root", "--pid-file=\(scratch.path("mysqld.pid"))",
            "--log-error=\(scratch.path("error.log"))", "--slow-query-log=1", "--slow-query-log-file=\(slowLog)",
            "--long-query-time=0",
        ], ready: ["mysql", "--execute=SELECT 1"]) {
            let setup = try await scratch.run(["mysql", "--execute=\(Self.schema)"])
            try #require(setup.succeeded, "\(setup.output)")
            // A store's traffic: WooCommerce's catalogue page and meta lookups, Magento's product grid.
            for n in 0..<6 {
                for sql in [
                    "SELECT ID FROM wp_posts WHERE post_status = 'publish' ORDER BY post_date DESC LIMIT \(n * 10), 10",
                    "SELECT post_id, meta_value FROM wp_postmeta WHERE meta_key = '_meta_\(n)'",
                    "SELECT entity_id, sku FROM catalog_product_entity WHERE type_id = 'configurable' AND entity_id IN (\(n + 1), \(n + 7), 30)",
                ] {
                    #expect(try await scratch.run(["mysql", "--database=shop", "--execute=\(sql)"]).succeeded)
                }
            }
            let customer = Customer(id: StoreID("db-shop")!, platform: .woocommerce, plan: .premium, contactEmail: "o@db-shop.example",
                                    executor: .local, probes: [.slowLog],
                                    settings: ["slow_log": slowLog, "db_name": "shop", "db_readonly_user": "perfbot_ro"])
            // A test table is megabytes, not the 64 MiB a store's table must waste to count as fragmented.
            let bot = try await SchedulerBot(customers: [customer], local: scratch.local,
                                             extra: JobSafetyTests.users.merging(["PERFBOT_FRAGMENTED_BYTES": "1048576"]) { $1 })
            // MariaDB stamps its log with the real time: the bot's clock follows.
            bot.clock.advance(by: Date().timeIntervalSince(bot.clock.now))
            _ = try await bot.cycle()

            // The slow log MariaDB wrote, by class: fingerprints only.
            let (classes, total) = try await bot.store.slowQueryClasses(customer.id, since: Date(timeIntervalSince1970: 0), limit: 100, offset: 0)
            #expect(total >= 3)
            let catalogue = try #require(classes.first {
                $0.fingerprint == "select id from wp_posts where post_status = ? order by post_date desc limit ?"
            })
            #expect(catalogue.count == 6 && catalogue.tables == ["wp_posts"])
            #expect(catalogue.queryID == QueryClass.queryID(of: Array(catalogue.fingerprint.utf8)))
            // The setup's statements are classes too: the catalogue query is on page 1 or 2, by how long the DDL took.
            let listing = try await ask(bot, "slow-queries db-shop --since 90d") + ask(bot, "slow-queries db-shop --since 90d --page 2")
            #expect(listing.contains("Page 2 of 2"), "\(listing)")
            #expect(listing.contains("select id from wp_posts where post_status = ? order by post_date desc limit ?"), "\(listing)")
            #expect(listing.contains("rows read per row sent"))
            #expect(!listing.contains("'publish'") && !listing.contains("_meta_3"), "literals never leave the collector")
            // The store's contact, by e-mail: the week's slowest kinds of query, shapes only.
            let mail = try await bot.wiring.commandRouter().route("slow queries", contact: Contact(email: "o@db-shop.example",
                                                                                                 stores: [customer.id]),
                                                              logger: Logger(label: "t")).plainText
            #expect(mail.contains("6 times") && mail.contains("select post_id, meta_value from wp_postmeta where meta_key = ?"), "\(mail)")
            #expect(!mail.contains("_meta_") && !mail.contains("'publish'"), "values never reach the contact: \(mail)")
            let cursor = try #require(try await bot.store.slowLogCursor(customer.id))
            #expect(cursor.offset == Int64(try FileManager.default.attributesOfItem(atPath: slowLog)[.size] as! Int))

            // EXPLAIN with the read-only account: findings and an index suggestion; anything but a SELECT is refused.
            let explained = try await ask(bot, "explain db-shop SELECT post_id, meta_value FROM wp_postmeta WHERE meta_key = '_meta_3'")
            #expect(explained.contains("Full scan: it reads every row of `wp_postmeta`"), "\(explained)")
            #expect(explained.contains("`/perf index db-shop wp_postmeta meta_key` proposes it as a job to approve"), "\(explained)")
            let refused = try await ask(bot, "explain db-shop DELETE FROM wp_postmeta WHERE meta_key = '_meta_3'")
            #expect(refused.hasPrefix("Not explained: only a SELECT can be explained, and this is `delete`"), "\(refused)")
            let twoStatements = try await ask(bot, "explain db-shop SELECT 1; DROP TABLE wp_posts")
            #expect(twoStatements.hasPrefix("Not explained: give exactly one statement"), "\(twoStatements)")
            #expect(try await scratch.run(["mysql", "--database=shop", "--execute=SELECT count(*) FROM wp_posts"]).output.contains("3000"))

            // A tenant's SQL never reaches a shell. A client of the store, in a `NO_BACKSLASH_ESCAPES` session, writes a
            // statement whose `\!` a backslash-escaping fingerprinter leaves outside every literal …
            let planted = "/tmp/perfbot-pwned-\(UInt32.random(in: 0...UInt32.max))"
            defer { try? FileManager.default.removeItem(atPath: planted) }
            let attack = "SET SESSION sql_mode = 'NO_BACKSLASH_ESCAPES'; SELECT post_id FROM wp_postmeta "
                + "WHERE meta_value = 'a\\' OR meta_value = '\\! touch \(planted) #'"
            #expect(try await scratch.run(["mysql", "--database=shop", "--execute=\(attack)"]).succeeded)
            // A cycle on a loaded machine may time out its store: up to five cycles for the entry to arrive.
            var hostile: SlowQuerySummary?
            for _ in 0..<5 where hostile == nil {
                bot.clock.advance(by: 60)
                _ = try await bot.cycle()
                hostile = try await bot.store.slowQueryClasses(customer.id, since: Date(timeIntervalSince1970: 0), limit: 200, offset: 0)
                    .classes.first { $0.fingerprint.contains("\\!") }
            }
            let shape = try #require(hostile, "the hostile class reached the store: the test must hold it").fingerprint
            #expect(ExplainAdvice.clientHazard(shape) != nil, "\(shape)")
            // … and an operator's `index` (EXPLAIN of the worst classes) and a typed `explain` run nothing of it.
            _ = try await ask(bot, "index db-shop")
            let typed = try await ask(bot, "explain db-shop SELECT 1 \\! touch \(planted)")
            #expect(typed.hasPrefix("Not explained:") && typed.contains("backslash"), "\(typed)")
            #expect(!FileManager.default.fileExists(atPath: planted), "a shell command ran from SQL text")
            // Even a statement that got past the check is inert in the client perfbot starts: `--binary-mode` and
            // `--sandbox` turn the client's own commands off.
            let direct = try await scratch.local.run(CommandRequest(argv: DatabaseClient.argv("SELECT 1 \\! touch \(planted)",
                                                                                           settings: [:]), timeout: 20))
            #expect(!direct.succeeded && !FileManager.default.fileExists(atPath: planted), "\(direct.output)")
            let audit = try await bot.store.auditEntries(store: customer.id, limit: 50)
            #expect(audit.contains { $0.action == "db.explain" && $0.result?.hasPrefix("refused:") == true }, "explain is audited")

            // An option file planted in a child's HOME is not read (`--no-defaults`): here one that would turn the
            // output into HTML and break every reading.
            let optionFile = (PrivateHome.path as NSString).appendingPathComponent(".my.cnf")
            try "[mysql]\nhtml\n".write(toFile: optionFile, atomically: true, encoding: .utf8)
            // The table fragmented by deletes is found, then optimized by a job.
            let tables = try await ask(bot, "tables db-shop")
            try? FileManager.default.removeItem(atPath: optionFile)
            #expect(tables.contains("`wp_actionscheduler_logs` has"), "\(tables)")
            #expect(tables.contains("OPTIMIZE TABLE gives it back"))
            #expect(tables.contains("`wp_actionscheduler_logs` is MyISAM"))
            let optimized = try await ask(bot, "optimize-tables db-shop")
            #expect(optimized.contains("Optimize table") && optimized.contains("wp_actionscheduler_logs"), "\(optimized)")
            #expect(optimized.contains("Done in"), "\(optimized)")
            let free = try await scratch.run(["mysql", "--batch", "--skip-column-names", "--execute=SELECT DATA_FREE FROM "
                + "information_schema.TABLES WHERE TABLE_SCHEMA = 'shop' AND TABLE_NAME = 'wp_actionscheduler_logs'"])
            #expect(free.output.trimmingCharacters(in: .whitespacesAndNewlines) == "0", "\(free.output)")

            // An index, proposed with its evidence, created only once approved, dropped by its revert.
            // Asked for by name, with the plan of its class today as evidence …
            let named = try await ask(bot, "index db-shop wp_posts post_status,post_date")
            #expect(named.contains("CREATE INDEX perfbot_post_status_post_date ON wp_posts (post_status, post_date)"), "\(named)")
            #expect(named.contains("Its plan today: a full scan of wp_posts (about "), "\(named)")
            // … or found from the worst classes: EXPLAIN of each (literals stood in), the first full scan an index spares.
            let proposal = try await ask(bot, "index db-shop")
            #expect(proposal.contains("CREATE INDEX perfbot_meta_key ON wp_postmeta (meta_key)"), "\(proposal)")
            #expect(proposal.contains("the slowest class on wp_postmeta that it would serve"), "\(proposal)")
            #expect(proposal.contains("select post_id, meta_value from wp_postmeta where meta_key = ?"), "\(proposal)")
            #expect(proposal.contains("Its plan today: a full scan of wp_postmeta"), "\(proposal)")
            func indexes() async throws -> String {
                try await scratch.run(["mysql", "--database=shop", "--execute=SHOW INDEX FROM wp_postmeta"]).output
            }
            #expect(try await !indexes().contains("perfbot_meta_key"), "nothing runs before the approval")
            let id = try #require(proposal.range(of: #"fix_[a-z2-7]{10}"#, options: .regularExpression).map { String(proposal[$0]) })
            let approved = try await ask(bot, "approve \(id)")
            #expect(approved.contains("Approved by <@U0OPS0001>"), "\(approved)")
            let jobs = try await bot.store.jobs(store: customer.id, limit: 10)
            let created = try #require(jobs.first { $0.playbook.hasPrefix("db:create_index:wp_postmeta:") })
            #expect(try await finished(bot, job: created.id).state == .succeeded)
            #expect(try await indexes().contains("perfbot_meta_key"))
            let after = try await ask(bot, "explain db-shop SELECT post_id, meta_value FROM wp_postmeta WHERE meta_key = '_meta_3'")
            #expect(after.contains("wp_postmeta: ref via perfbot_meta_key"), "\(after)")
            let reverted = try await ask(bot, "revert \(created.id)")
            #expect(reverted.contains("Drop the index perfbot_meta_key of wp_postmeta"), "\(reverted)")
            #expect(try await !indexes().contains("perfbot_meta_key"))
            let notAgain = try await ask(bot, "revert \(jobs.first { $0.playbook.hasPrefix("db:optimize") }?.id ?? 0)")
            #expect(notAgain.contains("cannot be reverted by perfbot"), "\(notAgain)")
        }
    }

    @Test func basicPlansAreToldDatabaseToolsArePremium() async throws {
        var customer = shop("small-shop")
        customer.plan = .basic
        let bot = try await SchedulerBot(customers: [customer], extra: JobSafetyTests.users)
        let answer = try await ask(bot, "slow-queries small-shop")
        #expect(answer == "Database tools come with premium plans; small-shop is on the basic plan, so perfbot does not read "
            + "its slow log or tables.")
    }

    @Test func optimizeTablesHonoursTheCustomersException() async throws {
        var customer = shop("careful-shop")
        customer.automationExceptions = ["skip_optimize_tables"]
        customer.settings = ["db_name": "shop"]
        let bot = try await SchedulerBot(customers: [customer], extra: JobSafetyTests.users)
        let answer = try await ask(bot, "optimize-tables careful-shop wp_options")
        #expect(answer == "Not run: careful-shop's automation settings exclude what it does (skip_optimize_tables). "
            + "`/perf automation careful-shop unskip skip_optimize_tables` allows it again.", "\(answer)")
        #expect(bot.dockerRuns.isEmpty)
    }
}
