import Foundation

/// The fleet's statistics the admin console uses (ORIGINAL-DESIGN §3.2, §3.3): medians, robust z-scores,
/// cohorts of similar stores and a store's percentile among them. Pure functions of their inputs.
public enum FleetStatistics {
    /// The median; nil for no values.
    public static func median(_ values: [Double]) -> Double? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }

    /// The median absolute deviation from the median.
    public static func mad(_ values: [Double]) -> Double? {
        guard let center = median(values) else { return nil }
        return median(values.map { abs($0 - center) })
    }

    /// Iglewicz and Hoaglin's modified z-score, 0.6745 (x − median) / MAD: far above peers from 3.5. Nil when the MAD
    /// is 0 (half the fleet or more alike) or there are fewer than 5 values: no spread to measure against.
    public static func robustZ(_ value: Double, among values: [Double]) -> Double? {
        guard values.count >= 5, let center = median(values), let spread = mad(values), spread > 0 else { return nil }
        return 0.6745 * (value - center) / spread
    }

    /// The share of `peers` (0–100) that `value` does better than, ties counting half (mid-rank).
    public static func percentile(_ value: Double, among peers: [Double], higherIsBetter: Bool) -> Double? {
        guard !peers.isEmpty else { return nil }
        let worse = peers.filter { higherIsBetter ? $0 < value : $0 > value }.count
        let tied = peers.filter { $0 == value }.count
        return (Double(worse) + Double(tied) / 2) / Double(peers.count) * 100
    }
}

/// Stores like one store (§3.3): the same platform and plan, a catalogue within ±20 % and orders a day within
/// ±30 %, widened step by step until at least `minimum` peers match, the widening stated.
public struct Cohort: Sendable, Equatable {
    /// The peers, the store itself left out.
    public var peers: [Customer]
    /// How far the match was widened, in words; nil when the first step found enough peers.
    public var widening: String?

    /// The steps: catalogue tolerance, orders tolerance, same plan, and the words for the step.
    public static let steps: [(catalog: Double?, orders: Double?, samePlan: Bool, words: String?)] = [
        (0.2, 0.3, true, nil),
        (0.4, 0.6, true, "catalogue within ±40 % and orders within ±60 %"),
        (nil, nil, true, "any catalogue size and order volume"),
        (nil, nil, false, "any catalogue size, order volume and plan"),
    ]

    /// The cohort of `store` among `fleet`.
    public static func of(_ store: Customer, in fleet: [Customer], minimum: Int = 5) -> Cohort {
        let others = fleet.filter { $0.id != store.id && $0.platform == store.platform && $0.active }
        var last = Cohort(peers: [], widening: nil)
        for step in steps {
            let peers = others.filter { peer in
                (!step.samePlan || peer.plan == store.plan)
                    && within(peer.catalogSize, of: store.catalogSize, step.catalog)
                    && within(peer.ordersPerDay, of: store.ordersPerDay, step.orders)
            }
            last = Cohort(peers: peers, widening: step.words)
            if peers.count >= minimum { return last }
        }
        return last
    }

    /// Whether `value` lies within `tolerance` of `reference` (any value when either is unknown or no tolerance).
    static func within(_ value: Int?, of reference: Int?, _ tolerance: Double?) -> Bool {
        guard let tolerance else { return true }
        guard let value, let reference else { return false }
        let low = Double(reference) * (1 - tolerance), high = Double(reference) * (1 + tolerance)
        return Double(value) >= low - 1e-9 && Double(value) <= high + 1e-9
    }
}

/// A measure on which stores are compared with their cohort.
public struct BenchmarkMeasure: Sendable, Equatable {
    public var metric: MetricName
    public var label: String
    public var higherIsBetter: Bool
    /// The figure compared: the mean of the period's samples, or their sum per hour.
    public var perHour: Bool

    public init(_ metric: MetricName, label: String, higherIsBetter: Bool, perHour: Bool = false) {
        self.metric = metric
        self.label = label
        self.higherIsBetter = higherIsBetter
        self.perHour = perHour
    }

    /// TTFB, memory, cache hit rate and slow queries per hour (§3.3).
    public static let standard = [
        BenchmarkMeasure(.ttfbMs, label: "TTFB", higherIsBetter: false),
        BenchmarkMeasure(.memoryPercent, label: "Memory", higherIsBetter: false),
        BenchmarkMeasure(.redisHitRate, label: "Cache hit rate", higherIsBetter: true),
        BenchmarkMeasure(.slowQueryCount, label: "Slow queries per hour", higherIsBetter: false, perHour: true),
    ]
}

/// One store against its cohort on one measure.
public struct BenchmarkLine: Sendable, Equatable {
    public var measure: BenchmarkMeasure
    public var value: Double?
    public var cohortAverage: Double?
    public var cohortBest: Double?
    /// Peers with a reading.
    public var cohortSize: Int
    public var percentile: Double?

    /// Compares `value` with `peers`' values of the same measure.
    public init(_ measure: BenchmarkMeasure, value: Double?, peers: [Double]) {
        self.measure = measure
        self.value = value
        cohortSize = peers.count
        cohortAverage = peers.isEmpty ? nil : peers.reduce(0, +) / Double(peers.count)
        cohortBest = measure.higherIsBetter ? peers.max() : peers.min()
        percentile = value.flatMap { FleetStatistics.percentile($0, among: peers, higherIsBetter: measure.higherIsBetter) }
    }

