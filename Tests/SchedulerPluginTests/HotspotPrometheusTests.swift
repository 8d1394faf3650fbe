import BotCore
import BotProbes
import BotStore
import ConsolePlugin
import Foundation
import Logging
import PerfbotApp
import Testing
import TestSupport

/// Hotspots and noisy neighbours end to end: a real Prometheus (Debian's) scraping a stand-in that serves
/// cAdvisor's disk and network counters for six containers and node_exporter's series for two hosts.
@Suite(.serialized) struct HotspotPrometheusTests {
    /// Bytes read per second per container (writes are a tenth of that, network out twice): store-6 hammers the disk.
    static let exporter = """
        import http.server, sys, time
        start = time.time()
        rates = {"store-1": 10e6, "store-2": 11e6, "store-3": 12e6, "store-4": 13e6, "store-5": 14e6, "store-6": 50e6}
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                # Each value carries the moment it was taken, so irate() divides by the exporter's own clock, not by
                # when a scrape of a busy machine was started.
                now = time.time()
                t, ms = now - start, int(now * 1000)
                lines = ["# TYPE container_fs_reads_bytes_total counter", "# TYPE container_fs_writes_bytes_total counter",
                         "# TYPE container_network_transmit_bytes_total counter", "# TYPE node_cpu_seconds_total counter",
                         "# TYPE node_memory_MemAvailable_bytes gauge", "# TYPE node_memory_MemTotal_bytes gauge"]
                for store, rate in rates.items():
                    name = store + "-app"
                    lines.append('container_fs_reads_bytes_total{device="/dev/vda",name="%s"} %f %d' % (name, 1e9 + rate * t, ms))
                    lines.append('container_fs_writes_bytes_total{device="/dev/vda",name="%s"} %f %d' % (name, 1e8 + rate * t / 10, ms))
                    lines.append('container_network_transmit_bytes_total{interface="eth0",name="%s"} %f %d' % (name, 1e9 + 2 * rate * t, ms))
                # web-1: 2 CPUs, each idle 2 % of the time (98 % busy); web-2: idle 90 %.
                for host, idle in (("web-1", 0.02), ("web-2", 0.9)):
                    for cpu in ("0", "1"):
                        lines.append('node_cpu_seconds_total{instance="%s:9100",cpu="%s",mode="idle"} %f %d' % (host, cpu, 1000 + idle * t, ms))
                        lines.append('node_cpu_seconds_total{instance="%s:9100",cpu="%s",mode="iowait"} %f %d' % (host, cpu, 10 + 0.01 * t, ms))
                        lines.append('node_cpu_seconds_total{instance="%s:9100",cpu="%s",mode="user"} %f %d' % (host, cpu, 5000 + (0.99 - idle) * t, ms))
                    lines.append('node_memory_MemAvailable_bytes{instance="%s:9100"} %d' % (host, 4 << 30))
                    lines.append('node_memory_MemTotal_bytes{instance="%s:9100"} %d' % (host, 16 << 30))
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
        (1...6).map { index in
            Customer(id: StoreID("store-\(index)")!, platform: .woocommerce, plan: .premium, contactEmail: "o@\(index).example",
                     container: "store-\(index)-app", host: index <= 3 || index == 6 ? "web-1" : "web-2",
                     limits: ResourceLimits(memoryMB: 1024, cpuCores: index == 6 ? 2 : 1))
        }
    }

    @Test func hotspotsAndTheNoisyNeighbourComeFromARealPrometheus() async throws {
        let scratch = try ServiceCollectorTests.Scratch("hotspots")
        let exporterPort = freePort(), prometheusPort = freePort()
        try scratch.write("exporter.py", Self.exporter)
        try scratch.write("prometheus.yml", """
            global:
              scrape_interval: 1s
            scrape_configs:
              - job_name: stand-in
                honor_labels: true
                static_configs:
                  - targets: ["127.0.0.1:\(exporterPort)"]

