import BotCore
import Foundation
import Logging
import Synchronization
import Testing

/// A replica that takes the lead does the leader's periodic work then, not a whole interval later.
@Suite struct PeriodicServiceTests {
    /// Leads from the `from`-th time it is asked.
    final class LeadsLater: Leadership {
        let asked = Atomic<Int>(0)
        let from: Int
        init(from: Int) { self.from = from }
        func isLeader() async -> Bool { asked.add(1, ordering: .relaxed).newValue >= from }
        func leadingTerm() async -> Int64? { await isLeader() ? 1 : nil }
    }

    @Test func aReplicaThatTakesTheLeadWorksWithinSecondsNotAnInterval() async throws {
        let clock = ManualClock(Date(timeIntervalSince1970: 1_800_000_000))
        let rounds = Atomic<Int>(0)
        let service = PeriodicService(name: "predictions", every: .seconds(600), clock: clock, logger: Logger(label: "test"),
                                      leadership: LeadsLater(from: 2)) {
            rounds.add(1, ordering: .relaxed)
        }
        let running = Task { try await service.run() }
        defer { running.cancel() }
        #expect(await clock.waitForSleepers(1))
        #expect(rounds.load(ordering: .relaxed) == 0, "a follower does no round")
        // The lead is taken before the next look, five seconds on: the round runs then.
        clock.advance(by: 5)
        #expect(await clock.waitForSleepers(1))
        #expect(rounds.load(ordering: .relaxed) == 1)
        // Leading, it waits its whole interval.
        clock.advance(by: 599)
        #expect(await clock.waitForSleepers(1))
        #expect(rounds.load(ordering: .relaxed) == 1)
        clock.advance(by: 1)
        #expect(await clock.waitForSleepers(1))
        #expect(rounds.load(ordering: .relaxed) == 2)
    }
}
