import BotCore
import BotStore
import ConsolePlugin
import Foundation
import Logging
import Testing

/// The console's analytics over a small fixture fleet whose expected figures are worked out by hand below,
/// never by calling the code under test.
@Suite struct FleetAnalyticsTests {
    static func shop(_ name: String, platform: Platform = .woocommerce, plan: Plan = .premium, catalog: Int?, orders: Int?,
                     host: String? = nil, cores: Double? = nil) -> Customer {
        Customer(id: StoreID(name)!, platform: platform, plan: plan, contactEmail: "o@\(name).example", container: "\(name)-app",
                 host: host, limits: ResourceLimits(cpuCores: cores), catalogSize: catalog, ordersPerDay: orders)
    }

    /// The store compared (catalogue 1,000, 100 orders a day) and its would-be peers.
    static let fleet = [
        shop("store-a", catalog: 1000, orders: 100),
        shop("store-b", catalog: 1100, orders: 120),   // +10 %, +20 %: in
        shop("store-c", catalog: 1250, orders: 100),   // catalogue +25 %: out of ±20 %, in ±40 %
        shop("store-d", catalog: 900, orders: 70),     // orders −30 % exactly: in
        shop("store-e", catalog: 1000, orders: 131),   // orders +31 %: out of ±30 %, in ±60 %
        shop("store-h", catalog: 800, orders: 130),    // −20 %, +30 %: both on the edge, in
        shop("store-f", platform: .magento, catalog: 1000, orders: 100),   // another platform: never
        shop("store-g", plan: .basic, catalog: 1000, orders: 100),         // another plan: only at the last step
    ]

    @Test func medianMADAndRobustZByHand() {
        // [10, 11, 12, 13, 50]: median 12; deviations [2, 1, 0, 1, 38] → sorted [0, 1, 1, 2, 38], MAD 1.
        let values = [10.0, 12, 11, 13, 50]
        #expect(FleetStatistics.median(values) == 12)
        #expect(FleetStatistics.median([4, 1, 3, 2]) == 2.5)
        #expect(FleetStatistics.mad(values) == 1)
        // z = 0.6745 × (50 − 12) / 1 = 25.631; for 13: 0.6745.
        #expect(abs(FleetStatistics.robustZ(50, among: values)! - 25.631) < 1e-9)
        #expect(abs(FleetStatistics.robustZ(13, among: values)! - 0.6745) < 1e-9)
        // No spread (MAD 0), or fewer than 5 values: no verdict.
        #expect(FleetStatistics.robustZ(9, among: [5, 5, 5, 5, 9]) == nil)
        #expect(FleetStatistics.robustZ(50, among: [1, 2, 50]) == nil)
    }

    @Test func percentilesCountTiesAsHalf() {
        // 300 ms among [100, 200, 300, 400], lower better: better than 1 (400), tied with 1: (1 + 0.5) / 4 = 37.5.
        #expect(FleetStatistics.percentile(300, among: [100, 200, 300, 400], higherIsBetter: false) == 37.5)
        // A hit rate of 95 % among [80, 90, 99], higher better: better than 2 of 3 = 66.67.
        #expect(abs(FleetStatistics.percentile(95, among: [80, 90, 99], higherIsBetter: true)! - 200.0 / 3) < 1e-9)
    }

