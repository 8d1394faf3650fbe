import BotCore
import BotPlaybooks
import Foundation
import TrafficAnalytics
import Logging

/// Lighthouse against the store's url from perfbot's host, every 6 hours per store at a time of its own: each
/// store's slots start at an offset of its own (a hash of its name), so a fleet's runs spread over the six hours;
/// a store first seen runs at once only if its slot began within the last hour. At most two runs at a time. A run
/// takes a minute or so: it goes on in the background and records its own outcome when it ends.
public struct LighthouseCollector: MetricCollector {
    public let name = "lighthouse"
    public let probe: ProbeKind? = .lighthouse
    public let recordsItself = true
    /// Nil when the command is missing.
    let runner: LighthouseRunner?
    let schedule = Schedule()

    public init(runner: LighthouseRunner?) { self.runner = runner }

    public func source(_ context: CollectorContext) -> String { runner?.command ?? "PERFBOT_LIGHTHOUSE_COMMAND" }

    final class Schedule: @unchecked Sendable {
        let lock = NSLock()
        var slots: [StoreID: Int] = [:]
        var running: Set<StoreID> = []
    }

    public func collect(_ context: CollectorContext) async throws -> [(MetricName, Double)] {
        let (customer, now) = (context.customer, context.now)
        guard let runner else {
            await context.record(name, "PERFBOT_LIGHTHOUSE_COMMAND", "the Lighthouse command was not found when perfbot started")
            return []
        }
        guard let url = customer.url else {
            await context.record(name, runner.command, "the store has no url")
            return []
        }
        let period: TimeInterval = 6 * 3600
        let offset = TimeInterval(customer.id.rawValue.utf8.reduce(UInt64(14_695_981_039_346_656_037)) {
            ($0 ^ UInt64($1)) &* 1_099_511_628_211
        } % UInt64(period))
        let since = now.timeIntervalSince1970 - offset
        let slot = Int((since / period).rounded(.down))
        let schedule = self.schedule
        let starts: Bool = schedule.lock.withLock {
            let last = schedule.slots[customer.id] ?? (since.truncatingRemainder(dividingBy: period) < 3600 ? slot - 1 : slot)
            guard slot > last, !schedule.running.contains(customer.id), schedule.running.count < 2 else {
                if schedule.slots[customer.id] == nil { schedule.slots[customer.id] = last }
                return false
            }
            schedule.slots[customer.id] = slot
            schedule.running.insert(customer.id)
            return true
        }
        guard starts else { return [] }
        let name = self.name
        Task {
            let error = await runner.run(url: url, store: customer.id, now: now)
            _ = schedule.lock.withLock { schedule.running.remove(customer.id) }
            await context.record(name, runner.command, error)
        }
        return []
    }
}

/// A store's container read from Prometheus (cAdvisor's series): memory, CPU against the plan's cores, OOM kills
/// and disk. One query per reading serves the whole fleet: the first store of a round asks, the others wait for the
/// same answer; readings older than 30 s are asked again.
public struct PrometheusCollector: MetricCollector {
    public let name = "prometheus"
    public let probe: ProbeKind? = nil
    let fleet: Fleet

    public init(client: PrometheusClient, queries: PrometheusQueries) { fleet = Fleet(client: client, queries: queries) }

    /// Queries sent to Prometheus since start (they must not grow with the number of stores).
    public var queryCount: Int { get async { await fleet.queryCount } }

    public func applies(to customer: Customer) -> Bool { customer.container != nil }
    public func source(_ context: CollectorContext) -> String { fleet.client.baseURL }

    public func collect(_ context: CollectorContext) async throws -> [(MetricName, Double)] {
        guard let container = context.customer.container else { return [] }
        let limits = context.customer.limits
        let answer = await fleet.readings(now: context.now)
        let values = answer.values.compactMapValues { $0[container] }
        var readings: [(MetricName, Double?)] = [(.memoryPercent, values[.memoryPercent])]
        if let cores = values[.cpuCores], let limit = limits.cpuCores, limit > 0 { readings.append((.cpuPercent, cores / limit * 100)) }
        readings.append((.oomKills, values[.oomKills].map { $0.rounded() }))
        if let used = values[.diskBytes], let limit = limits.diskGB, limit > 0 {
            readings.append((.diskPercent, used / (Double(limit) * 1_073_741_824) * 100))
        }
        let found = readings.compactMap { metric, value in value.map { (metric, $0) } }
        // One failure for every query (Prometheus down) is said once; different ones each with their reading.
        let distinct = Set(answer.errors.values)
        var error = distinct.count == 1 && answer.errors.count == fleet.queries.all.count
            ? "\(distinct.first!) (all \(answer.errors.count) queries)"
            : answer.errors.isEmpty ? nil : answer.errors.sorted { $0.key.rawValue < $1.key.rawValue }
                .map { "\($0.key.rawValue): \($0.value)" }.joined(separator: "; ")
        if error == nil, values.isEmpty { error = "no series with \(fleet.queries.label)=\"\(container)\"" }
        if let error { throw ReadingFailure(error, readings: found) }
        return found
    }

    /// What Prometheus answered for the fleet: each reading's values by container, or its error.
    struct Answer: Sendable {
        var values: [PrometheusReading: [String: Double]] = [:]
        var errors: [PrometheusReading: String] = [:]
    }

