import BotCore
import Foundation
import Testing

@Suite struct HealthScoreTests {
    let scorer = HealthScorer()

    @Test func aHealthyStoreScores100() {
        let report = scorer.report(HealthInputs(
            ttfbMs: 150, lcpMs: 2000, fcpMs: 1500, cpuPercent: 30, memoryPercent: 40, diskPercent: 50,
            slowQueryCount: 0, activeConnections: 20, maxConnections: 100, redisHitRate: 95, varnishHitRate: 92,
            uptimePercent24h: 100))
        #expect(report.score == 100)
        #expect(report.missing.isEmpty)
        #expect(report.band == .healthy)
    }

    /// cpu 70% → 100 − 10/25·50 = 80; uptime 99.9% → 100; weights 25 and 10 renormalised:
    /// (25·80 + 10·100) / 35 = 85.71 → 86.
    @Test func missingFactorsAreLeftOutAndWeightsRenormalised() throws {
        let report = scorer.report(HealthInputs(cpuPercent: 70, uptimePercent24h: 99.9))
        #expect(report.score == 86)
        #expect(report.missing == [.pageSpeed, .database, .cache])
        let resources = try #require(report.factors.first { $0.factor == .resources })
        #expect(abs(resources.effectiveWeight - 25.0 / 35) < 1e-9)
        #expect(abs(resources.contribution - 80 * 25.0 / 35) < 1e-9)
    }

    /// Page speed: TTFB 1300 → 57.5, LCP 4000 → 50, mean 53.75. Resources: worst of CPU 90 → 33.3,
    /// memory 50 → 100, disk 92.5 → 25 is 25. Database: 10 slow → 33.3, 65% connections → 75, mean 54.17.
    /// Cache: Redis 70 → 50. Uptime 99 → 60.
    /// 0.30·53.75 + 0.25·25 + 0.20·54.17 + 0.15·50 + 0.10·60 = 46.71 → 47.
    @Test func aStrugglingStoreMatchesTheHandComputedScore() {
        let report = scorer.report(HealthInputs(
            ttfbMs: 1300, lcpMs: 4000, cpuPercent: 90, memoryPercent: 50, diskPercent: 92.5,
            slowQueryCount: 10, activeConnections: 65, maxConnections: 100, redisHitRate: 70, uptimePercent24h: 99))
        #expect(report.score == 47)
        #expect(report.band == .critical)
        let contributions = report.factors.reduce(0) { $0 + $1.contribution }
        #expect(abs(contributions - 46.7083) < 0.001)
    }

    @Test func noDataMeansNoScore() {
        let report = scorer.report(HealthInputs())
        #expect(report.score == nil)
        #expect(report.missing == HealthFactor.allCases)
    }

    @Test func bandsFollowTheDesignThresholds() {
        #expect(HealthBand(score: 80) == .healthy)
        #expect(HealthBand(score: 79) == .warning)
        #expect(HealthBand(score: 50) == .warning)
        #expect(HealthBand(score: 49) == .critical)
    }

    @Test func curvesClampAndInterpolate() {
        #expect(HealthScorer.ttfb.score(50) == 100)
        #expect(HealthScorer.ttfb.score(5000) == 0)
        #expect(HealthScorer.uptime.score(99.45) == 80)
        #expect(HealthScorer.hitRate.score(70) == 50)
    }

    @Test func weightsAreThoseOfTheDesign() {
        #expect(HealthFactor.allCases.map(\.weight) == [30, 25, 20, 15, 10])
    }

    @Test func staleValuesDoNotCount() {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        var snapshot = MetricSnapshot()
        snapshot.record(.cpuPercent, 50, at: now.addingTimeInterval(-60))
        snapshot.record(.memoryPercent, 50, at: now.addingTimeInterval(-3600))
        snapshot.record(.lcpMs, 2000, at: now.addingTimeInterval(-3 * 3600))
        let fresh = snapshot.fresh(asOf: now)
        #expect(fresh[.cpuPercent] == 50)
        #expect(fresh[.memoryPercent] == nil)
        #expect(fresh[.lcpMs] == 2000)
    }
}

@Suite struct DetectionRuleTests {
    let highMemory = DetectionRule(name: "high_memory", metric: .memoryPercent, .above, 85, for: 300,
                                   severity: .warning, title: "High memory")
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    func series(_ points: [(Int, Double)]) -> [(at: Date, value: Double)] {
        points.map { (now.addingTimeInterval(TimeInterval(-$0.0)), $0.1) }
    }

    @Test func aSpikeShorterThanTheWindowDoesNotFire() {
        let samples = series([(360, 50), (300, 50), (240, 50), (180, 50), (120, 90), (60, 90), (0, 90)])
        #expect(!highMemory.fires(samples: samples, now: now))
    }

    @Test func aSustainedBreachFires() {
        let samples = series(stride(from: 360, through: 0, by: -60).map { ($0, 90) })
        #expect(highMemory.fires(samples: samples, now: now))
    }

    @Test func aGapInSamplesDoesNotCountAsHeld() {
        let samples = series([(360, 90), (300, 90), (120, 90), (60, 90), (0, 90)])
        #expect(!highMemory.fires(samples: samples, now: now))
    }

    @Test func staleDataDoesNotFire() {
        let samples = series(stride(from: 900, through: 300, by: -60).map { ($0, 90) })
        #expect(!highMemory.fires(samples: samples, now: now))
    }

    @Test func sumOverCountsEventsInTheWindow() {
        let slow = DetectionRule(name: "slow_queries", metric: .slowQueryCount, .above, 5, for: 300, mode: .sumOver,
                                 severity: .warning, title: "Slow queries")
        #expect(slow.fires(samples: series([(400, 9), (240, 1), (120, 2), (0, 3)]), now: now))
        #expect(!slow.fires(samples: series([(400, 9), (240, 1), (120, 1), (0, 1)]), now: now))
    }
}

@Suite struct TimestampTests {
    @Test func parsesRFC3339Forms() {
        #expect(Timestamp.parse("2026-11-26T17:00:00Z") == Date(timeIntervalSince1970: 1_795_712_400))
        #expect(Timestamp.parse("2026-11-26T18:00:00+01:00") == Date(timeIntervalSince1970: 1_795_712_400))
        #expect(Timestamp.parse("2026-11-26T17:00:00.250Z") == Date(timeIntervalSince1970: 1_795_712_400.25))
        #expect(Timestamp.parse("2024-02-29T00:00:00Z") != nil)
        #expect(Timestamp.parse("1970-01-01T00:00:00Z") == Date(timeIntervalSince1970: 0))
    }

    @Test func refusesWhatIsNotRFC3339() {
        for text in ["yesterday", "2026-11-26", "2026-11-26T17:00:00", "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z",
                     "2025-02-29T00:00:00Z", "2026-11-26T25:00:00Z", "2026-11-26T17:00:00.Z", "2026-11-26T17:00:00Zjunk",
                     "2026-11-26T17:00:00+1:00"] {
            #expect(Timestamp.parse(text) == nil, "\(text)")
        }
    }
}