    @Test func theCohortWidensStepByStepAndSaysSo() {
        let store = Self.fleet[0]
        // Exact: b, d, h (3 < 5), so widened to ±40 % / ±60 %: b, c, d, e, h.
        let cohort = Cohort.of(store, in: Self.fleet)
        #expect(cohort.peers.map(\.id.rawValue).sorted() == ["store-b", "store-c", "store-d", "store-e", "store-h"])
        #expect(cohort.widening == "catalogue within ±40 % and orders within ±60 %")
        // With a minimum of 3 the exact cohort is enough.
        let exact = Cohort.of(store, in: Self.fleet, minimum: 3)
        #expect(exact.peers.map(\.id.rawValue).sorted() == ["store-b", "store-d", "store-h"] && exact.widening == nil)
        // With a minimum of 7, the last step takes the basic plan too (never the Magento store).
        let widest = Cohort.of(store, in: Self.fleet, minimum: 7)
        #expect(widest.peers.count == 6 && widest.widening == "any catalogue size, order volume and plan")
        // The fleet-wide index gives the same cohort, and a shared group where sizes cannot match.
        let index = CohortIndex(Self.fleet)
        #expect(index.peers(of: store) == .stores(["store-b", "store-c", "store-d", "store-e", "store-h"].map { StoreID($0)! }))
        #expect(index.peers(of: Self.fleet[7]) == .group("woocommerce"))
    }

    /// The group path of the daily flags ranks as a cohort of every other store of the group would.
    @Test func flagsFromAGroupMatchTheCohortsPercentile() {
        let fleet = (1...7).map { Self.shop("s-\($0)", catalog: nil, orders: nil) }
        let day = Date(timeIntervalSince1970: 1_800_000_000)
        // TTFB 100 … 600 ms for s-1 … s-6; s-7 at 650 is worse than all 6 others (0th): flagged; s-6 at 600 is
        // worse than 5 of 6 and better than s-7: 1 / 6 = 16.7th, not flagged.
        var ttfb: [StoreID: [Date: Double]] = [:]
        for (index, store) in fleet.enumerated() { ttfb[store.id] = [day: index == 6 ? 650 : Double(100 * (index + 1))] }
        let flags = BenchmarkFlags.lagging(fleet, index: CohortIndex(fleet), measures: [BenchmarkMeasure.standard[0]],
                                           daily: [.ttfbMs: ttfb], days: [day])
        #expect(flags == [StoreID("s-7")!: ["TTFB"]])
    }

    @Test func aStoreIsComparedWithItsCohortsAverageBestAndPercentile() {
        // TTFB of store-a 900 ms; peers 300, 400, 500, 600, 700: average 500, best 300, none worse: 0th percentile.
        let ttfb = BenchmarkLine(BenchmarkMeasure.standard[0], value: 900, peers: [300, 400, 500, 600, 700])
        #expect(ttfb.cohortAverage == 500 && ttfb.cohortBest == 300 && ttfb.percentile == 0 && ttfb.cohortSize == 5)
        #expect(ttfb.isLagging)
        // Hit rate 92 % among 80, 85, 90, 95, 99: better than 3 of 5 = 60th; best 99; average 89.8.
        let hits = BenchmarkLine(BenchmarkMeasure.standard[2], value: 92, peers: [80, 85, 90, 95, 99])
        #expect(hits.percentile == 60 && hits.cohortBest == 99 && abs(hits.cohortAverage! - 89.8) < 1e-9 && !hits.isLagging)
        // Worst of only 4 peers: too few to flag.
        #expect(!BenchmarkLine(BenchmarkMeasure.standard[0], value: 900, peers: [300, 400, 500, 600]).isLagging)
    }