    actor Fleet {
        nonisolated let client: PrometheusClient
        nonisolated let queries: PrometheusQueries
        private var current: (at: Date, task: Task<Answer, Never>)?
        private(set) var queryCount = 0

        init(client: PrometheusClient, queries: PrometheusQueries) {
            self.client = client
            self.queries = queries
        }

        func readings(now: Date) async -> Answer {
            if let current, abs(now.timeIntervalSince(current.at)) < 30 { return await current.task.value }
            let (client, queries) = (self.client, self.queries)
            queryCount += queries.all.count
            let task = Task {
                await withTaskGroup(of: (PrometheusReading, Result<[String: Double], any Error>).self) { group in
                    for (reading, query) in queries.all {
                        group.addTask {
                            do {
                                return (reading, .success(try await client.query(query, label: queries.label)))
                            } catch {
                                return (reading, .failure(error))
                            }
                        }
                    }
                    var answer = Answer()
                    for await (reading, result) in group {
                        switch result {
                        case let .success(values): answer.values[reading] = values
                        case let .failure(error): answer.errors[reading] = "\(error)"
                        }
                    }
                    return answer
                }
            }
            current = (now, task)
            return await task.value
        }
    }
}

/// Runs a store's collectors for the check cycle: those of its probes in their order, then those that apply to every
/// store (Prometheus), each at most once per its interval. Values outside a metric's range are dropped; each
/// reading's outcome is kept for `perfbot collectors` (a success rewritten at most every 5 minutes).
public actor Collector {
    public let collectors: [any MetricCollector]
    let executors: ExecutorFactory
    let clock: any BotClock
    let logger: Logger
    let packs: [Platform: any PlatformPlugin]
    let statuses: (any CollectorStatusStore)?
    let prometheus: PrometheusCollector?
    /// The last outcome written per store and reading.
    private var written: [String: (error: String?, at: Date)] = [:]
    /// When each store's reading last ran, for readings with an interval.
    private var lastRun: [String: Date] = [:]

    /// The readings `BotProbes` offers and those of the packs, as configured.
    public init(executors: ExecutorFactory, http: HTTPProbe = HTTPProbe(), clock: any BotClock, logger: Logger,
                slowQueries: (any SlowQueryStore)? = nil, slowLogBytesPerCycle: Int = 4 << 20,
                prometheus: PrometheusClient? = nil, prometheusQueries: PrometheusQueries = PrometheusQueries(),
                statuses: (any CollectorStatusStore)? = nil, packs: [any PlatformPlugin] = [],
                lighthouse: LighthouseRunner? = nil, traffic: (any TrafficStore)? = nil, geo: GeoIP? = nil) {
        let fleet = prometheus.map { PrometheusCollector(client: $0, queries: prometheusQueries) }
        var collectors: [any MetricCollector] = [HTTPCollector(http: http), RedisCollector(), VarnishCollector(), PHPFPMCollector(),
                                                 MySQLCollector(), DockerCollector(), CgroupCollector(), LighthouseCollector(runner: lighthouse)]
        if let slowQueries { collectors.append(SlowLogCollector(slowQueries: slowQueries, slowLogBytesPerCycle: slowLogBytesPerCycle)) }
        if let traffic { collectors.append(AccessLogCollector(traffic: traffic, bytesPerCycle: slowLogBytesPerCycle, geo: geo)) }
        collectors += packs.flatMap { pack in pack.collectors.map { PackReading(pack: pack, reading: $0) as any MetricCollector } }
        if let fleet { collectors.append(fleet) }
        self.init(collectors: collectors, executors: executors, clock: clock, logger: logger, statuses: statuses, packs: packs,
                  prometheus: fleet)
    }

    public init(collectors: [any MetricCollector], executors: ExecutorFactory, clock: any BotClock, logger: Logger,
                statuses: (any CollectorStatusStore)? = nil, packs: [any PlatformPlugin] = [], prometheus: PrometheusCollector? = nil) {
        self.collectors = collectors
        self.executors = executors
        self.clock = clock
        self.logger = logger
        self.statuses = statuses
        self.packs = Dictionary(packs.map { ($0.platform, $0) }, uniquingKeysWith: { first, _ in first })
        self.prometheus = prometheus
    }

    /// Queries sent to Prometheus since start.
    public var prometheusQueryCount: Int { get async { await prometheus?.queryCount ?? 0 } }

    /// The samples of every reading that applies to `customer`; a failing reading is logged and recorded.
    public func collect(_ customer: Customer) async -> [MetricSample] {
        let now = clock.now
        let context = CollectorContext(customer: customer, now: now, executors: executors, packs: packs) { [self] reading, source, error in
            await self.record(customer, reading: reading, source: source, error: error, at: self.clock.now)
        }
        let ordered = customer.probes.sorted().flatMap { probe in collectors.filter { $0.probe == probe } }
            + collectors.filter { $0.probe == nil }
        var samples: [MetricSample] = []
        for collector in ordered where collector.applies(to: customer) {
            let key = "\(customer.id)|\(collector.name)"
            if collector.interval > 0, let last = lastRun[key], now.timeIntervalSince(last) < collector.interval { continue }
            lastRun[key] = now
            var readings: [(MetricName, Double)] = []
            var error: String?
            do {
                readings = try await collector.collect(context)
            } catch let failure as ReadingFailure {
                (readings, error) = (failure.readings, failure.description)
            } catch {
                readings = []
                let failure = "\(error)"
                logger.notice("reading failed", metadata: ["store": "\(customer.id)", "reading": "\(collector.name)", "error": "\(failure)"])
                await record(customer, reading: collector.name, source: collector.source(context), error: failure, at: now)
                continue
            }
            samples += readings.filter { $0.0.accepts($0.1) }.map { MetricSample(store: customer.id, metric: $0.0, at: now, value: $0.1) }
            if let error { logger.notice("reading failed", metadata: ["store": "\(customer.id)", "reading": "\(collector.name)", "error": "\(error)"]) }
            if !collector.recordsItself {
                await record(customer, reading: collector.name, source: collector.source(context), error: error, at: now)
            }
        }
        return samples
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
}
