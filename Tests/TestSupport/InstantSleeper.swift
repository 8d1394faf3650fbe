import BotPlaybooks
import Foundation

/// Playbook waits take no time in tests: one sleeper for every suite.
public struct InstantSleeper: Sleeper {
    public init() {}
    public func sleep(seconds: TimeInterval) async throws {}
}
