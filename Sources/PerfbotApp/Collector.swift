import BotCore
import BotPlaybooks
import BotProbes
import Foundation
import Logging

/// Runs a store's collectors: the HTTP probe from here, the others through the store's executor
/// (so `redis-cli` runs where the store's Redis is). Counters become rates between two readings.
public actor Collector {
    let executors: ExecutorFactory
    let http: HTTPProbe
    let clock: any BotClock
    let logger: Logger
    /// The previous readings of cumulative counters, per store.
    private var lastRedis: [StoreID: RedisInfo] = [:]
    private var lastSlowQueries: [StoreID: Double] = [:]

    public init(executors: ExecutorFactory, http: HTTPProbe = HTTPProbe(), clock: any BotClock, logger: Logger) {
        self.executors = executors
        self.http = http
        self.clock = clock
        self.logger = logger
    }

    /// The samples of every probe configured for `customer`; a failing probe is logged and skipped.
    public func collect(_ customer: Customer) async -> [MetricSample] {
        let now = clock.now
        var samples: [MetricSample] = []
        func add(_ metric: MetricName, _ value: Double?) {
            if let value, metric.accepts(value) {
                samples.append(MetricSample(store: customer.id, metric: metric, at: now, value: value))
            }
        }
        for probe in customer.probes.sorted() {
            do {
                switch probe {
                case .http:
                    guard let url = customer.url else { continue }
                    do {
                        let timing = try await http.probe(url)
                        add(.ttfbMs, timing.ttfbMs)
                        add(.httpDNSMs, timing.dnsMs)
                        add(.httpConnectMs, timing.connectMs)
                        if url.lowercased().hasPrefix("https://") { add(.httpTLSMs, timing.tlsMs) }
                        add(.httpTotalMs, timing.totalMs)
                        add(.uptimePercent, timing.statusCode < 500 ? 100 : 0)
                    } catch {
                        add(.uptimePercent, 0)
                        throw error
                    }
                case .redis:
                    let info = RedisInfo(try await run(["redis-cli", "INFO"], for: customer))
                    if let previous = lastRedis[customer.id] {
                        add(.redisHitRate, RedisInfo.hitRate(from: previous, to: info))
                        if let before = previous.evictedKeys, let now = info.evictedKeys, now >= before {
                            add(.redisEvictions, now - before)
                        }
                    }
                    lastRedis[customer.id] = info
                    add(.redisMemoryBytes, info.usedMemory)
                    add(.redisMemoryPercent, info.memoryPercent)
                case .varnish:
                    // Only the two counters: the whole of `varnishstat -j` is about 50 KB.
                    let json = try await run(["varnishstat", "-j", "-f", "MAIN.cache_hit", "-f", "MAIN.cache_miss"], for: customer)
                    add(.varnishHitRate, try VarnishStats(json: Array(json.utf8)).hitRate)
                case .phpFpm:
                    let status = try PHPFPMStatus(json: Array(try await run(
                        ["curl", "-fsS", "--max-time", "5", "http://127.0.0.1/fpm-status?json"], for: customer).utf8))
                    if status.totalProcesses > 0 {
                        add(.phpFpmBusyPercent, Double(status.activeProcesses) / Double(status.totalProcesses) * 100)
                    }
                case .mysql:
                    let status = MySQLStatus(try await run(["mysql", "--batch",
                        "--execute=SHOW GLOBAL STATUS WHERE Variable_name IN ('Threads_connected', 'Slow_queries')"], for: customer))
                    add(.activeConnections, status.number("threads_connected"))
                    if let slow = status.number("slow_queries") {
                        if let previous = lastSlowQueries[customer.id], slow >= previous { add(.slowQueryCount, slow - previous) }
                        lastSlowQueries[customer.id] = slow
                    }
                    let variables = MySQLStatus(try await run(
                        ["mysql", "--batch", "--execute=SHOW GLOBAL VARIABLES LIKE 'max_connections'"], for: customer))
                    add(.maxConnections, variables.number("max_connections"))
                }
            } catch {
                logger.notice("probe failed", metadata: ["store": "\(customer.id)", "probe": "\(probe.rawValue)",
                                                          "error": "\(error)"])
            }
        }
        return samples
    }

    private func run(_ argv: [String], for customer: Customer) async throws -> String {
        let outcome = try await executors.executor(for: customer).run(CommandRequest(argv: argv, timeout: 10))
        guard outcome.succeeded else { throw ProbeParseError.invalid("\(argv[0]): \(outcome.failureReason)") }
        return outcome.output
    }
}
