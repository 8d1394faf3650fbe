import Foundation

/// Where perfbot reads the current time and waits: every service is given one, so tests move time instead of
/// sleeping.
public protocol BotClock: Sendable {
    /// The current wall-clock time.
    var now: Date { get }
    /// Suspends for `duration` of this clock's time. - Throws: `CancellationError` when the task is cancelled.
    func sleep(for duration: Duration) async throws
}

/// The system's wall clock.
public struct SystemClock: BotClock {
    public init() {}
    public var now: Date { Date() }
    public func sleep(for duration: Duration) async throws { try await Task.sleep(for: duration) }
}

/// A clock that stands still until told to move; a sleeper wakes when the clock is moved past its deadline.
public final class ManualClock: BotClock, @unchecked Sendable {
    // Guarded by `lock`; a class so that copies share one time.
    private let lock = NSLock()
    private var current: Date
    private var sleepers: [UUID: (deadline: Date, continuation: CheckedContinuation<Void, any Error>)] = [:]

    public init(_ start: Date) { current = start }

    public var now: Date {
        lock.lock()
        defer { lock.unlock() }
        return current
    }

    public func sleep(for duration: Duration) async throws {
        let id = UUID()
        let seconds = duration.timeInterval
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                lock.lock()
                if Task.isCancelled {
                    lock.unlock()
                    continuation.resume(throwing: CancellationError())
                } else if seconds <= 0 {
                    lock.unlock()
                    continuation.resume()
                } else {
                    sleepers[id] = (current.addingTimeInterval(seconds), continuation)
                    lock.unlock()
                }
            }
        } onCancel: {
            lock.lock()
            let sleeper = sleepers.removeValue(forKey: id)
            lock.unlock()
            sleeper?.continuation.resume(throwing: CancellationError())
        }
    }

    /// How many tasks sleep on this clock now.
    public var sleeperCount: Int {
        lock.lock()
        defer { lock.unlock() }
        return sleepers.count
    }

    /// Waits (in real time, briefly) until at least `count` tasks sleep on this clock: a service has done its round.
    /// - Returns: whether they did within `timeout` seconds.
    @discardableResult
    public func waitForSleepers(_ count: Int = 1, timeout: TimeInterval = 10) async -> Bool {
        let end = Date().addingTimeInterval(timeout)
        while sleeperCount < count {
            guard Date() < end else { return false }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return true
    }

    /// Moves the clock by `seconds`, waking the sleepers whose time has come.
    public func advance(by seconds: TimeInterval) {
        lock.lock()
        current += seconds
        let woken = takeDue()
        lock.unlock()
        for continuation in woken { continuation.resume() }
    }

    /// Sets the clock to `date`, waking the sleepers whose time has come.
    public func set(_ date: Date) {
        lock.lock()
        current = date
        let woken = takeDue()
        lock.unlock()
        for continuation in woken { continuation.resume() }
    }

    /// Removes the sleepers due at `current`; called with `lock` held.
    private func takeDue() -> [CheckedContinuation<Void, any Error>] {
        let due = sleepers.filter { $0.value.deadline <= current }
        for id in due.keys { sleepers.removeValue(forKey: id) }
        return due.values.map(\.continuation)
    }
}

extension Date {
    /// Whole Unix seconds, as the stores keep times.
    public var unixSeconds: Int64 { Int64(timeIntervalSince1970.rounded(.down)) }
    public init(unixSeconds: Int64) { self.init(timeIntervalSince1970: TimeInterval(unixSeconds)) }
}

extension Duration {
    /// The duration in seconds.
    public var timeInterval: TimeInterval {
        let parts = components
        return TimeInterval(parts.seconds) + TimeInterval(parts.attoseconds) / 1e18
    }
}
