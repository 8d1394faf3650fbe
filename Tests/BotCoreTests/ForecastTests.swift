import BotCore
import Foundation
import Testing

@Suite struct ForecastTests {
    let start = Date(timeIntervalSince1970: 1_800_000_000)

    /// Deterministic noise in −1…1.
    func noise(_ index: Int) -> Double { sin(Double(index) * 12.9898) * 0.999 }

    func series(hours: Int = 168, _ value: (Int) -> Double) -> [(at: Date, value: Double)] {
        (0..<hours).map { (start.addingTimeInterval(TimeInterval($0 * 3600)), value($0)) }
    }

    @Test func aSteadyRiseWithNoiseGivesAnETAWithinFivePercent() throws {
        let points = series { 50 + 4 * Double($0) / 24 + 2 * noise($0) }
        let forecast = try #require(Forecaster().forecast(.memoryPercent, points: points, limit: 100))
        let lastDay = Double(167) / 24
        let trueETA = (100 - (50 + 4 * lastDay)) / 4 * 86400
        let eta = try #require(forecast.timeToLimit)
        #expect(abs(eta - trueETA) / trueETA < 0.05, "eta \(eta / 86400) d, true \(trueETA / 86400) d")
        #expect(abs(forecast.slopePerDay - 4) < 0.2)
        #expect(forecast.basis.hasPrefix("7-day trend +4"))
    }

    @Test func aNightlySpikeIsNoFullAlarm() throws {
        // Flat at 40% with a cron job at 95% for one hour each night, the last hour included.
        let points = series { $0 % 24 == 3 || $0 == 167 ? 95 : 40 + noise($0) }
        let forecast = try #require(Forecaster().forecast(.diskPercent, points: points, limit: 100))
        #expect(forecast.timeToLimit == nil)
        #expect(forecast.current < 45)
    }

    @Test func aFlatSeriesHasNoETA() throws {
        let forecast = try #require(Forecaster().forecast(.memoryPercent, points: series { 60 + noise($0) }, limit: 100))
        #expect(forecast.timeToLimit == nil)
        #expect(abs(forecast.slopePerDay) < 0.3)
    }

    @Test func tooLittleDataGivesNoETA() throws {
        let short = series(hours: 24) { 50 + Double($0) }
        #expect(Forecaster().forecast(.memoryPercent, points: short, limit: 100)?.timeToLimit == nil)
        #expect(Forecaster().forecast(.memoryPercent, points: Array(short.prefix(5)), limit: 100) == nil)
    }

    @Test func aTrafficSurgeAgainstTheSameHourIsAnAnomaly() throws {
        let daily: (Int) -> Double = { 300 + 200 * sin(Double($0 % 24) / 24 * 2 * .pi) }
        var points = series(hours: 167) { daily($0) + 10 * noise($0) }
        points.append((start.addingTimeInterval(167 * 3600), daily(167) * 3))
        let anomaly = try #require(Anomaly.detect(.requests, points: points))
        #expect(anomaly.ratio > 2.5)
        let calm = series(hours: 168) { daily($0) + 10 * noise($0) }
        #expect(Anomaly.detect(.requests, points: calm) == nil)
    }
}
