import Foundation

/// A threshold rule with Prometheus-style `for` semantics (ORIGINAL-DESIGN §2.2).
public struct DetectionRule: Sendable, Equatable {
    /// How the samples in the window are judged.
    public enum Mode: Sendable, Equatable {
        /// Every sample over the whole window breaches (`>85% for 5 min`).
        case sustained
        /// The sum of the samples in the window breaches (`>5 slow queries in 5 min`).
        case sumOver
        /// The latest value as a percentage of the latest value of another metric breaches
        /// (`active_connections > 80% of max_connections`).
        case percentOf(MetricName)
    }

    /// Which side of the threshold is bad.
    public enum Comparison: String, Sendable, Equatable {
        case above = ">"
        case below = "<"

        func breaches(_ value: Double, _ threshold: Double) -> Bool {
            self == .above ? value > threshold : value < threshold
        }
    }

    /// The issue type it opens (`high_memory`).
    public var name: String
    public var metric: MetricName
    public var comparison: Comparison
    public var threshold: Double
    /// How long the condition must hold (0 = at once).
    public var window: TimeInterval
    public var mode: Mode
    /// How it reads in a listing (`memory_percent > 85 for 5 min`).
    public var condition: String {
        let base: String
        switch mode {
        case .sustained: base = "\(metric.rawValue) \(comparison.rawValue) \(Wording.number(threshold))"
        case .sumOver: base = "sum of \(metric.rawValue) \(comparison.rawValue) \(Wording.number(threshold))"
        case let .percentOf(other):
            base = "\(metric.rawValue) \(comparison.rawValue) \(Wording.number(threshold))% of \(other.rawValue)"
        }
        guard window > 0 else { return base }
        return base + (mode == .sumOver ? " in " : " for ") + "\(Int(window / 60)) min"
    }
    public var severity: Severity
    /// What the issue is called in alerts (`High memory`).
    public var title: String

    public init(name: String, metric: MetricName, _ comparison: Comparison, _ threshold: Double,
                for window: TimeInterval = 0, mode: Mode = .sustained, severity: Severity, title: String) {
        self.name = name
        self.metric = metric
        self.comparison = comparison
        self.threshold = threshold
        self.window = window
        self.mode = mode
        self.severity = severity
        self.title = title
    }

    /// Whether the rule fires at `now` given `samples` of its metric, oldest first.
    ///
    /// A gap between samples longer than `maxGap` breaks the run: missing data never counts as held.
    /// - Parameter reference: for `.percentOf`, the latest value of the other metric.
    public func fires(samples: [(at: Date, value: Double)], now: Date, maxGap: TimeInterval = 90,
                      reference: Double? = nil) -> Bool {
        fires(samples: samples[...], now: now, maxGap: maxGap, reference: reference)
    }

    /// `fires(samples:now:maxGap:reference:)` on a part of a longer series, which is not copied.
    public func fires(samples: ArraySlice<(at: Date, value: Double)>, now: Date, maxGap: TimeInterval = 90,
                      reference: Double? = nil) -> Bool {
        guard let latest = samples.last, latest.at <= now, now.timeIntervalSince(latest.at) <= maxGap else {
            return false
        }
        switch mode {
        case .percentOf:
            guard let reference, reference > 0 else { return false }
            return comparison.breaches(latest.value / reference * 100, threshold)
        case .sumOver:
            let start = now.addingTimeInterval(-window)
            var sum = 0.0
            for sample in samples where sample.at > start && sample.at <= now { sum += sample.value }
            return comparison.breaches(sum, threshold)
        case .sustained:
            guard comparison.breaches(latest.value, threshold) else { return false }
            var runStart = latest.at
            var index = samples.endIndex - 1
            while index > samples.startIndex {
                let previous = samples[index - 1]
                guard comparison.breaches(previous.value, threshold),
                      samples[index].at.timeIntervalSince(previous.at) <= maxGap else { break }
                runStart = previous.at
                index -= 1
            }
            return now.timeIntervalSince(runStart) >= window
        }
    }
}
