import BotCore
import BotPlaybooks
import Foundation
import Logging

/// The recommendations each store's feed shows, so each is added once until its evidence changes.
actor RecommendationMemory {
    private var shown: [StoreID: [String: String]] = [:]

    /// Loads, in one read, what the feed shows of the stores not met yet.
    func preload(_ stores: [StoreID], load: ([StoreID]) async throws -> [StoreID: [String: String]]) async throws {
        let unknown = stores.filter { shown[$0] == nil }
        guard !unknown.isEmpty else { return }
        let loaded = try await load(unknown)
        for id in unknown { shown[id] = loaded[id] ?? [:] }
    }

    /// The recommendations of `current` that are new or whose evidence changed; they count as shown now.
    func fresh(_ current: [Recommendation], for store: StoreID,
               load: () async throws -> [String: String]) async throws -> [Recommendation] {
        if shown[store] == nil { shown[store] = try await load() }
        let new = current.filter { shown[store]?[$0.title] != $0.evidence }
        for recommendation in new { shown[store, default: [:]][recommendation.title] = recommendation.evidence }
        return new
    }
}

/// What one check cycle found and did.
public struct CycleReport: Sendable {
    public struct Event: Sendable, Equatable {
        public var store: StoreID
        public var what: String
    }

    public var checked = 0
    public var opened: [Event] = []
    public var resolved: [Event] = []
    public var actions: [Event] = []
    public var errors: [Event] = []
    public var duration: TimeInterval = 0
    /// Whether the rules' memory was built from the tables this cycle (the first one, or after a pause).
    public var rebuilt = false
    /// Samples this cycle read from the journal (what arrived since the last one).
    public var newSamples = 0
    /// Proposals closed this cycle without a decision (expired, or their issue resolved).
    public var proposalsClosed = 0
    /// The health snapshots the cycle wrote.
    public var snapshots: [SnapshotRecord] = []

    /// The report as lines for a terminal.
    public var lines: [String] {
        var lines = ["Checked \(checked) stores in \(Wording.number(duration, decimals: 2)) s: \(opened.count) opened, "
            + "\(resolved.count) resolved, \(actions.count) actions, \(errors.count) errors."]
        lines += opened.map { "  opened   \($0.store): \($0.what)" }
        lines += resolved.map { "  resolved \($0.store): \($0.what)" }
        lines += actions.map { "  action   \($0.store): \($0.what)" }
        lines += errors.map { "  error    \($0.store): \($0.what)" }
        if proposalsClosed > 0 { lines.append("  closed   \(proposalsClosed) unanswered or no longer needed proposals") }
        return lines
    }
}

/// One pass over every active store: rules, issue lifecycle, automation per policy, alerts, snapshots.
public struct CheckCycle: Sendable {
    /// How a cycle reads the samples its rules judge.
    public enum Evaluation: Sendable {
        /// Keep every store's recent samples in memory and read only what arrived since the last cycle.
        case incremental
        /// Read every store's window from the tables each cycle (the reference the incremental one must equal).
        case full
    }

    public struct Settings: Sendable {
        /// How long a condition must stay clear before its issue is resolved (flap suppression).
        public var quietPeriod: TimeInterval = 300
        /// Stores checked at once.
        public var concurrency = 8
        /// How long one store may take before it is skipped for this cycle.
        public var perStoreTimeout: Duration = .seconds(20)
        /// Where alerts go; nil keeps them out of Slack (they still reach the insights feed).
        public var alertsChannel: String?
        /// The domain of the one-time reply addresses of proposals; nil sends customers no proposal.
        public var replyDomain: String?
        /// How long a proposal stands.
        public var approvalTTL: TimeInterval = 86400
        public var evaluation = Evaluation.incremental

        public init(quietPeriod: TimeInterval = 300, concurrency: Int = 8, perStoreTimeout: Duration = .seconds(20),
                    alertsChannel: String? = nil) {
            self.quietPeriod = quietPeriod
            self.concurrency = concurrency
            self.perStoreTimeout = perStoreTimeout
            self.alertsChannel = alertsChannel
        }
    }

