import Foundation

/// A trend fitted to hourly means, and when it reaches a limit.
public struct Forecast: Sendable, Equatable {
    public var metric: MetricName
    /// Robust (Theil–Sen) slope, units per day.
    public var slopePerDay: Double
    /// R² of the least-squares fit, 0–1.
    public var fit: Double
    /// Hours of data the fit covers.
    public var spanHours: Double
    /// The level now: the median of the last six hourly means, so one spike does not move it.
    public var current: Double
    public var limit: Double?
    /// Time until the trend reaches `limit`; nil when it does not rise, the fit is poor or the data short.
    public var timeToLimit: TimeInterval?

    /// `7-day trend +4.1%/day, fit 0.93 over 168 h`.
    public var basis: String {
        let unit = metric.isPercent ? "%" : ""
        let sign = slopePerDay >= 0 ? "+" : "−"
        return "\(Int((spanHours / 24).rounded()))-day trend \(sign)\(Wording.number(abs(slopePerDay)))\(unit)/day, "
            + "fit \(Wording.number(fit, decimals: 2)) over \(Int(spanHours)) h"
    }
}

/// Least squares over hourly rollups, guarded against short bursts (ORIGINAL-DESIGN §3.5).
///
/// The ETA uses the Theil–Sen slope (the median of pairwise slopes, which a nightly spike cannot
/// drag) from the median of the last six hours; it is given only when the least-squares fit explains
/// at least `minimumFit` of the variance, the data span at least `minimumSpan` hours, and both slopes rise.
public struct Forecaster: Sendable {
    public var minimumFit: Double
    public var minimumSpan: Double

    public init(minimumFit: Double = 0.6, minimumSpan: Double = 48) {
        self.minimumFit = minimumFit
        self.minimumSpan = minimumSpan
    }

    /// The forecast of `points` (time, hourly mean), oldest first; nil with fewer than 12 points.
    public func forecast(_ metric: MetricName, points: [(at: Date, value: Double)], limit: Double?) -> Forecast? {
        guard points.count >= 12, let first = points.first, let last = points.last else { return nil }
        let xs = points.map { $0.at.timeIntervalSince(first.at) / 86400 }  // days
        let ys = points.map(\.value)
        let (olsSlope, _, fit) = Self.leastSquares(xs, ys)
        let robust = Self.theilSen(xs, ys)
        let current = Self.median(Array(ys.suffix(6)))
        let span = last.at.timeIntervalSince(first.at) / 3600
        var eta: TimeInterval?
        if let limit, robust > 0, olsSlope > 0, fit >= minimumFit, span >= minimumSpan {
            eta = current >= limit ? 0 : (limit - current) / robust * 86400
        }
        return Forecast(metric: metric, slopePerDay: robust, fit: fit, spanHours: span, current: current, limit: limit,
                        timeToLimit: eta)
    }

    /// (slope, intercept, R²) of the ordinary least-squares line.
    static func leastSquares(_ xs: [Double], _ ys: [Double]) -> (Double, Double, Double) {
        let n = Double(xs.count)
        let meanX = xs.reduce(0, +) / n, meanY = ys.reduce(0, +) / n
        var sxy = 0.0, sxx = 0.0, syy = 0.0
        for (x, y) in zip(xs, ys) {
            sxy += (x - meanX) * (y - meanY)
            sxx += (x - meanX) * (x - meanX)
            syy += (y - meanY) * (y - meanY)
        }
        guard sxx > 0 else { return (0, meanY, 0) }
        let slope = sxy / sxx
        let fit = syy > 0 ? (sxy * sxy) / (sxx * syy) : 0
        return (slope, meanY - slope * meanX, fit)
    }

    /// The median of the slopes between every pair of points.
    static func theilSen(_ xs: [Double], _ ys: [Double]) -> Double {
        var slopes: [Double] = []
        slopes.reserveCapacity(xs.count * (xs.count - 1) / 2)
        for i in 0..<xs.count {
            for j in (i + 1)..<xs.count where xs[j] != xs[i] {
                slopes.append((ys[j] - ys[i]) / (xs[j] - xs[i]))
            }
        }
        return median(slopes)
    }

    static func median(_ values: [Double]) -> Double {
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }
}

/// The latest hour against the same hour of the week (or of the day) before.
public struct Anomaly: Sendable, Equatable {
    public var metric: MetricName
    public var latest: Double
    public var baseline: Double
    /// latest / baseline.
    public var ratio: Double

    /// Compares the last point with the points at the same hour of week in earlier weeks, or, with
    /// fewer than two of those, the same hour of day on earlier days; nil when it is within `tolerance`.
    public static func detect(_ metric: MetricName, points: [(at: Date, value: Double)], tolerance: Double = 0.5) -> Anomaly? {
        guard let last = points.last else { return nil }
        let earlier = points.dropLast()
        func sameOffset(_ period: TimeInterval) -> [Double] {
            earlier.filter { abs(last.at.timeIntervalSince($0.at).truncatingRemainder(dividingBy: period)) < 1800 }
                .map(\.value)
        }
        var baselinePoints = sameOffset(7 * 86400)
        if baselinePoints.count < 2 { baselinePoints = sameOffset(86400) }
        guard baselinePoints.count >= 2 else { return nil }
        let baseline = Forecaster.median(baselinePoints)
        guard baseline > 0 else { return nil }
        let ratio = last.value / baseline
        guard abs(ratio - 1) > tolerance else { return nil }
        return Anomaly(metric: metric, latest: last.value, baseline: baseline, ratio: ratio)
    }
}
