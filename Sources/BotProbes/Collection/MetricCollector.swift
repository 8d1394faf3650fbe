import BotCore
import BotPlaybooks
import Foundation

/// What a collector reads a store with: its executor (so `redis-cli` runs where the store's Redis is), the time of
/// the round, the platform packs, and a way to record an outcome that arrives later (a Lighthouse run).
public struct CollectorContext: Sendable {
    public let customer: Customer
    public let now: Date
    public let executors: ExecutorFactory
    public let packs: [Platform: any PlatformPlugin]
    /// Records a reading's outcome that arrives after its round (name, source, error).
    public let record: @Sendable (_ reading: String, _ source: String, _ error: String?) async -> Void

    public init(customer: Customer, now: Date, executors: ExecutorFactory, packs: [Platform: any PlatformPlugin],
                record: @escaping @Sendable (String, String, String?) async -> Void) {
        self.customer = customer
        self.now = now
        self.executors = executors
        self.packs = packs
        self.record = record
    }

    /// Runs `argv` through the store's executor. - Throws: when it cannot run or exits non-zero.
    public func run(_ argv: [String], timeout: TimeInterval = 10) async throws -> String {
        let outcome = try await executors.executor(for: customer).run(CommandRequest(argv: argv, timeout: timeout))
        guard outcome.succeeded else { throw ProbeParseError.invalid("\(argv[0]): \(outcome.failureReason)") }
        return outcome.output
    }

    /// Where the store's executor runs, in words.
    public var executorLabel: String { (try? executors.executor(for: customer).label) ?? "unreachable" }
}

/// One reading of a store, declared by `BotProbes` (Redis, Varnish, PHP-FPM, MySQL, the slow log, docker, cgroup,
/// HTTP, Lighthouse, Prometheus) or by a platform pack (its `PackCollector`s), each with its interval, and run by
/// the check cycle's collection round (`Collector`).
public protocol MetricCollector: Sendable {
    /// Its name in `perfbot collectors` (`redis`, `wp_autoload`, `prometheus`).
    var name: String { get }
    /// The probe of the customers file that turns it on; nil for one that runs for every store it applies to.
    var probe: ProbeKind? { get }
    /// The least time between two readings of one store; 0 reads it every round.
    var interval: TimeInterval { get }
    /// Whether it reads `customer` at all.
    func applies(to customer: Customer) -> Bool
    /// Where it reads, in words.
    func source(_ context: CollectorContext) -> String
    /// Reads the store once. - Throws: `ReadingFailure` with what it read before failing, or any error.
    func collect(_ context: CollectorContext) async throws -> [(MetricName, Double)]
    /// Whether it records its own outcome later (through `context.record`) instead of the round recording it.
    var recordsItself: Bool { get }
}

extension MetricCollector {
    public var interval: TimeInterval { 0 }
    public var recordsItself: Bool { false }
    public func applies(to customer: Customer) -> Bool { probe.map(customer.probes.contains) ?? true }
    public func source(_ context: CollectorContext) -> String { context.executorLabel }
}

/// A reading that failed after reading some values (a site that answered 500 still has its timings).
public struct ReadingFailure: Error, CustomStringConvertible {
    public var readings: [(MetricName, Double)]
    public var description: String

    public init(_ description: String, readings: [(MetricName, Double)]) {
        self.description = description
        self.readings = readings
    }
}
