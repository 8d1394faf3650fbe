import BotCore
import BotPlaybooks
import Foundation

/// Per-store memory of a collector's last reading (counters become rates between two readings).
final class Memory<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [StoreID: Value] = [:]

    /// The previous value of `store`, replaced by `next`.
    func swap(_ store: StoreID, _ next: Value) -> Value? {
        lock.withLock {
            let previous = values[store]
            values[store] = next
            return previous
        }
    }

    subscript(store: StoreID) -> Value? {
        get { lock.withLock { values[store] } }
        set { lock.withLock { values[store] = newValue } }
    }
}

/// A timed request to the store's URL, from perfbot's host: TTFB, the phases, availability.
public struct HTTPCollector: MetricCollector {
    public let name = "http"
    public let probe: ProbeKind? = .http
    let http: HTTPProbe

    public init(http: HTTPProbe = HTTPProbe()) { self.http = http }

    public func applies(to customer: Customer) -> Bool { customer.probes.contains(.http) && customer.url != nil }
    public func source(_ context: CollectorContext) -> String { context.customer.url ?? "no url" }

    public func collect(_ context: CollectorContext) async throws -> [(MetricName, Double)] {
        guard let url = context.customer.url else { return [] }
        let timing: HTTPTiming
        do {
            timing = try await http.probe(url)
        } catch {
            // No answer: down, and the failure's kind (dns, connect, tls, timeout) goes to the record.
            throw ReadingFailure("\(error)", readings: [(.uptimePercent, 0)])
        }
        var readings: [(MetricName, Double)] = [(.ttfbMs, timing.ttfbMs), (.httpDNSMs, timing.dnsMs), (.httpConnectMs, timing.connectMs)]
        if url.lowercased().hasPrefix("https://") { readings.append((.httpTLSMs, timing.tlsMs)) }
        readings += [(.httpTotalMs, timing.totalMs), (.uptimePercent, timing.statusCode < 500 ? 100 : 0),
                     (.httpStatusCode, Double(timing.statusCode))]
        if timing.statusCode >= 500 {
            throw ReadingFailure("http \(timing.statusCode): the page answered with an error", readings: readings)
        }
        return readings
    }
}

/// `redis-cli INFO`: hit rate and evictions between two readings, memory.
public struct RedisCollector: MetricCollector {
    public let name = "redis"
    public let probe: ProbeKind? = .redis
    let last = Memory<RedisInfo>()

    public init() {}

    public func collect(_ context: CollectorContext) async throws -> [(MetricName, Double)] {
        let info = RedisInfo(try await context.run(["redis-cli", "INFO"]))
        var readings: [(MetricName, Double?)] = []
        if let previous = last.swap(context.customer.id, info) {
            readings.append((.redisHitRate, RedisInfo.hitRate(from: previous, to: info)))
            if let before = previous.evictedKeys, let now = info.evictedKeys, now >= before { readings.append((.redisEvictions, now - before)) }
        }
        readings += [(.redisMemoryBytes, info.usedMemory), (.redisMemoryPercent, info.memoryPercent)]
        return readings.compactMap { metric, value in value.map { (metric, $0) } }
    }
}

/// `varnishstat -j`, only the two counters (the whole of it is about 50 KB).
public struct VarnishCollector: MetricCollector {
    public let name = "varnish"
    public let probe: ProbeKind? = .varnish

    public init() {}

    public func collect(_ context: CollectorContext) async throws -> [(MetricName, Double)] {
        let json = try await context.run(["varnishstat", "-j", "-f", "MAIN.cache_hit", "-f", "MAIN.cache_miss"])
        return try VarnishStats(json: Array(json.utf8)).hitRate.map { [(.varnishHitRate, $0)] } ?? []
    }
}

/// PHP-FPM's status page: the share of busy workers.
public struct PHPFPMCollector: MetricCollector {
    public let name = "php_fpm"
    public let probe: ProbeKind? = .phpFpm

    public init() {}

    public func collect(_ context: CollectorContext) async throws -> [(MetricName, Double)] {
        let status = try PHPFPMStatus(json: Array(try await context.run(
            ["curl", "-fsS", "--max-time", "5", "http://127.0.0.1/fpm-status?json"]).utf8))
        guard status.totalProcesses > 0 else { return [] }
        return [(.phpFpmBusyPercent, Double(status.activeProcesses) / Double(status.totalProcesses) * 100)]
    }
}

/// `SHOW GLOBAL STATUS` and `max_connections`: connections, and slow queries between two readings (unless the
/// slow log is read, which counts them itself by their own times).
public struct MySQLCollector: MetricCollector {
    public let name = "mysql"
    public let probe: ProbeKind? = .mysql
    let lastSlow = Memory<Double>()

    public init() {}

