import Foundation

/// Evaluates detection rules against stored samples at a given time.
public struct RuleEvaluator: Sendable {
    let samples: any SampleReader
    /// The longest gap between samples that still counts as continuous.
    let maxGap: TimeInterval

    public init(samples: any SampleReader, maxGap: TimeInterval = 90) {
        self.samples = samples
        self.maxGap = maxGap
    }

    /// The rules that fire given every sample of `series` (by metric, oldest first), without reading anything.
    public static func firing(_ rules: [DetectionRule], series: [MetricName: [(at: Date, value: Double)]], now: Date,
                              maxGap: TimeInterval = 90) -> [DetectionRule] {
        rules.filter { rule in
            let from = now.addingTimeInterval(-(rule.window + maxGap))
            // The samples in (from, now]: a part of the series, found by halving, not a copy.
            let all = series[rule.metric] ?? []
            let samples = all[firstIndex(in: all, after: from)..<firstIndex(in: all, after: now)]
            var reference: Double?
            if case let .percentOf(other) = rule.mode {
                reference = series[other]?.last { $0.at <= now && now.timeIntervalSince($0.at) <= other.freshness }?.value
            }
            return rule.fires(samples: samples, now: now, maxGap: maxGap, reference: reference)
        }
    }

    /// The index of the first sample of `samples` (oldest first) taken after `time`; the end index when none is.
    static func firstIndex(in samples: [(at: Date, value: Double)], after time: Date) -> Int {
        var low = 0, high = samples.count
        while low < high {
            let middle = (low + high) / 2
            if samples[middle].at > time { high = middle } else { low = middle + 1 }
        }
        return low
    }

    /// How far back `rules` look at `now`: their longest window plus a gap. (A reference metric such
    /// as `max_connections` is read as its latest value instead, see `SchedulerStore.state`.)
    public static func lookback(_ rules: [DetectionRule], maxGap: TimeInterval = 90) -> TimeInterval {
        rules.map { $0.window + maxGap }.max() ?? maxGap
    }

    /// The rules that fire for `store` at `now`.
    public func firing(_ rules: [DetectionRule], store: StoreID, now: Date) async throws -> [DetectionRule] {
        var fired: [DetectionRule] = []
        for rule in rules {
            // Look back over the window plus one gap, so a run that began just before it is seen whole.
            let from = now.addingTimeInterval(-(rule.window + maxGap))
            let series = try await samples.samples(rule.metric, of: store, from: from, to: now)
            var reference: Double?
            if case let .percentOf(other) = rule.mode {
                reference = try await samples.samples(other, of: store, from: now.addingTimeInterval(-other.freshness), to: now)
                    .last?.value
            }
            if rule.fires(samples: series, now: now, maxGap: maxGap, reference: reference) { fired.append(rule) }
        }
        return fired
    }
}