    let store: any SchedulerStore
    let rules: @Sendable (Customer) -> [DetectionRule]
    let automation: Automation
    let clock: any BotClock
    let settings: Settings
    let logger: Logger
    /// Runs the store's collectors; their samples are stored before the rules are evaluated.
    let collect: @Sendable (Customer) async -> [MetricSample]
    /// A new one-time approval token and the hash that is stored.
    let tokens: @Sendable () -> (token: String, hash: String)
    let scorer = HealthScorer()
    /// Which recommendation evidence each store's feed already shows (loaded from the feed on first sight).
    let recommendations = RecommendationMemory()
    /// The 💡 rules: shared ones and each platform's.
    let advice: Recommendations
    /// Every store's recent samples between cycles (incremental evaluation).
    let memory = RuleMemory()
    /// The maintenance windows the stores' traffic gives (for those without one of their own).
    let derivedWindows = DerivedWindows()

    public init(store: any SchedulerStore, rules: @escaping @Sendable (Customer) -> [DetectionRule], automation: Automation,
                clock: any BotClock, settings: Settings, logger: Logger,
                tokens: @escaping @Sendable () -> (token: String, hash: String),
                collect: @escaping @Sendable (Customer) async -> [MetricSample] = { _ in [] },
                advice: Recommendations = Recommendations()) {
        self.advice = advice
        self.tokens = tokens
        self.collect = collect
        self.store = store
        self.rules = rules
        self.automation = automation
        self.clock = clock
        self.settings = settings
        self.logger = logger
    }

    /// The automation this cycle applies (for building a cycle with other settings).
    public var automationForTesting: Automation { automation }

    /// Health snapshots written together while the checks go on.
    static let snapshotBatch = 1000

