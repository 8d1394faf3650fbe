import BotCore
import Foundation

/// The check cycle's memory between cycles, as Prometheus keeps its rule groups' state: every store's samples within
/// the rules' lookback, per metric, and its newest value of each metric. It is built from the tables once (on the
/// first cycle, after a long pause, or when the rules come to look further back) and then kept up to date from the
/// sample journal: each cycle reads only what was stored since the last one, so its cost follows new samples, not
/// the window. The rules see exactly what a full read of the tables would give them (`state(of:)`).
actor RuleMemory {
    /// One store's samples and newest values.
    struct Stored: Sendable {
        /// Per metric, oldest first, one per second (as the table's key), including any taken after the cycle's time.
        var series: [MetricName: [(at: Date, value: Double)]] = [:]
        /// The newest sample of each metric, kept as `metric_latest` is.
        var latest = MetricSnapshot()
        /// The hourly sums and counts of the averaged metric, oldest first, kept as `metric_rollups` is.
        var hours: [(hour: Date, sum: Double, count: Int)] = []
    }

    /// What one refresh did.
    struct Refresh: Sendable {
        var stores: [StoreID: Stored]
        /// Whether the memory was built from the tables.
        var rebuilt: Bool
        /// Samples read from the journal.
        var newSamples: Int
        /// How far the journal was read (forget up to here once the cycle is done).
        var mark: Int64
    }

    /// After this long without a cycle, the memory is built again from the tables (the journal keeps what no
    /// cycle read for as long as the samples themselves, far longer than this).
    static let staleAfter: TimeInterval = 3600
    /// Journal rows read per query.
    static let page = 50_000

    /// The metric whose day average the cycle needs (availability, for the health score).
    let averaged: MetricName
    /// How far back that average reaches.
    static let day: TimeInterval = 86400

    init(averaged: MetricName = .uptimePercent) {
        self.averaged = averaged
    }

    private var stores: [StoreID: Stored] = [:]
    private var mark: Int64 = 0
    private var lookback: TimeInterval = 0
    private var lastPass: Date?

    /// Brings the memory up to `now` for rules that look `lookback` back.
    func refresh(from store: any RuleStateStore, lookback wanted: TimeInterval, now: Date) async throws -> Refresh {
        let since = now.addingTimeInterval(-wanted)
        guard let lastPass, now >= lastPass, now.timeIntervalSince(lastPass) <= Self.staleAfter, wanted <= lookback else {
            let fleet = try await store.fleetSamples(since: since, hourly: averaged, hoursFrom: now.addingTimeInterval(-Self.day))
            stores = [:]
            for (id, latest) in fleet.latest { stores[id, default: Stored()].latest = latest }
            for (id, series) in fleet.series { stores[id, default: Stored()].series = series }
            for (id, hours) in fleet.hourly { stores[id, default: Stored()].hours = hours }
            mark = fleet.mark
            lookback = wanted
            lastPass = now
            return Refresh(stores: stores, rebuilt: true, newSamples: 0, mark: mark)
        }
        // What the memory holds reaches back as far as the furthest-looking rules it was built for.
        let horizon = now.addingTimeInterval(-lookback)
        let dayAgo = now.addingTimeInterval(-Self.day)
        var read = 0
        while true {
            let (samples, last) = try await store.journal(after: mark, limit: Self.page)
            for sample in samples {
                apply(sample, since: horizon)
                if sample.metric == averaged { addToHour(sample, from: dayAgo) }
            }
            read += samples.count
            mark = last
            if samples.count < Self.page { break }
        }
        // Forget what every store's rules no longer reach.
        for index in stores.indices {
            if let first = stores.values[index].hours.first, first.hour < dayAgo {
                stores.values[index].hours.removeAll { $0.hour < dayAgo }
            }
            let series = stores.values[index].series
            // Most stores have nothing to forget: their oldest samples are still within reach.
            guard series.values.contains(where: { ($0.first?.at ?? horizon) <= horizon }) else { continue }
            stores.values[index].series = series.compactMapValues { samples in
                guard let first = samples.firstIndex(where: { $0.at > horizon }) else { return nil }
                return first == 0 ? samples : Array(samples[first...])
            }
        }
        self.lastPass = now
        return Refresh(stores: stores, rebuilt: false, newSamples: read, mark: mark)
    }

    /// Adds a sample that was just stored, in its place by time; one per store, metric and second.
    private func apply(_ sample: MetricSample, since: Date) {
        stores[sample.store, default: Stored()].latest.record(sample.metric, sample.value, at: sample.at)
        guard sample.at > since else { return }
        var samples = stores[sample.store]?.series[sample.metric] ?? []
        if let last = samples.last, last.at < sample.at {
            samples.append((sample.at, sample.value))
        } else if !samples.contains(where: { $0.at == sample.at }) {
            let index = samples.firstIndex { $0.at > sample.at } ?? samples.endIndex
            samples.insert((sample.at, sample.value), at: index)
        } else {
            return
        }
        stores[sample.store]?.series[sample.metric] = samples
    }

    /// Folds a sample of the averaged metric into its hour, as the rollup table does.
    private func addToHour(_ sample: MetricSample, from dayAgo: Date) {
        let seconds = Int64(sample.at.timeIntervalSince1970.rounded(.down))
        let hour = Date(timeIntervalSince1970: TimeInterval(seconds - seconds % 3600))
        guard hour >= dayAgo else { return }
        var hours = stores[sample.store]?.hours ?? []
        if let index = hours.firstIndex(where: { $0.hour >= hour }), hours[index].hour == hour {
            hours[index].sum += sample.value
            hours[index].count += 1
        } else {
            let index = hours.firstIndex { $0.hour > hour } ?? hours.endIndex
            hours.insert((hour, sample.value, 1), at: index)
        }
        stores[sample.store, default: Stored()].hours = hours
    }

    /// The store's average of the averaged metric over the day before `now`, as `MetricReader.average` computes it
    /// from the rollups (hours in [now − 1 day, now)); nil without any.
    static func dayAverage(of stored: Stored?, now: Date) -> Double? {
        let from = now.addingTimeInterval(-day)
        var sum = 0.0, count = 0
        for hour in stored?.hours ?? [] where hour.hour >= from && hour.hour < now {
            sum += hour.sum
            count += hour.count
        }
        return count > 0 ? sum / Double(count) : nil
    }

    /// What the rules of a store see at `now`, looking back to `since`: exactly what `RuleStateStore.state(of:)`
    /// reads from the tables (samples in (since, now], and for a metric with none there, its newest value while
    /// that is current).
    static func state(of stored: Stored?, since: Date, now: Date, tracked: [TrackedIssue], silence: Silence?) -> StoreState {
        var series: [MetricName: [(at: Date, value: Double)]] = [:]
        for (metric, samples) in stored?.series ?? [:] {
            let window = samples.filter { $0.at > since && $0.at <= now }
            if !window.isEmpty { series[metric] = window }
        }
        if let latest = stored?.latest {
            for (metric, sampled) in latest.times where series[metric] == nil {
                if sampled <= now, now.timeIntervalSince(sampled) <= metric.freshness, let value = latest[metric] {
                    series[metric] = [(sampled, value)]
                }
            }
        }
        return StoreState(series: series, tracked: tracked, silence: silence)
    }
}