    /// Significantly worse than its peers: below their 10th percentile, with at least 5 of them to say so.
    public var isLagging: Bool { cohortSize >= 5 && (percentile ?? 100) < 10 }
}

/// Per store and metric, what a period's samples add up to, read for the whole fleet at once.
public struct MetricAggregate: Sendable, Equatable {
    public var mean: Double
    public var sum: Double
    public var count: Int
    public var max: Double
    /// Samples at or above the threshold asked for.
    public var atOrAbove: Int

    public init(mean: Double, sum: Double, count: Int, max: Double, atOrAbove: Int) {
        self.mean = mean
        self.sum = sum
        self.count = count
        self.max = max
        self.atOrAbove = atOrAbove
    }
}

/// Every store's cohort at once, for the daily flags over a whole fleet: the size-agnostic steps are shared
/// groups (same platform and plan, or same platform), never one copied list of thousands of peers per store.
public struct CohortIndex: Sendable {
    /// Where a store's peers are.
    public enum Peers: Sendable, Equatable {
        /// A cohort matched on size: these stores.
        case stores([StoreID])
        /// A whole group but the store itself (`platform` or `platform|plan`).
        case group(String)
    }

    let groups: [String: [Customer]]

    public init(_ fleet: [Customer]) {
        var groups: [String: [Customer]] = [:]
        for customer in fleet where customer.active {
            groups[Self.key(customer, plan: true), default: []].append(customer)
            groups[Self.key(customer, plan: false), default: []].append(customer)
        }
        self.groups = groups
    }

    static func key(_ customer: Customer, plan: Bool) -> String {
        plan ? "\(customer.platform.rawValue)|\(customer.plan.rawValue)" : customer.platform.rawValue
    }

    /// The members of a group.
    public func members(_ key: String) -> [Customer] { groups[key] ?? [] }

    /// The same cohort `Cohort.of` gives, as a reference.
    public func peers(of store: Customer, minimum: Int = 5) -> Peers {
        let samePlan = members(Self.key(store, plan: true))
        if store.catalogSize != nil, store.ordersPerDay != nil {
            for step in Cohort.steps.prefix(2) {
                let matched = samePlan.filter {
                    $0.id != store.id && Cohort.within($0.catalogSize, of: store.catalogSize, step.catalog)
                        && Cohort.within($0.ordersPerDay, of: store.ordersPerDay, step.orders)
                }
                if matched.count >= minimum { return .stores(matched.map(\.id)) }
            }
        }
        if samePlan.count - 1 >= minimum { return .group(Self.key(store, plan: true)) }
        return .group(Self.key(store, plan: false))
    }
}

/// Stores significantly worse than their peers (§3.3): below their cohort's 10th percentile on a measure on each
/// of the days asked, from each store's daily means.
public enum BenchmarkFlags {
    /// Per store, the labels of the measures it lags on every day of `days`.
    public static func lagging(_ customers: [Customer], index: CohortIndex, measures: [BenchmarkMeasure],
                               daily: [MetricName: [StoreID: [Date: Double]]], days: [Date]) -> [StoreID: [String]] {
        guard !days.isEmpty else { return [:] }
        let peers = Dictionary(customers.filter(\.active).map { ($0.id, index.peers(of: $0)) }, uniquingKeysWith: { first, _ in first })
        var flags: [StoreID: [String]] = [:]
        for measure in measures {
            let values = daily[measure.metric] ?? [:]
            var laggingDays: [StoreID: Int] = [:]
            for day in days {
                let today = values.compactMapValues { $0[day] }
                // Each group's values of the day, sorted once: a store's rank is two binary searches.
                var sortedGroups: [String: [Double]] = [:]
                for (store, value) in today {
                    guard let reference = peers[store] else { continue }
                    let lagging: Bool
                    switch reference {
                    case let .stores(ids):
                        lagging = BenchmarkLine(measure, value: value, peers: ids.compactMap { today[$0] }).isLagging
                    case let .group(key):
                        if sortedGroups[key] == nil {
                            sortedGroups[key] = index.members(key).compactMap { today[$0.id] }.sorted()
                        }
                        let sorted = sortedGroups[key] ?? []
                        let below = lowerBound(sorted, value), atOrBelow = upperBound(sorted, value)
                        // The store itself is one of the tied values: leave it out.
                        let count = sorted.count - 1
                        let ties = atOrBelow - below - 1
                        let worse = measure.higherIsBetter ? below : sorted.count - atOrBelow
                        lagging = count >= 5 && (Double(worse) + Double(ties) / 2) / Double(count) * 100 < 10
                    }
                    if lagging { laggingDays[store, default: 0] += 1 }
                }
            }
            for (store, count) in laggingDays where count == days.count { flags[store, default: []].append(measure.label) }
        }
        return flags
    }

    /// The first index whose value is not below `value`.
    static func lowerBound(_ sorted: [Double], _ value: Double) -> Int {
        var low = 0, high = sorted.count
        while low < high {
            let middle = (low + high) / 2
            if sorted[middle] < value { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// The first index whose value is above `value`.
    static func upperBound(_ sorted: [Double], _ value: Double) -> Int {
        var low = 0, high = sorted.count
        while low < high {
            let middle = (low + high) / 2
            if sorted[middle] <= value { low = middle + 1 } else { high = middle }
        }
        return low
    }
}