    /// Runs one cycle at the clock's current time.
    public func run() async throws -> CycleReport {
        let started = ContinuousClock.now
        let now = clock.now
        var report = CycleReport()
        let customers = try await store.allCustomers().filter(\.active)
        let ended = try await store.endedSilences(at: now)
        if !ended.isEmpty {
            let byID = Dictionary(customers.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
            for silence in ended { report.actions += try await silenceEnded(silence, customer: byID[silence.store], now: now) }
        }
        report.actions += try await openWindows(customers, now: now)
        report.proposalsClosed = try await closeLapsedProposals(customers: customers, now: now)
        // Collect first (concurrently, bounded), so this cycle's rules see this cycle's readings.
        try await withThrowingTaskGroup(of: Void.self) { group in
            // Every store: the collector knows which readings each has (its probes, the fleet's Prometheus).
            var waiting = customers[...]
            func next() {
                guard let customer = waiting.popFirst() else { return }
                group.addTask { try await store.insert(await collect(customer)) }
            }
            for _ in 0..<max(1, settings.concurrency) { next() }
            while try await group.next() != nil { next() }
        }
        // Each store's rules, worked out once per cycle.
        var ruleSets: [StoreID: [DetectionRule]] = [:]
        var lookbacks: [StoreID: TimeInterval] = [:]
        for customer in customers {
            let set = rules(customer)
            ruleSets[customer.id] = set
            lookbacks[customer.id] = RuleEvaluator.lookback(set)
        }
        let latest: [StoreID: MetricSnapshot]
        let uptime: [StoreID: Double]
        var states: [StoreID: StoreState] = [:]
        var mark: Int64?
        switch settings.evaluation {
        case .full:
            latest = try await store.latestMetrics(stores: nil)
            uptime = try await store.average(.uptimePercent, stores: nil, from: now.addingTimeInterval(-86400), to: now)
        case .incremental:
            let context = try await store.ruleContext(at: now)
            let refresh = try await memory.refresh(from: store, lookbacks: lookbacks, context: context, now: now)
            states = refresh.states
            latest = refresh.latest
            uptime = refresh.averages
            report.rebuilt = refresh.rebuilt
            report.newSamples = refresh.newSamples
            mark = refresh.mark
        }
        try await recommendations.preload(customers.map(\.id)) { [store] in try await store.shownRecommendations(of: $0) }
        var pending = customers[...]
        // The snapshots are written a batch at a time while the next stores are checked, so the database's work on
        // them overlaps the rules': a child task of the cycle writes them, one batch at a time and in order, and the
        // cycle ends once all are written (or, when the checks fail, once the write under way has ended).
        let (batches, written) = AsyncStream<[SnapshotRecord]>.makeStream()
        try await withThrowingTaskGroup(of: Void.self) { writer in
            defer { written.finish() }
            writer.addTask { [store] in
                for await batch in batches { try await store.writeSnapshots(batch, at: now) }
            }
            var unwritten: [SnapshotRecord] = []
            try await withThrowingTaskGroup(of: (StoreID, Result<CycleReport, any Error>).self) { group in
                func startNext() {
                    guard let customer = pending.popFirst() else { return }
                    let snapshot = latest[customer.id] ?? MetricSnapshot()
                    let state = states[customer.id], rules = ruleSets[customer.id] ?? []
                    group.addTask {
                        (customer.id, await check(customer, rules: rules, state: state, latest: snapshot,
                                                  uptime: uptime[customer.id], now: now))
                    }
                }
                for _ in 0..<max(1, settings.concurrency) { startNext() }
                while let (id, result) = try await group.next() {
                    report.checked += 1
                    switch result {
                    case let .success(part):
                        report.opened += part.opened
                        report.resolved += part.resolved
                        report.actions += part.actions
                        report.snapshots += part.snapshots
                        unwritten += part.snapshots
                        if unwritten.count >= Self.snapshotBatch {
                            written.yield(unwritten)
                            unwritten = []
                        }
                    case let .failure(error):
                        report.errors.append(.init(store: id, what: "\(error)"))
                        logger.error("check failed", metadata: ["store": "\(id)", "error": "\(error)"])
                    }
                    startNext()
                }
            }
            if !unwritten.isEmpty { written.yield(unwritten) }
            written.finish()
            try await writer.waitForAll()
        }
        // What the memory now holds need not be kept in the journal.
        if let mark { try await store.forgetJournal(through: mark) }
        report.duration = (ContinuousClock.now - started).timeInterval
        return report
    }

    /// Checks one store within the per-store timeout.
    /// - Parameter state: what the rules see, when the memory holds it (else read from the tables).
    func check(_ customer: Customer, rules: [DetectionRule], state: StoreState?, latest: MetricSnapshot, uptime: Double?,
               now: Date) async -> Result<CycleReport, any Error> {
        let timeout = settings.perStoreTimeout
        // A store of the memory with nothing firing and nothing open is only scored (and may note a
        // recommendation): no fix can run, so it is checked without a timer of its own.
        if let state, state.tracked.isEmpty {
            let firing = RuleEvaluator.firing(rules, series: state.series, now: now)
            if firing.isEmpty {
                do {
                    return .success(try await checkStore(customer, rules: rules, state: state, latest: latest, uptime: uptime,
                                                         now: now, firing: firing))
                } catch {
                    return .failure(error)
                }
            }
        }
        do {
            return .success(try await withThrowingTaskGroup(of: CycleReport?.self) { group in
                group.addTask { try await checkStore(customer, rules: rules, state: state, latest: latest, uptime: uptime, now: now) }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    return nil
                }
                defer { group.cancelAll() }
                guard let first = try await group.next(), let report = first else {
                    throw CheckError.timedOut(timeout)
                }
                return report
            })
        } catch {
            return .failure(error)
        }
    }

    enum CheckError: Error, CustomStringConvertible {
        case timedOut(Duration)
        var description: String {
            switch self {
            case let .timedOut(limit): "took longer than \(limit.timeInterval) s; skipped this cycle"
            }
        }
    }
}

