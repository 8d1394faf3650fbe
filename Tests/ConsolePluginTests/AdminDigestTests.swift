import BotCore
import BotStore
import ConsolePlugin
import Foundation
import Testing

/// The daily digest over a fixture fleet on a real SQLite file: the figures below are worked out by hand.
@Suite struct AdminDigestTests {
    /// Monday 2027-01-18 09:00 UTC.
    static let now = Date(timeIntervalSince1970: 1_800_000_000 + 3 * 86400 + 3600)
    static let today = Date(timeIntervalSince1970: 1_800_000_000 - 8 * 3600 + 3 * 86400)

    @Test func theDigestListsNewFlagsHotspotsAndTheFleetsHealth() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("perfbot-\(UUID().uuidString).sqlite").path
        let store = try SQLiteStore(path: path)
        // Six WooCommerce premium stores of unknown size: each one's cohort is the five others (widened to any size).
        let names = ["lagging", "peer-1", "peer-2", "peer-3", "peer-4", "peer-5"]
        try await store.upsert(names.map { Customer(id: StoreID($0)!, platform: .woocommerce, plan: .premium,
                                                    contactEmail: "o@\($0).example", container: "\($0)-app") }, at: Self.now)
        // TTFB at noon of each of the last four days: the peers 300…700 ms; `lagging` 400 ms four days ago (40th
        // percentile), then 2,000 ms for three days (0th: below the 10th every day, with 5 peers): a new flag.
        var samples: [MetricSample] = []
        for back in 1...4 {
            let noon = Self.today.addingTimeInterval(Double(-86400 * back) + 12 * 3600)
            for (index, name) in names.enumerated() {
                let value = name == "lagging" ? (back == 4 ? 450.0 : 2000) : Double(200 + 100 * index)
                samples.append(MetricSample(store: StoreID(name)!, metric: .ttfbMs, at: noon, value: value))
            }
        }
        // The last hour: peer-1's CPU at 250 % of its plan's allocation, a hotspot.
        samples += (0..<6).map { MetricSample(store: StoreID("peer-1")!, metric: .cpuPercent, at: Self.now.addingTimeInterval(Double(-600 * $0)), value: 250) }
        try await store.insert(samples)
        // Health snapshots yesterday: 80 and 70 for two stores, 60 for one: average (80 + 70 + 60) / 3 = 70 over 3 stores.
        let clock = ManualClock(Self.today.addingTimeInterval(-86400 + 3600))
        try await store.writeSnapshots([SnapshotRecord(store: StoreID("peer-1")!, score: 80, metrics: MetricSnapshot()),
                                        SnapshotRecord(store: StoreID("peer-2")!, score: 70, metrics: MetricSnapshot()),
                                        SnapshotRecord(store: StoreID("peer-3")!, score: 60, metrics: MetricSnapshot())], at: clock.now)
        clock.advance(by: 86400 + 8 * 3600)
        #expect(clock.now == Self.now)
        let digest = AdminDigest(analytics: store, clock: clock)
        let text = try await digest.compose().plainText
        #expect(text.contains("*Fleet health:* 70 average over 3 stores yesterday"), "\(text)")
        #expect(text.contains("*New flags* (below their cohort's 10th percentile 3 days running):\n• lagging: ttfb\n*Hotspots*"), "\(text)")
        #expect(!text.contains("peer-2:"), "\(text)")
        #expect(text.contains("*Hotspots* (last hour):\n• peer-1: CPU averaged 250 %"), "\(text)")
        // Kept: the day's average is in the table, and the week's trend shows once two days are kept.
        #expect(try await store.fleetHealth(from: Self.today.addingTimeInterval(-7 * 86400), to: Self.today).map(\.average) == [70])
    }
}
