import BotCore
import BotPlaybooks
import BotStore
import Foundation
import PerfbotApp
import Testing
import TestSupport

/// Advanced controls against real Redis and MariaDB (the Debian packages `scripts/setup` installs): each setting
/// applied as a job, read back from the live service, and reverted; every guardrail refuses with its reason.
extension ServiceCollectorTests {
/// Inside the serialized suite of the collectors' real servers: one server starts at a time, however many suites the
/// run has going.
@Suite struct TuningTests {
    typealias Scratch = ServiceCollectorTests.Scratch

    static func shop(_ name: String, local: LocalExecutor, settings: [String: String] = [:]) async throws -> (SchedulerBot, StoreID) {
        let customer = Customer(id: StoreID(name)!, platform: .woocommerce, plan: .premium, contactEmail: "o@\(name).example",
                                executor: .local, limits: ResourceLimits(memoryMB: 2048), settings: settings)
        return (try await SchedulerBot(customers: [customer], local: local,
                                       extra: ["PERFBOT_SLACK_USERS": "U0VIEW001:viewer,U0OPS0001:operator"]), customer.id)
    }

    static func ask(_ bot: SchedulerBot, _ text: String, as user: String = "U0OPS0001") async -> String {
        await (try? bot.wiring.commandRouter())?.route(text, user: SlackUserID(user)!, channel: nil, logger: .init(label: "t")).plainText ?? ""
    }

    /// The newest job of `store`, once it ended.
    static func lastJob(_ bot: SchedulerBot, _ store: StoreID) async throws -> JobRecord {
        let jobs = try await bot.store.jobs(store: store, limit: 1)
        guard let job = jobs.first else { throw TuningTestError.noJob }
        return await bot.wiring.engine.outcome(of: job.id).job
    }

    enum TuningTestError: Error { case noJob }

    /// Each of `values` (a setting and a value other than its own now) set as a job and read back from the live
    /// service, then reverted with `/perf revert <job>` and read back as it was.
    static func applyAndRevertEach(_ bot: SchedulerBot, _ id: StoreID, _ values: [(String, String)],
                                   sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let desk = TuningDesk(library: bot.wiring.library, planner: bot.wiring.planner)
        let customer = try #require(try await bot.store.customer(id))
        for (setting, value) in values {
            let tunable = try #require(desk.catalogue(for: customer).setting(setting))
            let before = try await desk.current(customer, only: [tunable])[setting]
            #expect(before != nil, "\(setting) could not be read", sourceLocation: sourceLocation)
            _ = await ask(bot, "set \(id) \(setting) \(value)")
            let job = try await lastJob(bot, id)
            #expect(job.state == .succeeded, "\(setting): \(job.summary ?? "")", sourceLocation: sourceLocation)
            let now = try await desk.current(customer, only: [tunable])[setting]
            #expect(now != before && now == (try? tunable.normalise(value).get()), "\(setting) reads \(now ?? "nothing")", sourceLocation: sourceLocation)
            _ = await ask(bot, "revert \(job.id)")
            let revert = try await lastJob(bot, id)
            #expect(revert.id != job.id && revert.state == .succeeded, "\(setting) revert: \(revert.summary ?? "")", sourceLocation: sourceLocation)
            #expect(try await desk.current(customer, only: [tunable])[setting] == before, "\(setting) was not put back", sourceLocation: sourceLocation)
        }
    }

