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
    /// Where slow-log classes go; nil leaves the slow-log collector off.
    let slowQueries: (any SlowQueryStore)?
    /// The most of a slow log read per store and cycle.
    let slowLogBytesPerCycle: Int
    /// When each store's slow log was last read (its recent counts start there).
    private var lastSlowLogRead: [StoreID: Date] = [:]
    /// The database in effect where each store's slow-log cursor stands (MySQL names it only when it changes).
    private var slowLogDatabase: [StoreID: [UInt8]] = [:]
    /// The Prometheus read for the whole fleet, and what it asks.
    let prometheus: PrometheusClient?
    let prometheusQueries: PrometheusQueries
    /// The fleet's readings of this cycle: one query per reading, shared by every store.
    private var fleetReadings: (at: Date, task: Task<FleetReadings, Never>)?
    /// Queries sent to Prometheus since start (they must not grow with the number of stores).
    public private(set) var prometheusQueryCount = 0
    /// Lighthouse, run from here every 6 hours per store at a time of its own; nil when the command is missing.
    let lighthouse: LighthouseRunner?
    /// The 6-hour slot each store last ran (or was first seen) in, and the runs under way.
    private var lighthouseSlots: [StoreID: Int] = [:]
    private var lighthouseRunning: Set<StoreID> = []
    /// The platform packs, whose own readings run for stores with the `platform` probe.
    let packs: [Platform: any PlatformPlugin]
    /// Where each reading's outcome is kept, for `perfbot collectors`.
    let statuses: (any CollectorStatusStore)?
    /// The last outcome written per store and reading: a success is rewritten at most every 5 minutes.
    private var written: [String: (error: String?, at: Date)] = [:]
    /// The previous readings of cumulative counters, per store.
    private var lastRedis: [StoreID: RedisInfo] = [:]
    private var lastSlowQueries: [StoreID: Double] = [:]
    private var lastCgroup: [StoreID: (at: Date, stats: CgroupStats)] = [:]

    public init(executors: ExecutorFactory, http: HTTPProbe = HTTPProbe(), clock: any BotClock, logger: Logger,
                slowQueries: (any SlowQueryStore)? = nil, slowLogBytesPerCycle: Int = 4 << 20,
                prometheus: PrometheusClient? = nil, prometheusQueries: PrometheusQueries = PrometheusQueries(),
                statuses: (any CollectorStatusStore)? = nil, packs: [any PlatformPlugin] = [],
                lighthouse: LighthouseRunner? = nil) {
        self.lighthouse = lighthouse
        self.packs = Dictionary(packs.map { ($0.platform, $0) }, uniquingKeysWith: { first, _ in first })
        self.slowQueries = slowQueries
        self.prometheus = prometheus
        self.prometheusQueries = prometheusQueries
        self.statuses = statuses
        self.slowLogBytesPerCycle = slowLogBytesPerCycle
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
                    let timing: HTTPTiming
                    do {
                        timing = try await http.probe(url)
                    } catch {
                        // No answer: down, and the failure's kind (dns, connect, tls, timeout) goes to the record.
                        add(.uptimePercent, 0)
                        throw error
                    }
                    add(.ttfbMs, timing.ttfbMs)
                    add(.httpDNSMs, timing.dnsMs)
                    add(.httpConnectMs, timing.connectMs)
                    if url.lowercased().hasPrefix("https://") { add(.httpTLSMs, timing.tlsMs) }
                    add(.httpTotalMs, timing.totalMs)
                    add(.uptimePercent, timing.statusCode < 500 ? 100 : 0)
                    add(.httpStatusCode, Double(timing.statusCode))
                    if timing.statusCode >= 500 { throw ProbeParseError.invalid("http \(timing.statusCode): the page answered with an error") }
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
                    // The slow log, when read, counts slow queries itself (by their own times).
                    if !customer.probes.contains(.slowLog), let slow = status.number("slow_queries") {
                        if let previous = lastSlowQueries[customer.id], slow >= previous { add(.slowQueryCount, slow - previous) }
                        lastSlowQueries[customer.id] = slow
                    }
                    let variables = MySQLStatus(try await run(
                        ["mysql", "--batch", "--execute=SHOW GLOBAL VARIABLES LIKE 'max_connections'"], for: customer))
                    add(.maxConnections, variables.number("max_connections"))
                case .slowLog:
                    let counts = try await ingestSlowLog(customer, now: now)
                    add(.slowQueryCount, counts.slow)
                    add(.slowQuery3sCount, counts.over3s)
                case .platform:
                    // Each of the pack's readings succeeds or fails on its own, and is recorded under its own name.
                    for (metric, value) in await packReadings(customer, now: now) { add(metric, value) }
                    continue
                case .docker:
                    guard let container = customer.container else { throw ProbeParseError.invalid("docker stats needs the store's container") }
                    // On perfbot's host, where the containers run (the store's executor would run it inside one).
                    let outcome = try await executors.local.run(CommandRequest(
                        argv: [executors.docker, "stats", "--no-stream", "--format", "{{json .}}", container], timeout: 20))
                    guard outcome.succeeded else { throw ProbeParseError.invalid("docker stats: \(outcome.failureReason)") }
                    let stats = try DockerStats(json: outcome.output.split(whereSeparator: \.isNewline).first.map(String.init) ?? "")
                    add(.memoryPercent, stats.memoryPercent)
                    if let cores = customer.limits.cpuCores, cores > 0 { add(.cpuPercent, min(100, stats.cpuPercentOfOneCore / cores)) }
                case .cgroup:
                    let stats = try CgroupStats(try await run(["cat", "/sys/fs/cgroup/memory.current", "/sys/fs/cgroup/memory.max",
                                                               "/sys/fs/cgroup/memory.events", "/sys/fs/cgroup/cpu.stat"], for: customer))
                    add(.memoryPercent, stats.memoryPercent ?? customer.limits.memoryMB.map { stats.memoryBytes / (Double($0) * 1_048_576) * 100 })
                    if let previous = lastCgroup[customer.id], now > previous.at {
                        // Counters: the CPU time and the OOM kills since the last reading.
                        let cores = (stats.cpuMicroseconds - previous.stats.cpuMicroseconds) / 1e6 / now.timeIntervalSince(previous.at)
                        if let limit = customer.limits.cpuCores, limit > 0, cores >= 0 { add(.cpuPercent, min(100, cores / limit * 100)) }
                        if stats.oomKills >= previous.stats.oomKills { add(.oomKills, stats.oomKills - previous.stats.oomKills) }
                    }
                    lastCgroup[customer.id] = (now, stats)
                    let path = (try? packs[customer.platform]?.templateValues(for: customer))?[.appPath] ?? "/"
                    add(.diskPercent, try DiskUsage(try await run(["df", "-P", "-B1", "--", path], for: customer)).percent)
                case .lighthouse:
                    // Runs in the background (a minute or so); its figures arrive when it ends.
                    await startLighthouse(customer, now: now)
                    continue
                }
                await record(customer, reading: probe.rawValue, source: source(of: probe, for: customer), error: nil, at: now)
            } catch {
                logger.notice("probe failed", metadata: ["store": "\(customer.id)", "probe": "\(probe.rawValue)",
                                                          "error": "\(error)"])
                await record(customer, reading: probe.rawValue, source: source(of: probe, for: customer), error: "\(error)", at: now)
            }
        }
        if let prometheus, let container = customer.container {
            let fleet = await fleetReadings(now: now)
            let readings = fleet.values.compactMapValues { $0[container] }
            add(.memoryPercent, readings[.memoryPercent])
            if let cores = readings[.cpuCores], let limit = customer.limits.cpuCores, limit > 0 { add(.cpuPercent, cores / limit * 100) }
            add(.oomKills, readings[.oomKills].map { $0.rounded() })
            if let used = readings[.diskBytes], let limit = customer.limits.diskGB, limit > 0 {
                add(.diskPercent, used / (Double(limit) * 1_073_741_824) * 100)
            }
            // One failure for every query (Prometheus down) is said once; different ones each with their reading.
            let distinct = Set(fleet.errors.values)
            var error = distinct.count == 1 && fleet.errors.count == prometheusQueries.all.count
                ? "\(distinct.first!) (all \(fleet.errors.count) queries)"
                : fleet.errors.isEmpty ? nil : fleet.errors.sorted { $0.key.rawValue < $1.key.rawValue }
                    .map { "\($0.key.rawValue): \($0.value)" }.joined(separator: "; ")
            if error == nil, readings.isEmpty { error = "no series with \(prometheusQueries.label)=\"\(container)\"" }
            await record(customer, reading: "prometheus", source: prometheus.baseURL, error: error, at: now)
        }
        return samples
    }

    /// The platform pack's readings of `customer` (`wp option list`, `bin/magento indexer:status`, …), each
    /// rendered from the pack's argv template and run in the store's app path through its executor.
    func packReadings(_ customer: Customer, now: Date) async -> [(MetricName, Double)] {
        guard let pack = packs[customer.platform] else { return [] }
        var readings: [(MetricName, Double)] = []
        let executor = try? executors.executor(for: customer)
        for collector in pack.collectors {
            do {
                guard let executor else { throw PackCollectorError("the store cannot be reached (no container or host)") }
                let values = try pack.templateValues(for: customer)
                let outcome = try await executor.run(CommandRequest(argv: try collector.render(values), timeout: collector.timeout,
                                                                    workingDirectory: values[.appPath]))
                guard outcome.succeeded else { throw PackCollectorError("\(collector.argv[0]): \(outcome.failureReason)") }
                readings += try collector.read(outcome.output, now)
                await record(customer, reading: collector.name, source: executor.label, error: nil, at: now)
            } catch {
                logger.notice("pack reading failed", metadata: ["store": "\(customer.id)", "reading": "\(collector.name)",
                                                                 "error": "\(error)"])
                await record(customer, reading: collector.name, source: executor?.label ?? "unreachable", error: "\(error)", at: now)
            }
        }
        return readings
    }

    /// Starts the store's Lighthouse run when its 6-hour slot comes round. Each store's slots start at an offset
    /// of its own (a hash of its name), so a fleet's runs spread over the six hours; a store first seen runs at
    /// once only if its slot began within the last hour. At most two runs at a time.
    func startLighthouse(_ customer: Customer, now: Date) async {
        guard let lighthouse else {
            await record(customer, reading: "lighthouse", source: "PERFBOT_LIGHTHOUSE_COMMAND",
                         error: "the Lighthouse command was not found when perfbot started", at: now)
            return
        }
        guard let url = customer.url else {
            await record(customer, reading: "lighthouse", source: lighthouse.command, error: "the store has no url", at: now)
            return
        }
        let period: TimeInterval = 6 * 3600
        let offset = TimeInterval(customer.id.rawValue.utf8.reduce(UInt64(14_695_981_039_346_656_037)) {
            ($0 ^ UInt64($1)) &* 1_099_511_628_211
        } % UInt64(period))
        let since = now.timeIntervalSince1970 - offset
        let slot = Int((since / period).rounded(.down))
        let last = lighthouseSlots[customer.id] ?? (since.truncatingRemainder(dividingBy: period) < 3600 ? slot - 1 : slot)
        guard slot > last, !lighthouseRunning.contains(customer.id), lighthouseRunning.count < 2 else {
            if lighthouseSlots[customer.id] == nil { lighthouseSlots[customer.id] = last }
            return
        }
        lighthouseSlots[customer.id] = slot
        lighthouseRunning.insert(customer.id)
        Task {
            let outcome = await lighthouse.run(url: url, store: customer.id, now: now)
            await self.lighthouseEnded(customer, error: outcome, source: lighthouse.command, now: now)
        }
    }

    private func lighthouseEnded(_ customer: Customer, error: String?, source: String, now: Date) async {
        lighthouseRunning.remove(customer.id)
        await record(customer, reading: "lighthouse", source: source, error: error, at: clock.now)
    }

    /// What Prometheus answered for the fleet: each reading's values by container, or its error.
    struct FleetReadings: Sendable {
        var values: [PrometheusReading: [String: Double]] = [:]
        var errors: [PrometheusReading: String] = [:]
    }

    /// The fleet's readings of this cycle: the first store to ask starts the queries, the others wait for the
    /// same answer; readings older than 30 s are asked again.
    func fleetReadings(now: Date) async -> FleetReadings {
        if let current = fleetReadings, abs(now.timeIntervalSince(current.at)) < 30 { return await current.task.value }
        guard let prometheus else { return FleetReadings() }
        let queries = prometheusQueries
        prometheusQueryCount += queries.all.count
        let task = Task {
            await withTaskGroup(of: (PrometheusReading, Result<[String: Double], any Error>).self) { group in
                for (reading, query) in queries.all {
                    group.addTask {
                        do {
                            return (reading, .success(try await prometheus.query(query, label: queries.label)))
                        } catch {
                            return (reading, .failure(error))
                        }
                    }
                }
                var fleet = FleetReadings()
                for await (reading, result) in group {
                    switch result {
                    case let .success(values): fleet.values[reading] = values
                    case let .failure(error): fleet.errors[reading] = "\(error)"
                    }
                }
                return fleet
            }
        }
        fleetReadings = (now, task)
        return await task.value
    }

    /// Where a probe reads, in words for `perfbot collectors`.
    func source(of probe: ProbeKind, for customer: Customer) -> String {
        if probe == .http { return customer.url ?? "no url" }
        return (try? executors.executor(for: customer).label) ?? "unreachable"
    }

    /// Writes a reading's outcome when it changed, or a success every 5 minutes.
    func record(_ customer: Customer, reading: String, source: String, error: String?, at now: Date) async {
        guard let statuses else { return }
        let key = "\(customer.id)|\(reading)"
        if let last = written[key], last.error == error, error != nil || now.timeIntervalSince(last.at) < 300 { return }
        written[key] = (error, now)
        do {
            try await statuses.recordCollector(customer.id, reading: reading, source: source, error: error, at: now)
        } catch {
            logger.warning("could not record a collector's outcome", metadata: ["store": "\(customer.id)", "error": "\(error)"])
        }
    }

    /// Reads what the store's slow log gained since the last cycle (at most `slowLogBytesPerCycle`) into
    /// `slow_queries`, through the store's executor: `stat` for the file's identity and size, `dd` for the bytes.
    /// A new inode or a shorter file (rotation, truncation) starts over at 0; a log never read before starts
    /// at its last entries. - Returns: queries of 1 s or more, and of 3 s or more, since the last read.
    func ingestSlowLog(_ customer: Customer, now: Date) async throws -> (slow: Double, over3s: Double) {
        guard customer.plan.isPremium else { throw ProbeParseError.invalid("the slow-log collector is for premium plans") }
        guard let slowQueries else { throw ProbeParseError.invalid("no slow-query store") }
        guard let path = customer.settings[TemplateVariable.slowLog.rawValue], TemplateVariable.slowLog.accepts(path) else {
            throw ProbeParseError.invalid("set slow_log (the slow log's path) in the store's settings")
        }
        // A slow log is server-wide: only the entries of the store's own database (and account, where set) are its.
        guard let database = customer.settings[TemplateVariable.dbName.rawValue]
                ?? packs[customer.platform]?.templateDefaults(for: customer)[.dbName],
              TemplateVariable.dbName.accepts(database) else {
            throw ProbeParseError.invalid("set db_name in the store's settings: only its database's entries are read")
        }
        let stat = try await run(["stat", "--format=%i %s", "--", path], for: customer)
        let fields = stat.split(whereSeparator: \.isWhitespace)
        guard fields.count == 2, let size = Int64(fields[1]) else { throw ProbeParseError.invalid("stat \(path): \(stat.prefix(80))") }
        let identity = String(fields[0])
        let window = Int64(slowLogBytesPerCycle)
        var offset: Int64
        var fresh = false
        if let cursor = try await slowQueries.slowLogCursor(customer.id) {
            offset = cursor.path == path && cursor.identity == identity && cursor.offset <= size ? cursor.offset : 0
        } else {
            offset = max(0, size - window)
            fresh = offset > 0
        }
        let since = lastSlowLogRead[customer.id] ?? now.addingTimeInterval(-60)
        lastSlowLogRead[customer.id] = now
        guard size > offset else {
            try await slowQueries.recordSlowQueries(customer.id, hours: [], cursor: SlowLogCursor(path: path, identity: identity, offset: offset), at: now)
            return (0, 0)
        }
        let count = min(size - offset, window)
        let outcome = try await executors.executor(for: customer).run(CommandRequest(
            argv: ["dd", "if=\(path)", "bs=65536", "iflag=skip_bytes,count_bytes", "skip=\(offset)", "count=\(count)", "status=none"],
            timeout: 20, outputLimit: Int(count)))
        guard outcome.succeeded else { throw ProbeParseError.invalid("dd \(path): \(outcome.failureReason)") }
        var bytes = outcome.bytes
        var skipped: Int64 = 0
        if fresh {
            // Started inside the file: begin at the first whole entry.
            guard let start = SlowLogIngest.firstEntry(in: bytes) else { return (0, 0) }
            bytes.removeFirst(start)
            skipped = Int64(start)
        }
        var ingest = SlowLogIngest(recentSince: since, database: database, user: customer.settings[TemplateVariable.dbUser.rawValue])
        // Unknown after a restart or a rotation: entries before the next `use`/`Schema:` are left out, never guessed.
        ingest.databaseInEffect = offset == 0 || fresh ? [] : slowLogDatabase[customer.id] ?? []
        let reachedEnd = offset + count == size
        ingest.read(bytes, complete: reachedEnd && bytes.suffix(2) == [UInt8(ascii: ";"), 10], fallbackTime: now)
        let cursor = SlowLogCursor(path: path, identity: identity, offset: offset + skipped + ingest.consumed)
        slowLogDatabase[customer.id] = ingest.databaseInEffect
        try await slowQueries.recordSlowQueries(customer.id, hours: ingest.hours, cursor: cursor, at: now)
        return (Double(ingest.recentSlow), Double(ingest.recentOver3s))
    }

    private func run(_ argv: [String], for customer: Customer) async throws -> String {
        let outcome = try await executors.executor(for: customer).run(CommandRequest(argv: argv, timeout: 10))
        guard outcome.succeeded else { throw ProbeParseError.invalid("\(argv[0]): \(outcome.failureReason)") }
        return outcome.output
    }
}

