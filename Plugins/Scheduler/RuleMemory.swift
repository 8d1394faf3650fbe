import BotCore
import Foundation

/// The check cycle's memory between cycles, as Prometheus keeps its rule groups' state: every store's samples within
/// the rules' lookback, per metric, and its newest value of each metric. It is built from the tables once (on the
/// first cycle, after a long pause, or when the rules come to look further back) and then kept up to date from the
/// sample journal: each cycle reads only what was stored since the last one, so its cost follows new samples, not
/// the window. The rules judge what it holds exactly as a full read of the tables (`state(of:)`).
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

    /// What one refresh did, and what the rules of each store see now.
    struct Refresh: Sendable {
        /// Per store, what its rules see (see `state(of:)`): its samples, open issues and silence.
        var states: [StoreID: StoreState]
        /// Per store, the newest sample of each metric.
        var latest: [StoreID: MetricSnapshot]
        /// Per store, the day average of the averaged metric.
        var averages: [StoreID: Double]
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
    /// Samples a rebuilt list has room for beyond what it holds.
    static let headroom = 16
    /// Journal rows read per query.
    static let page = 200_000

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
    /// The leadership term the memory was kept in.
    private var term: Int64?
    /// The oldest sample and hour the memory holds, as the last pass that dropped old ones found them.
    private var oldestKept: (sample: Date, hour: Date)?

    /// Forgets everything when `term` is not the one the memory was kept in, so the next refresh rebuilds it from
    /// the tables (on a shared database another leader read the journal meanwhile).
    func follow(term: Int64?) {
        guard term != self.term else { return }
        self.term = term
        lastPass = nil
        stores = [:]
    }

    /// Brings the memory up to `now` and gives what the rules of each store in `lookbacks` (its rules' lookback)
    /// see, with `context`'s open issues and silences.
    func refresh(from store: any RuleStateStore, lookbacks: [StoreID: TimeInterval], context: FleetRuleContext,
                 now: Date) async throws -> Refresh {
        let wanted = lookbacks.values.max() ?? 0
        let dayAgo = now.addingTimeInterval(-Self.day)
        var rebuilt = false, read = 0
        if let lastPass, now >= lastPass, now.timeIntervalSince(lastPass) <= Self.staleAfter, wanted <= lookback {
            // What the memory holds reaches back as far as the furthest-looking rules it was built for.
            let horizon = now.addingTimeInterval(-lookback)
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
            forget(before: horizon, hoursBefore: dayAgo)
        } else {
            let fleet = try await store.fleetSamples(since: now.addingTimeInterval(-wanted), hourly: averaged, hoursFrom: dayAgo)
            stores = [:]
            for (id, latest) in fleet.latest { stores[id, default: Stored()].latest = latest }
            for (id, series) in fleet.series {
                // Room for the samples of the next cycles, so the first of them appends without copying every list.
                stores[id, default: Stored()].series = series.mapValues { samples in
                    var roomy = samples
                    roomy.reserveCapacity(samples.count + Self.headroom)
                    return roomy
                }
            }
            for (id, hours) in fleet.hourly { stores[id, default: Stored()].hours = hours }
            mark = fleet.mark
            lookback = wanted
            oldestKept = nil
            rebuilt = true
        }
        lastPass = now
        var refresh = Refresh(states: [:], latest: [:], averages: [:], rebuilt: rebuilt, newSamples: read, mark: mark)
        refresh.states.reserveCapacity(lookbacks.count)
        for id in lookbacks.keys {
            let stored = stores[id]
            refresh.states[id] = Self.state(of: stored, now: now, tracked: context.tracked[id] ?? [], silence: context.silences[id])
            refresh.latest[id] = stored?.latest
            refresh.averages[id] = Self.dayAverage(of: stored, now: now)
        }
        return refresh
    }

    /// Drops, in place, the samples before `horizon` and the hours before `hoursBefore` (a list may be left empty).
    /// Skips the pass over every store when nothing held is old enough to drop: the oldest sample and hour kept,
    /// as the last pass left them (a sample or hour added since is never older than the horizon it passed).
    private func forget(before horizon: Date, hoursBefore: Date) {
        if let kept = oldestKept, kept.sample > horizon, kept.hour >= hoursBefore { return }
        var oldestSample = Date.distantFuture, oldestHour = Date.distantFuture
        for id in Array(stores.keys) {
            if let first = stores[id]?.hours.first, first.hour < hoursBefore {
                stores[id]?.hours.removeAll { $0.hour < hoursBefore }
            }
            if let first = stores[id]?.hours.first { oldestHour = min(oldestHour, first.hour) }
            // What to drop is worked out first, so the lists are changed while nothing else refers to them.
            let drops: [(MetricName, Int)] = stores[id]?.series.compactMap { metric, samples in
                let old = samples.prefix { $0.at <= horizon }.count
                return old > 0 ? (metric, old) : nil
            } ?? []
            for (metric, old) in drops { stores[id]?.series[metric]?.removeFirst(old) }
            for samples in stores[id]?.series.values ?? [:].values {
                if let first = samples.first { oldestSample = min(oldestSample, first.at) }
            }
        }
        oldestKept = (oldestSample, oldestHour)
    }

    /// Adds a sample that was just stored, in its place by time; one per store, metric and second.
    private func apply(_ sample: MetricSample, since: Date) {
        // Changed in place: the memory holds the only reference between cycles, so nothing is copied.
        stores[sample.store, default: Stored()].latest.record(sample.metric, sample.value, at: sample.at)
        guard sample.at > since else { return }
        Self.place((sample.at, sample.value), in: &stores[sample.store, default: Stored()].series[sample.metric, default: []])
        if let kept = oldestKept, sample.at < kept.sample { oldestKept = (sample.at, kept.hour) }
    }

    /// Puts `sample` in its place by time, unless one of that second is there.
    private static func place(_ sample: (at: Date, value: Double), in samples: inout [(at: Date, value: Double)]) {
        if let last = samples.last, last.at < sample.at {
            samples.append(sample)
        } else if !samples.contains(where: { $0.at == sample.at }) {
            samples.insert(sample, at: samples.firstIndex { $0.at > sample.at } ?? samples.endIndex)
        }
    }

    /// Folds a sample of the averaged metric into its hour, as the rollup table does.
    private func addToHour(_ sample: MetricSample, from dayAgo: Date) {
        let seconds = Int64(sample.at.timeIntervalSince1970.rounded(.down))
        let hour = Date(timeIntervalSince1970: TimeInterval(seconds - seconds % 3600))
        guard hour >= dayAgo else { return }
        if let kept = oldestKept, hour < kept.hour { oldestKept = (kept.sample, hour) }
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

    /// What the rules of a store see at `now`: every sample the memory holds of it, and for a metric with none
    /// there, its newest value while that is current. The rules judge it exactly as what `RuleStateStore.state(of:)`
    /// reads from the tables (samples in (now − lookback, now], and the same newest values): each rule takes its own
    /// window, (now − window − gap, now], out of a list, which never reaches back to the lookback, and a reference
    /// metric is read as its newest current value either way. So the memory's lists are handed over as they are,
    /// shared rather than copied.
    static func state(of stored: Stored?, now: Date, tracked: [TrackedIssue], silence: Silence?) -> StoreState {
        var series = stored?.series ?? [:]
        if let latest = stored?.latest {
            for (metric, sampled) in latest.times where series[metric]?.isEmpty ?? true {
                if sampled <= now, now.timeIntervalSince(sampled) <= metric.freshness, let value = latest[metric] {
                    series[metric] = [(sampled, value)]
                }
            }
        }
        return StoreState(series: series, tracked: tracked, silence: silence)
    }
}
