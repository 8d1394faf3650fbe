import BotCore
import BotPlaybooks
import BotStore
import Foundation
import PerfbotApp
import Testing
import TestSupport

/// The MySQL, Varnish and PHP-FPM collectors against real MariaDB, varnishd and php-fpm (behind nginx),
/// the Debian packages that `scripts/setup` installs. Each store tool the collector runs (`mysql`,
/// `varnishstat`, `curl`) is the real one, reached through a two-line shim that points it at the test
/// server, as the store's container would have it pointed at its own.
@Suite(.serialized) struct ServiceCollectorTests {
    /// A scratch folder holding the servers' files and the shims, first on the collector's PATH; removed with
    /// everything in it (a database's data files) once its test no longer holds it.
    final class Scratch: Sendable {
        let directory: URL
        let local: LocalExecutor

        init(_ name: String) throws {
            directory = URL(fileURLWithPath: "/tmp").appendingPathComponent("\(name)-\(UUID().uuidString.prefix(8))")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            local = LocalExecutor(searchPath: [directory.path, "/usr/sbin", "/usr/bin", "/sbin", "/bin"])
        }

        deinit { try? FileManager.default.removeItem(at: directory) }

        func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

        /// A temporary folder of this server's own: two servers of parallel tests never share temporary table files
        /// (children all get perfbot's one private TMPDIR).
        func tmpdir() throws -> String {
            let folder = path("tmp")
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            return folder
        }

        func write(_ name: String, _ text: String, executable: Bool = false) throws {
            try text.write(toFile: path(name), atomically: true, encoding: .utf8)
            if executable { chmod(path(name), 0o755) }
        }

