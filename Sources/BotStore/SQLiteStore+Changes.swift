import BotCore
import GRDB
import Synchronization

/// Counts the commits that changed anything but the delivery log, for `StoredChanges`: an answer built from the
/// store while the count stood still is still what the store holds. Only this process's writes are seen; another
/// process writing the same file (`perfbot db …`) is not, which is why an answer is reused for a second at most.
final class ChangeCounter: TransactionObserver, Sendable {
    private let count = Atomic<UInt64>(0)
    /// Whether the transaction under way changed an observed table (set and read on the writer's queue only).
    private let changed = Atomic<Bool>(false)

    /// The delivery log is left out: read-only commands' records are written after their answers, and counting them
    /// would make every answer stale at once.
    static let ignored: Set<String> = ["webhook_deliveries"]

    var value: UInt64 { count.load(ordering: .acquiring) }

    func observes(eventsOfKind eventKind: DatabaseEventKind) -> Bool {
        !Self.ignored.contains(eventKind.tableName)
    }

    func databaseDidChange() {
        changed.store(true, ordering: .relaxed)
    }

    func databaseDidChange(with event: DatabaseEvent) {
        changed.store(true, ordering: .relaxed)
        stopObservingDatabaseChangesUntilNextTransaction()
    }

    func databaseDidCommit(_ db: Database) {
        if changed.exchange(false, ordering: .relaxed) { count.add(1, ordering: .releasing) }
    }

    func databaseDidRollback(_ db: Database) {
        changed.store(false, ordering: .relaxed)
    }
}

extension SQLiteStore: StoredChanges {
    public var storedChanges: UInt64? { changes.value }
}
