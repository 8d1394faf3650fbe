import Foundation

/// Where perfbot reads the current time; tests inject a fixed or steppable one.
public protocol BotClock: Sendable {
    /// The current wall-clock time.
    var now: Date { get }
}

/// The system's wall clock.
public struct SystemClock: BotClock {
    public init() {}
    public var now: Date { Date() }
}

/// A clock that stands still until told to move.
public final class ManualClock: BotClock, @unchecked Sendable {
    // Guarded by `lock`; a class so that copies share one time.
    private let lock = NSLock()
    private var current: Date

    public init(_ start: Date) { current = start }

    public var now: Date {
        lock.lock()
        defer { lock.unlock() }
        return current
    }

    /// Moves the clock by `seconds`.
    public func advance(by seconds: TimeInterval) {
        lock.lock()
        current += seconds
        lock.unlock()
    }

    /// Sets the clock to `date`.
    public func set(_ date: Date) {
        lock.lock()
        current = date
        lock.unlock()
    }
}