    @Test func hotspotVerdictsFollowTheCriteria() {
        let stores = ["hot-cpu", "warm-cpu", "full-mem", "half-mem", "disk-hog", "quiet-1", "quiet-2", "quiet-3", "conn-3", "conn-2"]
        let fleet = stores.map { Self.shop($0, catalog: nil, orders: nil) }
        var inputs = HotspotInputs()
        func aggregate(_ mean: Double, above: Int = 0, count: Int = 60) -> MetricAggregate {
            MetricAggregate(mean: mean, sum: mean * Double(count), count: count, max: mean, atOrAbove: above)
        }
        inputs.cpu = [StoreID("hot-cpu")!: aggregate(250), StoreID("warm-cpu")!: aggregate(190)]
        // 40 of 60 samples over 90 % is most of the hour; 30 of 60 is not.
        inputs.memory = [StoreID("full-mem")!: aggregate(93, above: 40), StoreID("half-mem")!: aggregate(85, above: 30)]
        // Disk I/O 10, 11, 12, 13 and 50 MB/s: the last one's z is 25.6 (worked out above), the others' at most 0.67.
        inputs.traffic.diskIO = ["quiet-1-app": 10e6, "quiet-2-app": 11e6, "quiet-3-app": 12e6, "half-mem-app": 13e6, "disk-hog-app": 50e6]
        inputs.connectionsNearLimit = [StoreID("conn-3")!: 3, StoreID("conn-2")!: 2]
        let found = HotspotAnalysis.find(fleet, inputs: inputs, period: 3600)
        #expect(Set(found.map(\.store.rawValue)) == ["hot-cpu", "full-mem", "disk-hog", "conn-3"])
        let cpu = found.first { $0.store.rawValue == "hot-cpu" }
        #expect(cpu?.evidence == ["CPU averaged 250 % of its plan's allocation over 1 h (more than twice its share)"])
        let memory = found.first { $0.store.rawValue == "full-mem" }
        #expect(memory?.evidence == ["memory above 90 % of its limit for 67 % of 1 h"])
        let disk = found.first { $0.store.rawValue == "disk-hog" }
        // 50 MB/s against a median of 12 MB/s: 4.2×; z 25.6.
        #expect(disk?.evidence == ["disk I/O 50 MB/s, 4.2× the fleet's median (robust z 25.6)"], "\(String(describing: disk))")
    }

    @Test func theNoisyNeighbourIsTheTenantUsingMostOfTheHost() {
        let fleet = [Self.shop("big-a", catalog: nil, orders: nil, host: "web-1", cores: 2),
                     Self.shop("small-b", catalog: nil, orders: nil, host: "web-1", cores: 1),
                     Self.shop("mid-c", catalog: nil, orders: nil, host: "web-1", cores: 1),
                     Self.shop("calm-d", catalog: nil, orders: nil, host: "web-2", cores: 1)]
        func cpu(_ percent: Double) -> MetricSnapshot {
            var snapshot = MetricSnapshot()
            snapshot.values[.cpuPercent] = percent
            return snapshot
        }
        // Cores in use: big-a 150 % of 2 = 3, small-b 50 % of 1 = 0.5, mid-c 100 % of 1 = 1; 3 of 4.5 = 66.7 %.
        let latest = [StoreID("big-a")!: cpu(150), StoreID("small-b")!: cpu(50), StoreID("mid-c")!: cpu(100), StoreID("calm-d")!: cpu(90)]
        let findings = NeighbourAnalysis.find(
            hosts: ["web-1": HostReading(cpuBusy: 0.95, ioWait: 0.05, memoryAvailable: 0.4), "web-2": HostReading(cpuBusy: 0.5)],
            customers: fleet, latest: latest,
            // small-b: 900 ms against 400 usually (2.25×): suffers; mid-c: 500 against 400 (1.25×): does not.
            ttfbNow: [StoreID("small-b")!: 900, StoreID("mid-c")!: 500], ttfbBaseline: [StoreID("small-b")!: 400, StoreID("mid-c")!: 400])
        #expect(findings.count == 1)
        let finding = try! #require(findings.first)
        #expect(finding.host == "web-1" && finding.driver?.rawValue == "big-a")
        #expect(abs(finding.driverShare! - 3 / 4.5) < 1e-9)
        #expect(finding.suffering.map(\.store.rawValue) == ["small-b"])
        let text = finding.reply.plainText
        #expect(text.contains("Noisy neighbour on web-1*: CPU 95 % busy."), "\(text)")
        #expect(text.contains("Driven by *big-a*: 67 % of the CPU its tenants use."))
        #expect(text.contains("Suffering: small-b (TTFB 900 ms against 400 ms usually)."))
        #expect(text.contains("move big-a to dedicated resources or a larger plan"))
    }
}