    public func collect(_ context: CollectorContext) async throws -> [(MetricName, Double)] {
        let status = MySQLStatus(try await context.run(["mysql", "--batch",
            "--execute=SHOW GLOBAL STATUS WHERE Variable_name IN ('Threads_connected', 'Slow_queries')"]))
        var readings: [(MetricName, Double?)] = [(.activeConnections, status.number("threads_connected"))]
        if !context.customer.probes.contains(.slowLog), let slow = status.number("slow_queries") {
            if let previous = lastSlow.swap(context.customer.id, slow), slow >= previous { readings.append((.slowQueryCount, slow - previous)) }
        }
        let variables = MySQLStatus(try await context.run(["mysql", "--batch", "--execute=SHOW GLOBAL VARIABLES LIKE 'max_connections'"]))
        readings.append((.maxConnections, variables.number("max_connections")))
        return readings.compactMap { metric, value in value.map { (metric, $0) } }
    }
}

/// `docker stats` on perfbot's host, where the containers run: memory, and CPU against the plan's cores.
public struct DockerCollector: MetricCollector {
    public let name = "docker"
    public let probe: ProbeKind? = .docker

    public init() {}

    public func collect(_ context: CollectorContext) async throws -> [(MetricName, Double)] {
        guard let container = context.customer.container else { throw ProbeParseError.invalid("docker stats needs the store's container") }
        // On perfbot's host (the store's executor would run it inside the container).
        let outcome = try await context.executors.local.run(CommandRequest(
            argv: [context.executors.docker, "stats", "--no-stream", "--format", "{{json .}}", container], timeout: 20))
        guard outcome.succeeded else { throw ProbeParseError.invalid("docker stats: \(outcome.failureReason)") }
        let stats = try DockerStats(json: outcome.output.split(whereSeparator: \.isNewline).first.map(String.init) ?? "")
        var readings: [(MetricName, Double)] = [(.memoryPercent, stats.memoryPercent)]
        if let cores = context.customer.limits.cpuCores, cores > 0 { readings.append((.cpuPercent, min(100, stats.cpuPercentOfOneCore / cores))) }
        return readings
    }
}

/// cgroup v2 files and `df` inside the store: memory, CPU and OOM kills between two readings, disk.
public struct CgroupCollector: MetricCollector {
    public let name = "cgroup"
    public let probe: ProbeKind? = .cgroup
    let last = Memory<(at: Date, stats: CgroupStats)>()

    public init() {}

    public func collect(_ context: CollectorContext) async throws -> [(MetricName, Double)] {
        let (customer, now) = (context.customer, context.now)
        let stats = try CgroupStats(try await context.run(["cat", "/sys/fs/cgroup/memory.current", "/sys/fs/cgroup/memory.max",
                                                           "/sys/fs/cgroup/memory.events", "/sys/fs/cgroup/cpu.stat"]))
        var readings: [(MetricName, Double?)] = [
            (.memoryPercent, stats.memoryPercent ?? customer.limits.memoryMB.map { stats.memoryBytes / (Double($0) * 1_048_576) * 100 }),
        ]
        if let previous = last.swap(customer.id, (now, stats)), now > previous.at {
            // Counters: the CPU time and the OOM kills since the last reading.
            let cores = (stats.cpuMicroseconds - previous.stats.cpuMicroseconds) / 1e6 / now.timeIntervalSince(previous.at)
            if let limit = customer.limits.cpuCores, limit > 0, cores >= 0 { readings.append((.cpuPercent, min(100, cores / limit * 100))) }
            if stats.oomKills >= previous.stats.oomKills { readings.append((.oomKills, stats.oomKills - previous.stats.oomKills)) }
        }
        let path = (try? context.packs[customer.platform]?.templateValues(for: customer))?[.appPath] ?? "/"
        readings.append((.diskPercent, try DiskUsage(try await context.run(["df", "-P", "-B1", "--", path])).percent))
        return readings.compactMap { metric, value in value.map { (metric, $0) } }
    }
}

/// One of a platform pack's own readings (`wp option list`, `bin/magento indexer:status`, …): its argv rendered
/// from the pack's template and run in the store's app path through its executor.
public struct PackReading: MetricCollector {
    public let pack: any PlatformPlugin
    public let reading: PackCollector
    public var name: String { reading.name }
    public let probe: ProbeKind? = .platform

    public init(pack: any PlatformPlugin, reading: PackCollector) {
        self.pack = pack
        self.reading = reading
    }

    public func applies(to customer: Customer) -> Bool { customer.probes.contains(.platform) && customer.platform == pack.platform }

    public func collect(_ context: CollectorContext) async throws -> [(MetricName, Double)] {
        guard let executor = try? context.executors.executor(for: context.customer) else {
            throw PackCollectorError("the store cannot be reached (no container or host)")
        }
        let values = try pack.templateValues(for: context.customer)
        let outcome = try await executor.run(CommandRequest(argv: try reading.render(values), timeout: reading.timeout,
                                                            workingDirectory: values[.appPath]))
        guard outcome.succeeded else { throw PackCollectorError("\(reading.argv[0]): \(outcome.failureReason)") }
        return try reading.read(outcome.output, context.now)
    }
}
