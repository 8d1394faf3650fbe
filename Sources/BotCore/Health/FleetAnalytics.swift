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
    static let steps: [(catalog: Double?, orders: Double?, samePlan: Bool, words: String?)] = [
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

/// Stores significantly worse than their peers (§3.3): below their cohort's 10th percentile on a measure on each
/// of the days asked, from each store's daily means.
public enum BenchmarkFlags {
    /// Per store, the labels of the measures it lags on every day of `days`.
    public static func lagging(_ customers: [Customer], cohorts: [StoreID: Cohort], measures: [BenchmarkMeasure],
                               daily: [MetricName: [StoreID: [Date: Double]]], days: [Date]) -> [StoreID: [String]] {
        var flags: [StoreID: [String]] = [:]
        for measure in measures {
            let values = daily[measure.metric] ?? [:]
            for customer in customers where customer.active {
                guard let cohort = cohorts[customer.id] else { continue }
                let lagsEveryDay = !days.isEmpty && days.allSatisfy { day in
                    guard let value = values[customer.id]?[day] else { return false }
                    let peers = cohort.peers.compactMap { values[$0.id]?[day] }
                    return BenchmarkLine(measure, value: value, peers: peers).isLagging
                }
                if lagsEveryDay { flags[customer.id, default: []].append(measure.label) }
            }
        }
        return flags
    }
}
