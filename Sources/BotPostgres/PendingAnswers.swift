import BotCore
import Foundation
import Synchronization

/// The answers of pushes committed and answered, not yet written to their delivery records.
///
/// A push's statement records its delivery and its samples; the answer is built from what the statement did and sent
/// at once, and written to the delivery's row right after, with the others waiting, in one statement. A retry of the
/// key on this replica meanwhile is given the answer from here; on another replica, or if the process dies first, the
/// delivery is known and its retry is told it is being handled: it never acts twice.
final class PendingAnswers: Sendable {
    struct Answer: Sendable {
        let key: String
        let response: StoredResponse
        let at: Date
    }

    private struct State {
        var waiting: [Answer] = []
        /// Written or being written, by key, until the write ends.
        var byKey: [String: StoredResponse] = [:]
        var writing = false
    }

    private let state = Mutex(State())

    /// Adds an answer; true when a writer must be started.
    func add(_ answer: Answer) -> Bool {
        state.withLock { state in
            state.waiting.append(answer)
            state.byKey[answer.key] = answer.response
            guard !state.writing else { return false }
            state.writing = true
            return true
        }
    }

    /// The answers to write next, or nil when none wait (and the writer stops).
    func next() -> [Answer]? {
        state.withLock { state in
            guard !state.waiting.isEmpty else {
                state.writing = false
                return nil
            }
            defer { state.waiting.removeAll(keepingCapacity: true) }
            return state.waiting
        }
    }

    /// Forgets answers once their write ended (written, or failed and logged).
    func ended(_ answers: [Answer]) {
        state.withLock { state in
            for answer in answers { state.byKey[answer.key] = nil }
        }
    }

    /// Whether answers wait or are being written.
    var busy: Bool {
        state.withLock { $0.writing || !$0.waiting.isEmpty }
    }

    /// The answer of a push of this replica whose record is not written yet.
    func answer(for key: String) -> StoredResponse? {
        state.withLock { $0.byKey[key] }
    }
}
