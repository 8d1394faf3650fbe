import BotCore
import BotStore
import Foundation
import Logging
import PerfbotApp
import Testing
import TestSupport

/// Container readings from a real Prometheus (Debian's `prometheus`, started here) scraping a small
/// exporter that serves cAdvisor's series for two containers: one query per reading for the whole fleet.
@Suite(.serialized) struct PrometheusCollectorTests {
    /// cAdvisor's series as it exposes them: memory in use and its limit, a CPU counter growing half a core,
    /// the OOM counter kept in a file the test bumps, filesystem usage.
    static let exporter = """
        import http.server, sys, time
        start = time.time()
        oom_file = sys.argv[2]
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                elapsed = time.time() - start
                oom = open(oom_file).read().strip() or "0"
                lines = ["# TYPE container_memory_working_set_bytes gauge",
                         'container_memory_working_set_bytes{id="/docker/a1",image="wordpress:6",name="shop-a-app"} 805306368',
                         'container_memory_working_set_bytes{id="/docker/b2",image="magento:2.4",name="shop-b-app"} 268435456',
                         "# TYPE container_spec_memory_limit_bytes gauge",
                         'container_spec_memory_limit_bytes{id="/docker/a1",image="wordpress:6",name="shop-a-app"} 1073741824',
                         'container_spec_memory_limit_bytes{id="/docker/b2",image="magento:2.4",name="shop-b-app"} 2147483648',
                         "# TYPE container_cpu_usage_seconds_total counter",
                         'container_cpu_usage_seconds_total{id="/docker/a1",image="wordpress:6",name="shop-a-app"} %f' % (100 + elapsed * 0.5),
                         'container_cpu_usage_seconds_total{id="/docker/b2",image="magento:2.4",name="shop-b-app"} %f' % (50 + elapsed * 0.1),
                         "# TYPE container_oom_events_total counter",
                         'container_oom_events_total{id="/docker/a1",image="wordpress:6",name="shop-a-app"} 0',
                         'container_oom_events_total{id="/docker/b2",image="magento:2.4",name="shop-b-app"} %s' % oom,
                         "# TYPE container_fs_usage_bytes gauge",
                         'container_fs_usage_bytes{device="/dev/vda1",id="/docker/a1",name="shop-a-app"} 5368709120',
                         'container_fs_usage_bytes{device="/dev/vda1",id="/docker/b2",name="shop-b-app"} 1073741824']
                body = ("\\n".join(lines) + "\\n").encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            def log_message(self, *args):
                pass
        http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
        """

    static func customers() -> [Customer] {
        [Customer(id: StoreID("shop-a")!, platform: .woocommerce, plan: .premium, contactEmail: "o@a.example", container: "shop-a-app",
                  limits: ResourceLimits(memoryMB: 1024, cpuCores: 2, diskGB: 20)),
         Customer(id: StoreID("shop-b")!, platform: .magento, plan: .premium, contactEmail: "o@b.example", container: "shop-b-app",
                  limits: ResourceLimits(memoryMB: 2048, cpuCores: 1, diskGB: 10))]
    }

    @Test func memoryCPUAndOOMKillsComeFromARealPrometheus() async throws {
        let scratch = try ServiceCollectorTests.Scratch("prometheus")
        let exporterPort = freePort(), prometheusPort = freePort()
        try scratch.write("exporter.py", Self.exporter)
        try scratch.write("oom", "0\n")
        try scratch.write("prometheus.yml", """
            global:
              scrape_interval: 1s
            scrape_configs:
              - job_name: cadvisor
                static_configs:
                  - targets: ["127.0.0.1:\(exporterPort)"]

            """)
        let api = "http://127.0.0.1:\(prometheusPort)"
        try await scratch.withServer(["/usr/bin/python3", scratch.path("exporter.py"), "\(exporterPort)", scratch.path("oom")],
                                     ready: ["curl", "-fsS", "-o", "/dev/null", "http://127.0.0.1:\(exporterPort)/metrics"]) {
            try await scratch.withServer([
                "/usr/bin/prometheus", "--config.file=\(scratch.path("prometheus.yml"))", "--storage.tsdb.path=\(scratch.path("tsdb"))",
                "--web.listen-address=127.0.0.1:\(prometheusPort)", "--log.level=warn",
            ], ready: ["sh", "-c", "curl -fsS '\(api)/api/v1/query?query=rate(container_cpu_usage_seconds_total%5B2m%5D)' | grep -q shop-b-app"]) {
                // A series seconds old: rate()[2m] would divide its first seconds by two minutes; the query is
                // overridable, and irate() reads the last two samples.
                let bot = try await SchedulerBot(customers: Self.customers(), extra: JobSafetyTests.users.merging([
                    "PERFBOT_PROMETHEUS_URL": api,
                    "PERFBOT_PROMETHEUS_CPU_CORES": #"irate(container_cpu_usage_seconds_total{name!=""}[1m])"#,
                ]) { $1 })
                _ = try await bot.cycle()
                let latest = try await bot.store.latestMetrics(stores: nil)
                let a = try #require(latest[StoreID("shop-a")!])
                #expect(a[.memoryPercent] == 75)
                #expect(abs((a[.cpuPercent] ?? 0) - 25) < 3, "half a core of two: \(a[.cpuPercent] ?? -1)")
                #expect(a[.diskPercent] == 25)
                #expect(a[.oomKills] == 0)
                let b = try #require(latest[StoreID("shop-b")!])
                #expect(b[.memoryPercent] == 12.5)
                // One query per reading for the whole fleet, not one per store.
                #expect(await bot.wiring.collector.prometheusQueryCount == 4)
                let store = try await bot.wiring.commandRouter().route("store shop-a", user: SlackUserID("U0VIEW001")!, channel: nil,
                                                                     logger: Logger(label: "t")).plainText
                #expect(store.contains("Memory") && store.contains("75"), "\(store)")
                #expect(store.contains("CPU") && store.contains("25"), "\(store)")

                // The OOM killer strikes shop-b twice: the counter rises, the container OOM issue opens.
                try scratch.write("oom", "2\n")
                try await Task.sleep(for: .seconds(3))
                bot.clock.advance(by: 60)
                _ = try await bot.cycle()
                #expect(await bot.wiring.collector.prometheusQueryCount == 8)
                let issues = try await bot.store.openIssues(store: nil)
                #expect(issues.contains { $0.store.rawValue == "shop-b" && $0.type == "container_oom" }, "\(issues.map(\.type))")
                #expect(!issues.contains { $0.store.rawValue == "shop-a" && $0.type == "container_oom" })
                let statuses = try await bot.store.collectorStatuses(store: StoreID("shop-a")!)
                #expect(statuses.first?.reading == "prometheus" && statuses.first?.lastError == nil && statuses.first?.source == api)
            }
        }
    }

    @Test func aPrometheusThatIsDownIsACollectorErrorNotAFailedCycle() async throws {
        let api = "http://127.0.0.1:\(freePort())"
        let bot = try await SchedulerBot(customers: Self.customers(), extra: ["PERFBOT_PROMETHEUS_URL": api])
        let report = try await bot.cycle()
        #expect(report.errors.isEmpty, "\(report.errors)")
        let statuses = try await bot.store.collectorStatuses(store: nil)
        #expect(statuses.count == 2)
        for status in statuses {
            #expect(status.reading == "prometheus" && status.lastSuccess == nil)
            #expect(status.lastError?.contains("Couldn't connect to server") == true, "\(status.lastError ?? "")")
        }
    }
}
