import ArgumentParser
import BotCore
import BotPostgres
import BotStore
import Foundation
import Logging
import PerfbotApp
import SchedulerPlugin

#if canImport(Glibc)
import Glibc
#endif

/// `perfbot bench-cycle`: the check cycle over a large fleet, against the time of a plain read of
/// the same rows. Run `--prepare` and `--run` as separate processes so peak memory is the cycle's.
struct BenchCycle: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-cycle",
        abstract: "Benchmark one check cycle over many stores (prepare a database, then run).")

    @Option(help: "The benchmark database.") var database = "bench-cycle.sqlite"
    @Option(help: "How many stores.") var stores = 10_000
    @Flag(help: "Create the fleet and its history.") var prepare = false
    @Flag(help: "Run one cycle and print its figures.") var run = false
    @Option(help: "The playbooks directory.") var playbooks = "Playbooks"
    @Option(help: "A Prometheus to read the fleet's containers from during the cycle.") var prometheus: String?
    @Option(help: "After the figures, run this many more idle cycles and print their median and fastest (for profiling).")
    var idle = 0
    @Option(help: "Then run this many more cycles, each after one new sample per store and metric a minute later, and print their median and fastest.")
    var busy = 0
    @Option(help: "Run the cycle on this PostgreSQL database (the prepared file is copied into it first, when it is empty).")
    var postgres: String?
    @Option(help: "The fleet's time as Unix seconds (default a fixed one; `scripts/bench-mixed` gives the present).")
    var at: Int?

    static let metrics: [MetricName] = [.cpuPercent, .memoryPercent, .diskPercent, .ttfbMs, .redisHitRate,
                                        .slowQueryCount, .slowQuery3sCount, .activeConnections, .uptimePercent,
                                        .oomKills, .requests]
    /// The fleet's clock: fixed, so a prepared database can be run later.
    static let fixed = Date(timeIntervalSince1970: 1_800_000_000)
    var now: Date { at.map { Date(timeIntervalSince1970: TimeInterval($0)) } ?? Self.fixed }

    func run() async throws {
        if prepare { try await prepareFleet() }
        if run { try await runCycle() }
        if !prepare && !run { throw ValidationError("say --prepare, --run, or both") }
    }

    func prepareFleet() async throws {
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: database + suffix) }
        let store = try SQLiteStore(path: database, metrics: Wiring.metricCatalogue)
        let started = Date()
        // The packs' platforms, one store in three on the second.
        let platforms = Wiring.platforms.map(\.platform)
        let customers = (0..<stores).compactMap { index in
            StoreID(String(format: "store-%05d", index)).map {
                Customer(id: $0, platform: platforms[index % 3 == 0 ? 1 : 0], plan: .premium,
                         contactEmail: "owner@store-\(index).example", container: "store-\(index)-app",
                         automationLevel: .notifyOnly)
            }
        }
        try await store.upsert(customers, at: now)
        var written = 0
        for chunk in stride(from: 0, to: customers.count, by: 500) {
            var samples: [MetricSample] = []
            var rollups: [(store: StoreID, metric: MetricName, hour: Date, mean: Double)] = []
            for (offset, customer) in customers[chunk..<min(chunk + 500, customers.count)].enumerated() {
                let hot = (chunk + offset) % 100 == 0  // one store in a hundred is in trouble
                for metric in Self.metrics {
                    let base = Self.value(metric, hot: hot)
                    for minute in 0..<60 {
                        samples.append(MetricSample(store: customer.id, metric: metric,
                                                    at: now.addingTimeInterval(TimeInterval(-minute * 60)),
                                                    value: base + (metric.isPercent ? Double(minute % 3) : 0)))
                    }
                    for hour in 1...168 {
                        rollups.append((customer.id, metric, now.addingTimeInterval(TimeInterval(-hour * 3600)), base))
                    }
                }
                samples.append(MetricSample(store: customer.id, metric: .maxConnections, at: now, value: 151))
            }
            try await store.bulkLoad(samples: samples, rollups: rollups)
            written += samples.count + rollups.count
        }
        print("Prepared \(stores) stores: \(written) rows in \(String(format: "%.0f", Date().timeIntervalSince(started))) s "
            + "(\(database)).")
    }

    static func value(_ metric: MetricName, hot: Bool) -> Double {
        switch metric {
        case .cpuPercent: hot ? 95 : 35
        case .memoryPercent: hot ? 92 : 55
        case .diskPercent: 50
        case .ttfbMs: 300
        case .redisHitRate: 95
        case .activeConnections: 40
        case .uptimePercent: 100
        case .requests: 300
        default: 0
        }
    }

    /// Runs the cycle on the prepared SQLite file, or on PostgreSQL (`--postgres`) after copying the file into it.
    func runCycle() async throws {
        let sqlite = try SQLiteStore(path: database, metrics: Wiring.metricCatalogue)
        guard let postgres else {
            return try await measure(sqlite) { try await sqlite.countSamples(since: $0) }
        }
        var logger = Logger(label: "bench-cycle")
        logger.logLevel = .warning
        try await PostgresPool.with(try PostgresEndpoint(url: postgres), connections: 8, logger: logger) { pool in
            try await pool.migrate()
            if try await pool.count("customers") == 0 {
                let started = Date()
                let copied = try await DatabaseCopy.copy(try sqlite.export(), to: pool)
                print("copied \(copied.total) rows into PostgreSQL in \(String(format: "%.0f", Date().timeIntervalSince(started))) s")
            }
            let store = PostgresStore(database: pool, replica: "bench", metrics: Wiring.metricCatalogue)
            try await measure(store) { try await store.countSamples(since: $0) }
        }
    }

    func measure(_ store: any PerfbotStore, countSamples: (Date) async throws -> Int) async throws {
        print("engine: \(postgres == nil ? "SQLite" : "PostgreSQL")")
        var configuration = try PerfbotConfiguration(values: [:])
        configuration.databasePath = postgres ?? database
        configuration.playbooksPath = playbooks
        configuration.prometheusURL = prometheus
        let clock = ManualClock(now)
        let wiring = try Wiring(configuration: configuration, store: store, clock: clock)
        let cycle = wiring.checkCycle(evaluation: .incremental)
        let floorStart = ContinuousClock.now
        let rows = try await countSamples(now.addingTimeInterval(-(600 + 90)))
        let floor = ContinuousClock.now - floorStart
        let load = { (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(3)
            .joined(separator: " ") ?? "?" }
        func line(_ title: String, _ report: CycleReport) -> String {
            let seconds = report.duration
            return "\(title): \(String(format: "%.2f", seconds)) s (\(Int(Double(report.checked) / max(seconds, 0.001))) stores/s, "
                + "\(String(format: "%.2f", seconds / max(floor.timeInterval, 0.001)))× the floor), \(report.newSamples) new samples read, "
                + "\(report.opened.count) opened, \(report.resolved.count) resolved, \(report.errors.count) errors · load \(load())"
        }
        // The first cycle builds the rules' memory from the tables; the later ones read only what arrived.
        let first = try await cycle.run()
        print("check cycle over \(first.checked) stores")
        print("plain read of the same window (\(rows) sample rows): \(String(format: "%.2f", floor.timeInterval)) s")
        print(line("  first cycle (builds the memory)", first))
        clock.advance(by: 15)
        print(line("  next cycle, no new samples", try await cycle.run()))
        clock.advance(by: 45)
        let customers = try await store.allCustomers()
        /// One new sample per store and metric, at the clock's time.
        func writeOneEach() async throws -> Int {
            var written = 0
            for chunk in stride(from: 0, to: customers.count, by: 500) {
                var samples: [MetricSample] = []
                for customer in customers[chunk..<min(chunk + 500, customers.count)] {
                    for metric in Self.metrics {
                        samples.append(MetricSample(store: customer.id, metric: metric, at: clock.now,
                                                    value: Self.value(metric, hot: false)))
                    }
                }
                written += try await store.insert(samples)
            }
            return written
        }
        let written = try await writeOneEach()
        print(line("  next cycle, one new sample per store and metric (\(written))", try await cycle.run()))
        clock.advance(by: 60)
        // The same cycle reading every store's window from the tables, as before the rules kept a memory.
        print(line("  a full-read cycle (no memory), for reference", try await wiring.checkCycle(evaluation: .full).run()))
        if idle > 0 {
            var durations: [TimeInterval] = []
            for _ in 0..<idle {
                clock.advance(by: 15)
                durations.append(try await cycle.run().duration)
            }
            durations.sort()
            print("  \(idle) more idle cycles: median \(String(format: "%.2f", durations[durations.count / 2])) s, "
                + "fastest \(String(format: "%.2f", durations[0])) s · load \(load())")
        }
        if busy > 0 {
            var durations: [TimeInterval] = []
            for _ in 0..<busy {
                clock.advance(by: 60)
                _ = try await writeOneEach()
                durations.append(try await cycle.run().duration)
            }
            durations.sort()
            print("  \(busy) more cycles, each with one new sample per store and metric: median "
                + "\(String(format: "%.2f", durations[durations.count / 2])) s, fastest \(String(format: "%.2f", durations[0])) s "
                + "· load \(load())")
        }
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        print("peak resident memory: \(usage.ru_maxrss / 1024) MB")
        if prometheus != nil {
            let readings = try await store.latestMetrics(stores: nil).values.filter { $0[.memoryPercent] != nil }.count
            print("Prometheus: \(await wiring.collector.prometheusQueryCount) queries for the whole fleet; "
                + "container memory read for \(readings) stores")
        }
    }
}

