import Foundation
import Synchronization

/// The numbers of the journal's rows the leader has read and not deleted yet, and the deletion under way. The
/// deletion runs after a cycle, while the scheduler waits for the next one; the next read of the journal waits for
/// it, and deletes itself whatever is still read and not deleted (a deletion that failed is tried again there).
final class ReadJournal: Sendable {
    private struct State {
        var read: [Int64] = []
        var deleting: Task<Void, Never>?
    }

    private let state = Mutex(State())
    /// Deletes exactly the rows these numbers name.
    private let delete: @Sendable ([Int64]) async throws -> Void

    init(delete: @escaping @Sendable ([Int64]) async throws -> Void) {
        self.delete = delete
    }

    func add(_ seqs: [Int64]) {
        state.withLock { $0.read += seqs }
    }

    /// Starts deleting what was read, in a task of its own, unless nothing was read or a deletion is under way.
    func deleteLater() {
        let delete = self.delete
        state.withLock { state in
            guard state.deleting == nil, !state.read.isEmpty else { return }
            let seqs = state.read
            state.deleting = Task { [self] in
                // A failed deletion leaves the numbers here for the next read to delete.
                let deleted = (try? await delete(seqs)) != nil
                self.state.withLock { state in
                    if deleted { state.read.removeFirst(min(seqs.count, state.read.count)) }
                    state.deleting = nil
                }
            }
        }
    }

    /// Waits for the deletion under way, if any.
    func settled() async {
        if let running = state.withLock({ $0.deleting }) { await running.value }
    }

    /// Waits for the deletion under way, then deletes what is still read and not deleted.
    func deleteNow() async throws {
        await settled()
        let seqs = state.withLock { $0.read }
        guard !seqs.isEmpty else { return }
        try await delete(seqs)
        state.withLock { $0.read.removeFirst(min(seqs.count, $0.read.count)) }
    }
}
