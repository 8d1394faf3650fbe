import Foundation

/// A piecewise-linear map from a measured value to a 0–100 score, clamped at both ends.
public struct ScoringCurve: Sendable, Equatable {
    /// (value, score) points in increasing value order.
    public let points: [(value: Double, score: Double)]

    public init(_ points: [(Double, Double)]) {
        self.points = points.map { (value: $0.0, score: $0.1) }
    }

    public func score(_ value: Double) -> Double {
        guard let first = points.first, let last = points.last else { return 0 }
        if value <= first.value { return first.score }
        if value >= last.value { return last.score }
        for (low, high) in zip(points, points.dropFirst()) where value <= high.value {
            let fraction = (value - low.value) / (high.value - low.value)
            return low.score + fraction * (high.score - low.score)
        }
        return last.score
    }

    public static func == (lhs: ScoringCurve, rhs: ScoringCurve) -> Bool {
        lhs.points.map(\.value) == rhs.points.map(\.value) && lhs.points.map(\.score) == rhs.points.map(\.score)
    }
}

/// Computes the health score of ORIGINAL-DESIGN §1.1.
///
/// Curves (value → score, linear between points, clamped outside):
/// - Page speed (30%), mean of: TTFB 200 ms→100, 800→75, 1800→40, 3600→0; LCP 2500→100, 4000→50,
///   8000→0; FCP 1800→100, 3000→50, 6000→0.
/// - Resource usage (25%), the *worst* of CPU, memory, disk: 60%→100, 85%→50, 100%→0.
/// - Database health (20%), mean of: slow queries per interval 0→100, 5→50, 20→0; connections
///   used of max_connections 50%→100, 80%→50, 100%→0.
/// - Cache efficiency (15%), mean of Redis and Varnish hit rates: 50%→0, 90%→100.
/// - Uptime (10%), 24-hour availability: 95%→0, 99%→60, 99.9%→100.
///
/// Factors without any data are left out and the weights of the others are renormalised, so a
/// store without synthetic probes is scored on what is known; the report names what was missing.
public struct HealthScorer: Sendable {
    public static let ttfb = ScoringCurve([(200, 100), (800, 75), (1800, 40), (3600, 0)])
    public static let lcp = ScoringCurve([(2500, 100), (4000, 50), (8000, 0)])
    public static let fcp = ScoringCurve([(1800, 100), (3000, 50), (6000, 0)])
    public static let resource = ScoringCurve([(60, 100), (85, 50), (100, 0)])
    public static let slowQueries = ScoringCurve([(0, 100), (5, 50), (20, 0)])
    public static let connectionUse = ScoringCurve([(50, 100), (80, 50), (100, 0)])
    public static let hitRate = ScoringCurve([(50, 0), (90, 100)])
    public static let uptime = ScoringCurve([(95, 0), (99, 60), (99.9, 100)])

    public init() {}

    public func report(_ inputs: HealthInputs) -> HealthReport {
        var raw: [(HealthFactor, Double, [HealthMeasure])] = []
        func measure(_ name: String, _ value: Double?, _ unit: String, _ curve: ScoringCurve) -> HealthMeasure? {
            value.map { HealthMeasure(name: name, value: $0, unit: unit, score: curve.score($0)) }
        }
        let speed = [measure("TTFB", inputs.ttfbMs, "ms", Self.ttfb),
                     measure("LCP", inputs.lcpMs, "ms", Self.lcp),
                     measure("FCP", inputs.fcpMs, "ms", Self.fcp)].compactMap { $0 }
        if !speed.isEmpty { raw.append((.pageSpeed, mean(speed), speed)) }

        let resources = [measure("CPU", inputs.cpuPercent, "%", Self.resource),
                         measure("Memory", inputs.memoryPercent, "%", Self.resource),
                         measure("Disk", inputs.diskPercent, "%", Self.resource)].compactMap { $0 }
        if let worst = resources.map(\.score).min() { raw.append((.resources, worst, resources)) }

        var database = [measure("Slow queries", inputs.slowQueryCount, "", Self.slowQueries)].compactMap { $0 }
        if let active = inputs.activeConnections, let max = inputs.maxConnections, max > 0 {
            let used = min(100, active / max * 100)
            database.append(HealthMeasure(name: "Connections used", value: used, unit: "%",
                                          score: Self.connectionUse.score(used)))
        }
        if !database.isEmpty { raw.append((.database, mean(database), database)) }

        let cache = [measure("Redis hit rate", inputs.redisHitRate, "%", Self.hitRate),
                     measure("Varnish hit rate", inputs.varnishHitRate, "%", Self.hitRate)].compactMap { $0 }
        if !cache.isEmpty { raw.append((.cache, mean(cache), cache)) }

        if let up = measure("24 h availability", inputs.uptimePercent24h, "%", Self.uptime) {
            raw.append((.uptime, up.score, [up]))
        }

        let totalWeight = raw.reduce(0) { $0 + $1.0.weight }
        let factors = raw.map { factor, score, measures in
            HealthFactorResult(factor: factor, score: score,
                               effectiveWeight: factor.weight / totalWeight, measures: measures)
        }
        let missing = HealthFactor.allCases.filter { factor in !raw.contains { $0.0 == factor } }
        let score = factors.isEmpty ? nil : Int(factors.reduce(0) { $0 + $1.contribution }.rounded())
        return HealthReport(score: score, factors: factors, missing: missing)
    }

    private func mean(_ measures: [HealthMeasure]) -> Double {
        measures.reduce(0) { $0 + $1.score } / Double(measures.count)
    }
}
