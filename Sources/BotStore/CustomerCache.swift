import BotCore
import Synchronization

/// The stores as last read, with the `customers_version` they were read at: a check cycle reads every store each
/// time, and they seldom change. Both engines keep the version with triggers, so a change made by another process
/// or replica is seen at the next read.
public final class CustomerCache: Sendable {
    private let held = Mutex<(version: Int64, customers: [Customer])?>(nil)

    public init() {}

    /// The stores read at `version`, when those are what is held.
    public func customers(at version: Int64) -> [Customer]? {
        held.withLock { held in held.flatMap { $0.version == version ? $0.customers : nil } }
    }

    /// Holds `customers`, read at `version`. The version is read before the rows, in the same snapshot on SQLite and
    /// just before them on PostgreSQL, so rows newer than their version are at worst read again.
    public func keep(_ customers: [Customer], at version: Int64) {
        held.withLock { $0 = (version, customers) }
    }
}