/// Runs Lighthouse (`PERFBOT_LIGHTHOUSE_COMMAND`, default `lighthouse`) from perfbot's host against a store's
/// URL, reads its JSON with the same reader as the Lighthouse webhook, and records it.
public struct LighthouseRunner: Sendable {
    /// The resolved command.
    public let command: String
    let local: LocalExecutor
    let timeout: TimeInterval
    let recordReport: @Sendable (StoreID, LighthouseReport, [UInt8]) async throws -> Void

    /// Nil when `command` is not found (said once, at start, by whoever builds it).
    public init?(command: String, local: LocalExecutor = LocalExecutor(outputLimit: 32 << 20), timeout: TimeInterval = 180,
                 record: @escaping @Sendable (StoreID, LighthouseReport, [UInt8]) async throws -> Void) {
        guard let path = local.resolve(command, in: nil) else { return nil }
        self.command = path
        self.local = local
        self.timeout = timeout
        self.recordReport = record
    }

    /// The argv for `url` (checked: http(s), no spaces, not an option).
    public func argv(url: String) -> [String]? {
        let lowered = url.lowercased()
        guard lowered.hasPrefix("http://") || lowered.hasPrefix("https://"), !url.contains(where: \.isWhitespace) else { return nil }
        return [command, url, "--output=json", "--quiet", "--only-categories=performance",
                "--chrome-flags=--headless=new --no-sandbox"]
    }

    /// Runs it; nil when it worked, else why not.
    func run(url: String, store: StoreID, now: Date) async -> String? {
        guard let argv = argv(url: url) else { return "the store's url is not an http(s) URL" }
        do {
            let outcome = try await local.run(CommandRequest(argv: argv, timeout: timeout, outputLimit: 32 << 20))
            guard outcome.succeeded else { return "lighthouse: \(outcome.failureReason)" }
            let report = try LighthouseReport(json: outcome.bytes)
            try await recordReport(store, report, outcome.bytes)
            return report.runtimeError.map { "Lighthouse ran but could not load the page: \($0)" }
        } catch {
            return "lighthouse: \(error)"
        }
    }
}