            """)
        let api = "http://127.0.0.1:\(prometheusPort)"
        try await scratch.withServer(["/usr/bin/python3", scratch.path("exporter.py"), "\(exporterPort)"],
                                     ready: ["curl", "-fsS", "-o", "/dev/null", "http://127.0.0.1:\(exporterPort)/metrics"]) {
            try await scratch.withServer([
                "/usr/bin/prometheus", "--config.file=\(scratch.path("prometheus.yml"))", "--storage.tsdb.path=\(scratch.path("tsdb"))",
                "--web.listen-address=127.0.0.1:\(prometheusPort)", "--log.level=warn",
            ], ready: ["sh", "-c", "curl -fsS '\(api)/api/v1/query?query=rate(node_cpu_seconds_total%5B1m%5D)' | grep -q web-1"]) {
                let bot = try await SchedulerBot(customers: Self.customers(), extra: ["PERFBOT_PROMETHEUS_URL": api,
                                                                                      "PERFBOT_SLACK_USERS": "U0VIEW001:viewer"])
                let now = bot.clock.now
                // CPU: store-6 uses 150 % of its 2 cores (3 cores), the others 50 % of 1.
                for customer in Self.customers() {
                    let share = customer.id.rawValue == "store-6" ? 150.0 : 50
                    try await bot.store.insert((0..<10).map { MetricSample(store: customer.id, metric: .cpuPercent,
                                                                           at: now.addingTimeInterval(Double(-60 * $0)), value: share) })
                }
                // store-2's pages: 300 ms over the last two days, 900 ms this last half hour.
                try await bot.store.insert((2...48).map { MetricSample(store: StoreID("store-2")!, metric: .ttfbMs,
                                                                       at: now.addingTimeInterval(Double(-3600 * $0)), value: 300) })
                try await bot.store.insert((0..<30).map { MetricSample(store: StoreID("store-2")!, metric: .ttfbMs,
                                                                       at: now.addingTimeInterval(Double(-60 * $0)), value: 900) })

                // Series seconds old: rate() over minutes would divide their few seconds by the whole range, so the
                // queries (configurable as the collectors' are) read the last two samples, as irate() does.
                var queries = ResourceQueries()
                queries.diskReads = #"irate(container_fs_reads_bytes_total{name!=""}[PERIOD])"#
                queries.diskWrites = #"irate(container_fs_writes_bytes_total{name!=""}[PERIOD])"#
                queries.networkSent = #"irate(container_network_transmit_bytes_total{name!=""}[PERIOD])"#
                queries.hostCPUBusy = #"1 - avg by (HOST) (irate(node_cpu_seconds_total{mode="idle"}[1m]))"#
                queries.hostIOWait = #"avg by (HOST) (irate(node_cpu_seconds_total{mode="iowait"}[1m]))"#
                let resources = PrometheusResources(client: PrometheusClient(baseURL: api), queries: queries)
                let console = ConsolePlugin(reader: bot.store, clock: bot.clock, analytics: bot.store, resources: resources)
                let router = try CommandRouter(plugins: [console], access: try AccessList(parsing: "U0VIEW001:viewer"))
                let hotspots = await router.route("hotspots --period 15m", user: SlackUserID("U0VIEW001")!, channel: nil,
                                                  logger: Logger(label: "t")).plainText
                #expect(hotspots.contains("🔥 *store-6* on web-1"), "\(hotspots)")
                // 50 MB/s read and 5 written; 100 MB/s sent (irate over real scrapes of a machine busy with the whole
                // suite: within 5 % either way).
                #expect(hotspots.range(of: #"disk I/O 5[2-7](\.[0-9])? MB/s"#, options: .regularExpression) != nil, "\(hotspots)")
                #expect(hotspots.range(of: #"network out (9[5-9]|10[0-5])(\.[0-9])? MB/s"#, options: .regularExpression) != nil, "\(hotspots)")
                #expect(!hotspots.contains("store-5*"), "\(hotspots)")
                #expect(!hotspots.contains("left out"), "\(hotspots)")

                // The wiring runs a watch on the Prometheus configured (and the alerts channel).
                #expect(bot.wiring.services().contains { $0 is NeighbourWatch })
                let watch = NeighbourWatch(analytics: bot.store, resources: resources, outbox: bot.store, runs: bot.store,
                                           alertsChannel: "C0ALERTS", clock: bot.clock, logger: Logger(label: "t"))
                let first = try await watch.look()
                #expect(first.posted == ["web-1"], "\(first.findings)")
                let finding = try #require(first.findings.first)
                #expect(finding.driver?.rawValue == "store-6")
                // Cores: store-6 3, store-1..3 0.5 each: 3 of 4.5.
                #expect(abs((finding.driverShare ?? 0) - 3 / 4.5) < 1e-9)
                #expect(finding.suffering.map(\.store.rawValue) == ["store-2"])
                // The same episode is not posted again.
                #expect(try await watch.look().posted.isEmpty)
                let posted = try await bot.store.pendingMessages().compactMap(\.message.slackText)
                #expect(posted.count == 1)
                #expect(posted.first?.contains("Noisy neighbour on web-1*: CPU 98 % busy") == true, "\(posted)")
                #expect(posted.first?.contains("Suffering: store-2 (TTFB 900 ms against 300 ms usually)") == true, "\(posted)")
            }
        }
    }
}
