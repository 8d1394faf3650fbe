import BotCore
import BotPlaybooks
import BotProbes
import Foundation
import Logging
import Testing

/// Each reading runs at most once per its own interval, whatever the round's pace.
@Suite struct CollectorIntervalTests {
    final class Counting: MetricCollector, @unchecked Sendable {
        let name = "counting"
        let probe: ProbeKind? = nil
        let interval: TimeInterval = 300
        private let lock = NSLock()
        private var runs = 0
        var count: Int { lock.withLock { runs } }

        func collect(_ context: CollectorContext) async throws -> [(MetricName, Double)] {
            lock.withLock { runs += 1 }
            return [(.requests, 7), (.cpuPercent, -1)]
        }
    }

    @Test func aReadingWithAnIntervalSkipsTheRoundsBetween() async throws {
        let clock = ManualClock(Date(timeIntervalSince1970: 1_800_000_000))
        let counting = Counting()
        let collector = Collector(collectors: [counting], executors: ExecutorFactory(), clock: clock, logger: Logger(label: "t"))
        let store = Customer(id: StoreID("acme-store")!, platform: Platform(rawValue: "woocommerce")!, plan: .premium,
                             contactEmail: "o@acme.example")
        let first = await collector.collect(store)
        // A value outside the metric's range (a negative CPU share) is dropped.
        #expect(first.map(\.metric) == [.requests] && first.first?.value == 7)
        clock.advance(by: 60)
        #expect(await collector.collect(store).isEmpty)
        #expect(counting.count == 1)
        clock.advance(by: 240)
        #expect(await collector.collect(store).count == 1)
        #expect(counting.count == 2)
    }
}