    @Test func redisSettingsAreAppliedReadBackAndReverted() async throws {
        let scratch = try Scratch("redis-tuning")
        let port = freePort()
        let config = scratch.path("redis.conf")
        try scratch.write("redis.conf", "port \(port)\nbind 127.0.0.1\ndir \(scratch.directory.path)\nsave \"\"\nappendonly no\n")
        try scratch.write("redis-cli", "#!/bin/sh\nexec /usr/bin/redis-cli -p \(port) \"$@\"\n", executable: true)
        try await scratch.withServer(["/usr/bin/redis-server", config], ready: ["redis-cli", "PING"]) {
            let (bot, id) = try await Self.shop("cache-shop", local: scratch.local)
            let listing = await Self.ask(bot, "settings cache-shop", as: "U0VIEW001")
            #expect(listing.contains("redis.maxmemory") && listing.contains("16mb–2gb"), "\(listing)")
            #expect(listing.contains("redis.maxmemory-policy"), "\(listing)")

            // The guardrails, each with its reason; nothing is queued.
            #expect(await Self.ask(bot, "set cache-shop redis.maxmemory 5gb")
                == "Not changed: redis.maxmemory must lie between 16mb–2gb; 5gb is outside that range.")
            #expect(await Self.ask(bot, "set cache-shop redis.maxmemory 1900mb")
                == "Not changed: 1900mb of Redis does not fit: the container has 2048 MB, which leaves at most 1843 MB.")
            #expect(await Self.ask(bot, "set cache-shop redis.maxmemory-policy noeviction").contains(
                "noeviction makes a full Redis refuse writes, and this Redis is the store's cache, which must evict"))
            #expect(await Self.ask(bot, "set cache-shop redis.maxmemory lots").contains("is not a size"))
            #expect(await Self.ask(bot, "set cache-shop redis.maxmemory 256mb", as: "U0VIEW001").contains("needs the operator role"))
            #expect(try await bot.store.jobs(store: id, limit: 5).isEmpty)

            // A good value: a job, applied with CONFIG SET and kept with CONFIG REWRITE, read back.
            let asked = await Self.ask(bot, "set cache-shop redis.maxmemory 256mb")
            #expect(asked.hasPrefix("Set redis.maxmemory to 256mb (was 0 bytes) · cache-shop"), "\(asked)")
            #expect(asked.contains("✅ Read maxmemory back"), "\(asked)")
            let job = try await Self.lastJob(bot, id)
            #expect(job.state == .succeeded, "\(job)")
            #expect(job.kind == .tuning(TuningChange(setting: "redis.maxmemory", value: "268435456", previous: "0")))
            #expect(try await scratch.run(["redis-cli", "CONFIG", "GET", "maxmemory"]).output == "maxmemory\n268435456\n")
            #expect(try String(contentsOfFile: config, encoding: .utf8).contains("maxmemory 256mb"))
            _ = await Self.ask(bot, "set cache-shop redis.maxmemory-policy allkeys-lru")
            #expect(try await Self.lastJob(bot, id).state == .succeeded)
            // Snapshots: off in this Redis; the default schedule set, read back by its name, kept in the file.
            #expect(listing.contains("redis.save") && listing.contains("off"), "\(listing)")
            _ = await Self.ask(bot, "set cache-shop redis.save default")
            #expect(try await Self.lastJob(bot, id).state == .succeeded)
            #expect(try await scratch.run(["redis-cli", "CONFIG", "GET", "save"]).output == "save\n3600 1 300 100 60 10000\n")
            let kept = try String(contentsOfFile: config, encoding: .utf8)
            #expect(["save 3600 1\n", "save 300 100\n", "save 60 10000\n"].allSatisfy(kept.contains), "\(kept)")
            #expect(await Self.ask(bot, "set cache-shop redis.save often").contains("redis.save is one of off, hourly, default"))
            _ = await Self.ask(bot, "set cache-shop redis.save off")
            #expect(try await scratch.run(["redis-cli", "CONFIG", "GET", "save"]).output == "save\n\n")

            // The store's contact, by e-mail: the settings in words, and a change mailed back for a yes; it runs only then.
            let contact = Contact(email: "o@cache-shop.example", stores: [id])
            let router = try bot.wiring.commandRouter()
            let listed = await router.route("settings", contact: contact, logger: .init(label: "t")).plainText
            #expect(listed.contains("redis.maxmemory: 256mb (may be 16mb–2gb)"), "\(listed)")
            #expect(await router.route("set redis.maxmemory-policy noeviction", contact: contact, logger: .init(label: "t")).plainText
                .hasPrefix("Nothing was changed: noeviction makes a full Redis refuse writes"))
            let mailed = await router.route("set redis.maxmemory 128mb", contact: contact, logger: .init(label: "t")).plainText
            #expect(mailed.hasPrefix("We have mailed you the change of redis.maxmemory from 256mb to 128mb"), "\(mailed)")
            let approval = try #require(try await bot.store.approvals(store: id, since: .distantPast, limit: 5).first)
            #expect(approval.status == .pending)
            #expect(try await scratch.run(["redis-cli", "CONFIG", "GET", "maxmemory"]).output == "maxmemory\n268435456\n")
            _ = await Self.ask(bot, "approve \(approval.id)")
            #expect(try await Self.lastJob(bot, id).state == .succeeded)
            #expect(try await scratch.run(["redis-cli", "CONFIG", "GET", "maxmemory"]).output == "maxmemory\n134217728\n")
            // `revert` by e-mail puts back what the newest change replaced, after a yes too.
            let undo = await router.route("revert redis.maxmemory", contact: contact, logger: .init(label: "t")).plainText
            #expect(undo.hasPrefix("We have mailed you the change of redis.maxmemory from 128mb to 256mb"), "\(undo)")

            // Reverted in Slack: the value before the first change, set as another job.
            _ = await Self.ask(bot, "revert \(job.id)")
            let revert = try await Self.lastJob(bot, id)
            #expect(revert.id != job.id && revert.state == .succeeded, "\(revert)")
            #expect(try await scratch.run(["redis-cli", "CONFIG", "GET", "maxmemory"]).output == "maxmemory\n0\n")

            // Every Redis setting, each applied, read back and reverted.
            try await Self.applyAndRevertEach(bot, id, [("redis.maxmemory", "64mb"), ("redis.maxmemory-policy", "allkeys-lfu"),
                                                        ("redis.appendonly", "yes"), ("redis.save", "hourly")])
        }
    }

    @Test func mysqlSettingsAreAppliedReadBackAndGuarded() async throws {
        let scratch = try Scratch("mariadb-tuning")
        let socket = scratch.path("mysqld.sock")
        let install = try await scratch.run([
            "mariadb-install-db", "--no-defaults", "--datadir=\(scratch.path("data"))", "--tmpdir=\(try scratch.tmpdir())", "--user=root",
            "--auth-root-authentication-method=socket", "--skip-test-db"])
        try #require(install.succeeded, "\(install.output)")
        try scratch.write("mysql", "#!/bin/sh\nexec /usr/bin/mysql --no-defaults --socket=\(socket) -uroot \"$@\"\n", executable: true)
        try await scratch.withServer([
            "/usr/sbin/mariadbd", "--no-defaults", "--datadir=\(scratch.path("data"))", "--tmpdir=\(try scratch.tmpdir())", "--socket=\(socket)",
            "--skip-networking", "--user=root", "--pid-file=\(scratch.path("mysqld.pid"))", "--log-error=\(scratch.path("error.log"))",
            "--max-connections=77",
        ], ready: ["mysql", "--execute=SELECT 1"]) {
            let (bot, id) = try await Self.shop("db-tuning", local: scratch.local)
            #expect(await Self.ask(bot, "set db-tuning mysql.max_connections 450")
                == "Not changed: 450 connections may need about 1800 MB (4 MB each), more than the 2048 MB container can spare; at most 409 fit.")
            #expect(await Self.ask(bot, "set db-tuning mysql.max_connections 5").contains("must lie between 20–500"))
            _ = await Self.ask(bot, "set db-tuning mysql.max_connections 150")
            let job = try await Self.lastJob(bot, id)
            #expect(job.state == .succeeded, "\(job)")
            #expect(try await scratch.run(["mysql", "--batch", "--skip-column-names", "--execute=SELECT @@GLOBAL.max_connections"]).output == "150\n")
            _ = await Self.ask(bot, "set db-tuning mysql.long_query_time 0.5")
            #expect(try await Self.lastJob(bot, id).state == .succeeded)
            #expect(try await scratch.run(["mysql", "--batch", "--skip-column-names", "--execute=SELECT @@GLOBAL.long_query_time"]).output
                == "0.500000\n")
            _ = await Self.ask(bot, "revert \(job.id)")
            #expect(try await Self.lastJob(bot, id).state == .succeeded)
            #expect(try await scratch.run(["mysql", "--batch", "--skip-column-names", "--execute=SELECT @@GLOBAL.max_connections"]).output == "77\n")
            try await Self.applyAndRevertEach(bot, id, [("mysql.max_connections", "120"), ("mysql.long_query_time", "2.5")])
        }
    }

    @Test func varnishParametersAreSetAndReadBack() async throws {
        let scratch = try Scratch("varnish-tuning")
        try await scratch.withVarnish { _ in
            let (bot, id) = try await Self.shop("varnish-shop", local: scratch.local)
            #expect(await Self.ask(bot, "set varnish-shop varnish.default_ttl 30").contains("must lie between 60–86400"))
            _ = await Self.ask(bot, "set varnish-shop varnish.default_ttl 3600")
            let job = try await Self.lastJob(bot, id)
            #expect(job.state == .succeeded, "\(job)")
            #expect(job.kind == .tuning(TuningChange(setting: "varnish.default_ttl", value: "3600", previous: "120")))
            #expect(try await scratch.run(["varnishadm", "param.show", "default_ttl"]).output.contains("Value is: 3600.000"))
            _ = await Self.ask(bot, "revert \(job.id)")
            #expect(try await Self.lastJob(bot, id).state == .succeeded)
            #expect(try await scratch.run(["varnishadm", "param.show", "default_ttl"]).output.contains("Value is: 120.000"))
            try await Self.applyAndRevertEach(bot, id, [("varnish.default_ttl", "600"), ("varnish.default_grace", "30")])
        }
    }

    /// PHP's settings against a real PHP-FPM pool: a conf.d file written, the pool reloaded gracefully, the value read
    /// back from the pool's workers over FastCGI (`cgi-fcgi`), and reverted; both PHP guardrails refuse.
    @Test func phpSettingsAreWrittenReloadedAndReadBackFromTheLivePool() async throws {
        let scratch = try Scratch("php-tuning")
        let port = freePort()
        let binary = try #require(try FileManager.default.contentsOfDirectory(atPath: "/usr/sbin").sorted()
            .first { $0.hasPrefix("php-fpm") }, "php-fpm is not installed")
        try FileManager.default.createDirectory(atPath: scratch.path("conf.d"), withIntermediateDirectories: true)
        try scratch.write("php.ini", "zend_extension=opcache\nopcache.enable=1\nmemory_limit=128M\n")
        try scratch.write("fpm.conf", """
            [global]
            error_log = \(scratch.path("fpm.log"))
            daemonize = no
            pid = \(scratch.path("fpm.pid"))
            [www]
            listen = 127.0.0.1:\(port)
            pm = static
            pm.max_children = 2

            """)
        // The store's `pkill -USR2 -o php-fpm` reaches this pool's master only, not another PHP-FPM on the machine.
        try scratch.write("pkill", "#!/bin/sh\ns=$1; shift; exec /usr/bin/pkill \"$s\" -F \(scratch.path("fpm.pid")) \"$@\"\n", executable: true)
        try await scratch.withServer(["/usr/bin/env", "PHP_INI_SCAN_DIR=\(scratch.path("conf.d"))", "/usr/sbin/\(binary)",
                                      "-c", scratch.path("php.ini"), "-R", "-y", scratch.path("fpm.conf")],
                                     ready: ["/usr/bin/python3", "-c", "import socket; socket.create_connection(('127.0.0.1', \(port)), 1)"]) {
            let (bot, id) = try await Self.shop("php-tuned", local: scratch.local, settings: [
                "php_ini_dir": scratch.path("conf.d"), "php_fpm_listen": "127.0.0.1:\(port)", "php_max_children": "10"])
            let listing = await Self.ask(bot, "settings php-tuned", as: "U0VIEW001")
            #expect(listing.contains("php.memory_limit") && listing.contains("128mb") && listing.contains("128mb–1gb"), "\(listing)")
            #expect(listing.contains("php.opcache.validate_timestamps") && listing.contains("php.max_execution_time"), "\(listing)")
            #expect(listing.contains("MariaDB has a query cache"), "\(listing)")

            // The guardrails: every worker's memory must fit; timestamps stay checked without a deploy that resets OPcache.
            #expect(await Self.ask(bot, "set php-tuned php.memory_limit 256mb")
                == "Not changed: 256mb × 10 PHP workers (pm.max_children) is 2560 MB, more than the container's 2048 MB: "
                    + "at most 204mb each, or fewer workers.")
            #expect(await Self.ask(bot, "set php-tuned php.memory_limit 2gb").contains("must lie between 128mb–1gb"))
            #expect(await Self.ask(bot, "set php-tuned php.opcache.validate_timestamps off")
                .hasPrefix("Not changed: with validate_timestamps off, PHP keeps running the old code after a deploy"))
            #expect(try await bot.store.jobs(store: id, limit: 5).isEmpty)

            let asked = await Self.ask(bot, "set php-tuned php.memory_limit 192m")
            #expect(asked.hasPrefix("Set php.memory_limit to 192mb (was 128mb) · php-tuned"), "\(asked)")
            #expect(asked.contains("Write memory_limit = 192mb to PHP's conf.d") && asked.contains("Reload PHP-FPM gracefully"), "\(asked)")
            let job = try await Self.lastJob(bot, id)
            #expect(job.state == .succeeded, "\(job)")
            #expect(job.kind == .tuning(TuningChange(setting: "php.memory_limit", value: "201326592", previous: "134217728")))
            #expect(try String(contentsOfFile: scratch.path("conf.d/99-perfbot-memory_limit.ini"), encoding: .utf8) == "memory_limit = 192M\n")
            _ = await Self.ask(bot, "set php-tuned php.opcache.max_accelerated_files 20000")
            #expect(try await Self.lastJob(bot, id).state == .succeeded)
            let now = await Self.ask(bot, "settings php-tuned", as: "U0VIEW001")
            #expect(now.contains("192mb") && now.contains("20000"), "\(now)")

            // Reverted: the old value written and read back from the reloaded pool.
            _ = await Self.ask(bot, "revert \(job.id)")
            let revert = try await Self.lastJob(bot, id)
            #expect(revert.state == .succeeded, "\(revert)")
            #expect(try String(contentsOfFile: scratch.path("conf.d/99-perfbot-memory_limit.ini"), encoding: .utf8) == "memory_limit = 128M\n")
            try await Self.applyAndRevertEach(bot, id, [("php.memory_limit", "160mb"), ("php.max_execution_time", "90"),
                                                        ("php.opcache.memory_consumption", "192"), ("php.opcache.max_accelerated_files", "30000")])
            // With the deploy hook declared, timestamps may go unchecked.
            let (deploying, shop) = try await Self.shop("php-deploying", local: scratch.local, settings: [
                "php_ini_dir": scratch.path("conf.d"), "php_fpm_listen": "127.0.0.1:\(port)", "deploy_resets_opcache": "yes"])
            try await Self.applyAndRevertEach(deploying, shop, [("php.opcache.validate_timestamps", "off")])
        }
        // With the deploy hook declared, timestamps may go unchecked; a pool that is down fails the read, and nothing is queued.
        let (bot, id) = try await Self.shop("php-deploys", local: scratch.local, settings: [
            "php_ini_dir": scratch.path("conf.d"), "php_fpm_listen": "127.0.0.1:\(port)", "deploy_resets_opcache": "yes"])
        #expect(await Self.ask(bot, "set php-deploys php.opcache.validate_timestamps off")
            == "Not changed: perfbot could not read php.opcache.validate_timestamps now, so it could not put it back; PHP did not answer.")
        #expect(try await bot.store.jobs(store: id, limit: 5).isEmpty)
    }

    /// On MySQL 8 (`db_client: mysql`) a setting is made with SET PERSIST, so it outlives a restart; MySQL 8 has no query cache.
    @Test func mysql8SettingsPersist() async throws {
        let scratch = try Scratch("mysql8")
        // A MySQL 8 client stand-in: it records each statement and answers the value last set.
        try scratch.write("mysql", """
            #!/bin/sh
            for a; do case "$a" in --execute=*) q=${a#--execute=};; esac; done
            echo "$q" >> \(scratch.path("statements"))
            case "$q" in SELECT*) cat \(scratch.path("value")) 2>/dev/null || echo 151;; *) echo "${q##* }" > \(scratch.path("value"));; esac

            """, executable: true)
        let (bot, id) = try await Self.shop("mysql8-shop", local: scratch.local, settings: ["db_client": "mysql"])
        #expect(await Self.ask(bot, "settings mysql8-shop", as: "U0VIEW001").contains("MySQL 8 has no query cache"))
        _ = await Self.ask(bot, "set mysql8-shop mysql.max_connections 200")
        #expect(try await Self.lastJob(bot, id).state == .succeeded)
        let statements = try String(contentsOfFile: scratch.path("statements"), encoding: .utf8)
        #expect(statements.contains("SET PERSIST max_connections = 200\n"), "\(statements)")
    }

    /// A Varnish purge against a real varnishd: the pattern validated and anchored, the ban listed by Varnish, a cached
    /// page fetched again from the backend afterwards.
    @Test func aPurgeBansMatchingPagesInARealVarnish() async throws {
        let scratch = try Scratch("varnish-purge")
        try FileManager.default.createDirectory(atPath: scratch.path("category"), withIntermediateDirectories: true)
        try scratch.write("category/shoes.html", "<p>shoes</p>\n")
        try await scratch.withVarnish { front in
            let page = "http://127.0.0.1:\(front)/category/shoes.html"
            _ = try await scratch.run(["curl", "-fsS", "-o", "/dev/null", page])
            let (bot, id) = try await Self.shop("purged-shop", local: scratch.local)
            #expect(await Self.ask(bot, "purge purged-shop category").contains("is not a purge pattern"))
            #expect(await Self.ask(bot, "purge purged-shop /a;b").contains("is not a purge pattern"))
            #expect(await Self.ask(bot, "purge purged-shop /category/*", as: "U0VIEW001").contains("needs the operator role"))
            let asked = await Self.ask(bot, "purge purged-shop /category/shoes.*")
            #expect(asked.contains("Ban cached pages whose URL matches ^/category/shoes\\..*"), "\(asked)")
            let job = try await Self.lastJob(bot, id)
            #expect(job.state == .succeeded, "\(job)")
            #expect(job.kind == .operation(.purge(try #require(PurgePattern("/category/shoes.*")))))
            #expect(try await scratch.run(["varnishadm", "ban.list"]).output.contains("req.url ~ ^/category/shoes\\..*"))
            // The next request misses: Varnish fetched the page from the backend again.
            let headers = try await scratch.run(["curl", "-fsS", "-D", "-", "-o", "/dev/null", page]).output
            #expect(headers.lowercased().contains("age: 0"), "\(headers)")
        }
    }

    /// WP-Cron through a WP-CLI stand-in that keeps its events in a file: listed, run, switched off (its recurrence
    /// kept) and on again as jobs, with WP-CLI's own argv.
    @Test func wordPressCronIsListedRunAndSwitched() async throws {
        let scratch = try Scratch("wp-cron")
        try scratch.write("events", "woocommerce_cleanup_sessions twicedaily\nwp_version_check hourly\n")
        try scratch.write("wp", """
            #!/bin/sh
            echo "$*" >> \(scratch.path("wp.log"))
            ev=\(scratch.path("events"))
            case "$1 $2 $3" in
              "cron event list") echo "PHP Notice:  Undefined index: [host] in wp-config.php on line 90"; printf '['; sep=''; while read -r h r; do printf '%s{"hook":"%s","next_run_relative":"in 2 hours","recurrence":"%s"}' "$sep" "$h" "$r"; sep=','; done < "$ev"; printf ']\\n';;
              "cron event run") grep -q "^$4 " "$ev" || exit 1; echo "Executed the cron event '$4' in 0.01s.";;
              "cron event unschedule") grep -v "^$4 " "$ev" > "$ev.new"; mv "$ev.new" "$ev"; echo "Success: Successfully unscheduled 1 event for hook '$4'.";;
              "cron event schedule") echo "$4 $6" >> "$ev"; echo "Success: Scheduled event with hook '$4'.";;
              *) exit 1;;
            esac

            """, executable: true)
        let (bot, id) = try await Self.shop("wp-cron-shop", local: scratch.local)
        let schedule = await Self.ask(bot, "cron wp-cron-shop", as: "U0VIEW001")
        #expect(schedule.contains("woocommerce_cleanup_sessions") && schedule.contains("twicedaily") && schedule.contains("in 2 hours"), "\(schedule)")
        #expect(await Self.ask(bot, "cron wp-cron-shop run wp_version_check", as: "U0VIEW001").contains("needs the operator role"))
        #expect(await Self.ask(bot, "cron wp-cron-shop run x;y").contains("`x;y` is not a valid <event>"))
        #expect(await Self.ask(bot, "cron wp-cron-shop run -x").contains("is not a cron event name"))

        _ = await Self.ask(bot, "cron wp-cron-shop run wp_version_check")
        #expect(try await Self.lastJob(bot, id).state == .succeeded)
        _ = await Self.ask(bot, "cron wp-cron-shop off woocommerce_cleanup_sessions")
        let off = try await Self.lastJob(bot, id)
        #expect(off.state == .succeeded, "\(off)")
        #expect(off.kind == .operation(.toggleCron(try #require(CronTarget("woocommerce_cleanup_sessions", recurrence: "twicedaily")), enabled: false)))
        #expect(!(await Self.ask(bot, "cron wp-cron-shop", as: "U0VIEW001")).contains("woocommerce_cleanup_sessions"))
        #expect(await Self.ask(bot, "cron wp-cron-shop off woocommerce_cleanup_sessions").contains("is not scheduled"))
        #expect(await Self.ask(bot, "cron wp-cron-shop on wp_version_check").contains("has not switched wp_version_check off"))
        _ = await Self.ask(bot, "cron wp-cron-shop on woocommerce_cleanup_sessions")
        #expect(try await Self.lastJob(bot, id).state == .succeeded)
        // `/perf revert` of the switch-off switches it on again too.
        _ = await Self.ask(bot, "revert \(off.id)")
        #expect(try await Self.lastJob(bot, id).kind == .operation(.toggleCron(try #require(CronTarget("woocommerce_cleanup_sessions", recurrence: "twicedaily")), enabled: true)))
        let log = try String(contentsOfFile: scratch.path("wp.log"), encoding: .utf8)
        #expect(log.contains("cron event run wp_version_check --path=/var/www/html\n"), "\(log)")
        #expect(log.contains("cron event unschedule woocommerce_cleanup_sessions --path=/var/www/html\n"), "\(log)")
        #expect(log.contains("cron event schedule woocommerce_cleanup_sessions now twicedaily --path=/var/www/html\n"), "\(log)")
    }

    /// Magento's cron through its own tools' stand-ins: the newest `cron_schedule` rows through the read-only database
    /// client, a group run with `cron:run --group`, a group switched off and on in the crontab (`--exclude-group`), and
    /// the whole cron switched with its crontab; one job cannot be.
    @Test func magentoCronIsListedRunAndSwitchedByGroupOrAsAWhole() async throws {
        let scratch = try Scratch("magento-cron")
        try scratch.write("mysql", """
            #!/bin/sh
            echo "$*" >> \(scratch.path("mysql.log"))
            printf 'indexer_reindex_all_invalid\tsuccess\t2027-01-15 07:59\ncatalog_product_alert\tpending\t2027-01-15 08:05\n'

            """, executable: true)
        try FileManager.default.createDirectory(atPath: scratch.path("app/bin"), withIntermediateDirectories: true)
        try scratch.write("app/bin/magento", "#!/bin/sh\necho \"$*\" >> \(scratch.path("magento.log"))\n", executable: true)
        let customer = Customer(id: StoreID("magento-cron")!, platform: .magento, plan: .premium, contactEmail: "o@magento-cron.example",
                                executor: .local, settings: ["app_path": scratch.path("app"), "db_readonly_user": "reader"])
        let bot = try await SchedulerBot(customers: [customer], local: scratch.local,
                                         extra: ["PERFBOT_SLACK_USERS": "U0VIEW001:viewer,U0OPS0001:operator"])
        let schedule = await Self.ask(bot, "cron magento-cron", as: "U0VIEW001")
        #expect(schedule.contains("indexer_reindex_all_invalid") && schedule.contains("success") && schedule.contains("2027-01-15 07:59"),
                "\(schedule)")
        #expect(try String(contentsOfFile: scratch.path("mysql.log"), encoding: .utf8).contains("--user=reader --database=magento"))
        #expect(await Self.ask(bot, "cron magento-cron off indexer_reindex_all_invalid")
            .contains("indexer_reindex_all_invalid is a cron job, and Magento switches its cron by group"))
        #expect(await Self.ask(bot, "cron magento-cron off Index").contains("`Index` is not a cron group name"))

        // One group switched off and on in the crontab `cron:install` wrote, with Magento's own --exclude-group.
        let installed = "#~ MAGENTO START c5f9e5ed\n* * * * * /usr/bin/php /var/www/html/bin/magento cron:run 2>&1 | grep -v \"Ran jobs by schedule\" "
            + ">> /var/www/html/var/log/magento.cron.log\n#~ MAGENTO END c5f9e5ed\n"
        try scratch.write("crontab.txt", installed)
        try scratch.write("crontab", """
            #!/bin/sh
            case "$1" in -l) cat \(scratch.path("crontab.txt"));; -) cat > \(scratch.path("crontab.txt"));; *) exit 2;; esac

            """, executable: true)
        _ = await Self.ask(bot, "cron magento-cron off index")
        let excluded = try await Self.lastJob(bot, customer.id)
        #expect(excluded.state == .succeeded, "\(excluded)")
        _ = await Self.ask(bot, "cron magento-cron off index")
        #expect(try String(contentsOfFile: scratch.path("crontab.txt"), encoding: .utf8)
            == installed.replacingOccurrences(of: "cron:run 2>&1", with: "cron:run --exclude-group=index 2>&1"))
        _ = await Self.ask(bot, "revert \(excluded.id)")
        #expect(try await Self.lastJob(bot, customer.id).state == .succeeded)
        #expect(try String(contentsOfFile: scratch.path("crontab.txt"), encoding: .utf8) == installed)
        _ = await Self.ask(bot, "cron magento-cron run index")
        #expect(try await Self.lastJob(bot, customer.id).state == .succeeded)
        _ = await Self.ask(bot, "cron magento-cron off all")
        let off = try await Self.lastJob(bot, customer.id)
        #expect(off.state == .succeeded, "\(off)")
        _ = await Self.ask(bot, "revert \(off.id)")
        #expect(try await Self.lastJob(bot, customer.id).state == .succeeded)
        #expect(try String(contentsOfFile: scratch.path("magento.log"), encoding: .utf8)
            == "cron:run --group=index\ncron:remove\ncron:install --force\n")
    }

    /// Crawlers turned away: a robots.txt rule written and read back, and a deny in a real nginx (checked with `nginx -t`
    /// and reloaded) that answers the crawler 403 while a browser still gets the page; a search engine is kept.
    @Test func crawlersAreTurnedAwayByRobotsTxtAndARealNginx() async throws {
        let scratch = try Scratch("crawler-block")
        let web = freePort()
        try FileManager.default.createDirectory(atPath: scratch.path("www"), withIntermediateDirectories: true)
        try scratch.write("www/index.html", "<p>shop</p>\n")
        try scratch.write("www/robots.txt", "User-agent: *\nDisallow: /wp-admin/\n")
        try scratch.write("deny.conf", "")
        try scratch.write("nginx.conf", scratch.nginxConfiguration(port: web, server: """
                root \(scratch.path("www"));
                include \(scratch.path("deny.conf"));
            """))
        // The store's nginx, with this configuration.
        try scratch.write("nginx", "#!/bin/sh\nexec /usr/sbin/nginx -c \(scratch.path("nginx.conf")) -p \(scratch.directory.path) \"$@\"\n",
                          executable: true)
        try await scratch.withServer(["nginx"], ready: ["curl", "-fsS", "-o", "/dev/null", "http://127.0.0.1:\(web)/"]) {
            let (bot, id) = try await Self.shop("blocking-shop", local: scratch.local, settings: [
                "web_root": scratch.path("www"), "nginx_deny_file": scratch.path("deny.conf")])
            let hour = Calendar(identifier: .gregorian).dateInterval(of: .hour, for: bot.clock.now)!.start.addingTimeInterval(-3600)
            let traffic = TrafficHour(hour: hour, requests: 1000, bots: 500, crawlers: [
                "Googlebot": .init(requests: 300, kind: .search, abusive: false, evidence: "user agent"),
                "AhrefsBot": .init(requests: 200, kind: .seo, abusive: false, evidence: "user agent")])
            try await bot.store.recordTraffic(id, hours: [traffic], cursor: SlowLogCursor(path: "/var/log/access.log", identity: "1", offset: 1),
                                              at: bot.clock.now)
            #expect(await Self.ask(bot, "block blocking-shop Googlebot") == "Not blocked: Googlebot is kept (keep: it brings visitors from search).")
            #expect(await Self.ask(bot, "block blocking-shop SomeBot").contains("say `robots`"))
            #expect(await Self.ask(bot, "block blocking-shop Bad\"Bot deny").contains("is not a valid <crawler>"))
            #expect(await Self.ask(bot, "block blocking-shop -Bot deny").contains("is not a crawler's name"))

            // As recommended: a robots.txt rule, added once, the rest of the file kept.
            _ = await Self.ask(bot, "block blocking-shop AhrefsBot")
            #expect(try await Self.lastJob(bot, id).state == .succeeded)
            _ = await Self.ask(bot, "block blocking-shop AhrefsBot")
            #expect(try String(contentsOfFile: scratch.path("www/robots.txt"), encoding: .utf8)
                == "User-agent: *\nDisallow: /wp-admin/\n\nUser-agent: AhrefsBot\nDisallow: /\n")

            // A deny: the crawler gets 403, a browser the page.
            _ = await Self.ask(bot, "block blocking-shop MJ12bot deny")
            let deny = try await Self.lastJob(bot, id)
            #expect(deny.state == .succeeded, "\(deny)")
            #expect(try String(contentsOfFile: scratch.path("deny.conf"), encoding: .utf8)
                == "if ($http_user_agent ~* \"MJ12bot\") { return 403; }\n")
            var status = ""
            for _ in 0..<20 {
                status = try await scratch.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-A", "Mozilla/5.0 (compatible; MJ12bot/v1.4.8)",
                                                "http://127.0.0.1:\(web)/"]).output
                if status == "403" { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(status == "403")
            #expect(try await scratch.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:\(web)/"]).output == "200")

            // The store's contact, by e-mail: the traffic report says how, `block` mails the recommendation for a yes.
            let contact = Contact(email: "o@blocking-shop.example", stores: [id])
            let router = try bot.wiring.commandRouter()
            let report = await router.route("traffic", contact: contact, logger: .init(label: "t")).plainText
            #expect(report.contains("write \"block AhrefsBot\""), "\(report)")
            #expect(await router.route("block Googlebot", contact: contact, logger: .init(label: "t")).plainText
                == "Nothing was changed: perfbot recommends for Googlebot: keep: it brings visitors from search.")
            #expect(await router.route("block NoSuchBot", contact: contact, logger: .init(label: "t")).plainText
                .hasPrefix("Nothing was changed: perfbot has not seen \"NoSuchBot\""))
            let mailed = await router.route("block ahrefsbot", contact: contact, logger: .init(label: "t")).plainText
            #expect(mailed.hasPrefix("We have mailed you a robots.txt rule for AhrefsBot in a separate message."), "\(mailed)")
            let approval = try #require(try await bot.store.approvals(store: id, since: .distantPast, limit: 5).first)
            #expect(approval.status == .pending)
            _ = await Self.ask(bot, "approve \(approval.id)")
            let approved = try await Self.lastJob(bot, id)
            let expected = try #require(CrawlerBlock(crawler: "AhrefsBot", how: .robots))
            #expect(approved.state == .succeeded && approved.kind == .operation(.blockCrawler(expected)), "\(approved)")
        }
        // Without a robots.txt file the application makes its own, which a file would replace: the step fails and says so.
        try FileManager.default.createDirectory(atPath: scratch.path("bare"), withIntermediateDirectories: true)
        let (bare, bareID) = try await Self.shop("no-robots-file", local: scratch.local, settings: ["web_root": scratch.path("bare")])
        _ = await Self.ask(bare, "block no-robots-file AhrefsBot robots")
        let refused = try await Self.lastJob(bare, bareID)
        #expect(refused.state == .failed && refused.steps.first?.reason?.contains("there is no robots.txt file") == true, "\(refused)")
        #expect(!FileManager.default.fileExists(atPath: scratch.path("bare/robots.txt")))
        // A store without the include file set is refused before anything runs.
        let (bot, id) = try await Self.shop("no-deny-file", local: scratch.local)
        #expect(await Self.ask(bot, "block no-deny-file MJ12bot deny").contains("nginx_deny_file"))
        #expect(try await bot.store.jobs(store: id, limit: 5).isEmpty)
    }

    /// A service that says yes but holds another value: the job fails and says what the service reports.
    @Test func aValueTheServiceDoesNotHoldFailsTheJob() async throws {
        let scratch = try Scratch("fake-redis")
        // A redis-cli that accepts every CONFIG SET and always answers the old value.
        try scratch.write("redis-cli", "#!/bin/sh\ncase \"$2\" in GET) printf '%s\\n%s\\n' \"$3\" 0;; *) echo OK;; esac\n", executable: true)
        let (bot, id) = try await Self.shop("stuck-shop", local: scratch.local)
        _ = await Self.ask(bot, "set stuck-shop redis.maxmemory 256mb")
        let job = try await Self.lastJob(bot, id)
        #expect(job.state == .failed)
        #expect(job.summary == "Redis reports maxmemory = 0 bytes, not 256mb: the change did not take", "\(job)")
    }
}
}