        /// Runs `argv` until the end of `body`, its whole process group killed then.
        func withServer(_ argv: [String], ready: [String], _ body: @Sendable () async throws -> Void) async throws {
            let local = self.local
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    _ = try await local.run(CommandRequest(argv: argv, timeout: 300))
                }
                // A real server's start, which on a loaded machine (the whole suite in parallel) can take a while.
                var up = false
                let deadline = ContinuousClock.now + .seconds(90)
                while !up, ContinuousClock.now < deadline {
                    up = try await local.run(CommandRequest(argv: ready, timeout: 5)).succeeded
                    if !up { try await Task.sleep(for: .milliseconds(200)) }
                }
                #expect(up, "\(argv[0]) did not start")
                defer { group.cancelAll() }
                if up { try await body() }
            }
        }

        func run(_ argv: [String]) async throws -> CommandOutcome {
            try await local.run(CommandRequest(argv: argv, timeout: 20))
        }

        /// A file server on this folder with a real varnishd in front, until the end of `body`, which gets Varnish's
        /// port; the `varnishadm` and `varnishstat` shims reach this instance.
        func withVarnish(_ body: @Sendable (_ front: Int) async throws -> Void) async throws {
            let backend = freePort(), front = freePort()
            for tool in ["varnishadm", "varnishstat"] {
                try write(tool, "#!/bin/sh\nexec /usr/bin/\(tool) -n \(path("instance")) \"$@\"\n", executable: true)
            }
            try await withServer(["/usr/bin/python3", "-m", "http.server", "\(backend)", "--bind", "127.0.0.1", "--directory", directory.path],
                                 ready: ["curl", "-fsS", "-o", "/dev/null", "http://127.0.0.1:\(backend)/"]) {
                try await withServer([
                    "/usr/sbin/varnishd", "-F", "-j", "none", "-n", path("instance"), "-a", "127.0.0.1:\(front)",
                    "-b", "127.0.0.1:\(backend)", "-s", "malloc,16m",
                ], ready: ["varnishadm", "ping"]) {
                    try await body(front)
                }
            }
        }

        /// An nginx configuration that keeps every file in this folder, with one server on `port` holding `server`.
        func nginxConfiguration(port: Int, server: String) -> String {
            """
            daemon off;
            pid \(path("nginx.pid"));
            error_log \(path("nginx-error.log"));
            events {}
            http {
              access_log off;
              client_body_temp_path \(path("body")); fastcgi_temp_path \(path("fastcgi"));
              proxy_temp_path \(path("proxy")); uwsgi_temp_path \(path("uwsgi")); scgi_temp_path \(path("scgi"));
              server {
                listen 127.0.0.1:\(port);
            \(server)
              }
            }

            """
        }
    }

    func shop(_ name: String, probes: Set<ProbeKind>, local: LocalExecutor) async throws -> (SchedulerBot, StoreID) {
        let customer = Customer(id: StoreID(name)!, platform: .magento, plan: .premium, contactEmail: "o@\(name).example",
                                executor: .local, probes: probes)
        return (try await SchedulerBot(customers: [customer], local: local), customer.id)
    }

    @Test func mysqlConnectionsLimitAndSlowQueriesComeFromARealMariaDB() async throws {
        let scratch = try Scratch("mariadb")
        let socket = scratch.path("mysqld.sock")
        let install = try await scratch.run([
            "mariadb-install-db", "--no-defaults", "--datadir=\(scratch.path("data"))", "--tmpdir=\(try scratch.tmpdir())", "--user=root",
            "--auth-root-authentication-method=socket", "--skip-test-db"])
        try #require(install.succeeded, "\(install.output)")
        try scratch.write("mysql", "#!/bin/sh\nexec /usr/bin/mysql --no-defaults --socket=\(socket) -uroot \"$@\"\n",
                          executable: true)
        try await scratch.withServer([
            "/usr/sbin/mariadbd", "--no-defaults", "--datadir=\(scratch.path("data"))", "--tmpdir=\(try scratch.tmpdir())", "--socket=\(socket)",
            "--skip-networking", "--user=root", "--pid-file=\(scratch.path("mysqld.pid"))",
            "--log-error=\(scratch.path("error.log"))", "--max-connections=77", "--long-query-time=0.05",
        ], ready: ["mysql", "--execute=SELECT 1"]) {
            let (bot, id) = try await shop("db-shop", probes: [.mysql], local: scratch.local)
            _ = try await bot.cycle()
            // Three queries slower than long_query_time between the two readings.
            for _ in 0..<3 { #expect(try await scratch.run(["mysql", "--execute=SELECT SLEEP(0.1)"]).succeeded) }
            bot.clock.advance(by: 60)
            _ = try await bot.cycle()
            let latest = try #require(try await bot.store.latestMetrics(stores: nil)[id])
            #expect(latest[.maxConnections] == 77)
            #expect((latest[.activeConnections] ?? 0) >= 1)  // the collector's own connection at least
            #expect(latest[.slowQueryCount] == 3)
        }
    }

    @Test func varnishHitRateComesFromARealVarnish() async throws {
        let scratch = try Scratch("varnish")
        try scratch.write("index.html", "<p>shop</p>\n")
        try await scratch.withVarnish { front in
            // One miss fills the cache; three hits follow.
            for _ in 0..<4 {
                #expect(try await scratch.run(["curl", "-fsS", "-o", "/dev/null", "http://127.0.0.1:\(front)/index.html"]).succeeded)
            }
            let (bot, id) = try await shop("cached-shop", probes: [.varnish], local: scratch.local)
            _ = try await bot.cycle()
            let latest = try #require(try await bot.store.latestMetrics(stores: nil)[id])
            #expect(latest[.varnishHitRate] == 75)
        }
    }

    @Test func phpFpmBusyWorkersComeFromARealPool() async throws {
        let scratch = try Scratch("php-fpm")
        let fpm = freePort(), web = freePort()
        let binary = try #require(try FileManager.default.contentsOfDirectory(atPath: "/usr/sbin").sorted()
            .first { $0.hasPrefix("php-fpm") }, "php-fpm is not installed")
        try scratch.write("fpm.conf", """
            [global]
            error_log = \(scratch.path("fpm.log"))
            daemonize = no
            [www]
            listen = 127.0.0.1:\(fpm)
            pm = static
            pm.max_children = 4
            pm.status_path = /fpm-status

            """)
        try scratch.write("nginx.conf", scratch.nginxConfiguration(port: web, server: """
                location = /fpm-status {
                  fastcgi_pass 127.0.0.1:\(fpm);
                  fastcgi_param SCRIPT_NAME /fpm-status;
                  fastcgi_param SCRIPT_FILENAME /fpm-status;
                  fastcgi_param REQUEST_METHOD $request_method;
                  fastcgi_param QUERY_STRING $query_string;
                }
            """))
        // The store's web server answers on port 80 of its container; here curl is pointed at the test nginx.
        try scratch.write("curl", "#!/bin/sh\nexec /usr/bin/curl --connect-to 127.0.0.1:80:127.0.0.1:\(web) \"$@\"\n",
                          executable: true)
        try await scratch.withServer(["/usr/sbin/\(binary)", "-n", "-R", "-y", scratch.path("fpm.conf")],
                                     ready: ["/usr/bin/python3", "-c", "import socket; socket.create_connection(('127.0.0.1', \(fpm)), 1)"]) {
            try await scratch.withServer(["/usr/sbin/nginx", "-c", scratch.path("nginx.conf"), "-p", scratch.directory.path],
                                         ready: ["curl", "-fsS", "-o", "/dev/null", "http://127.0.0.1/fpm-status"]) {
                let (bot, id) = try await shop("php-shop", probes: [.phpFpm], local: scratch.local)
                _ = try await bot.cycle()
                let latest = try #require(try await bot.store.latestMetrics(stores: nil)[id])
                // Of four workers, one is busy: the one answering the status request.
                #expect(latest[.phpFpmBusyPercent] == 25)
            }
        }
    }
}
