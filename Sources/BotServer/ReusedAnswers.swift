import BotCore
import Foundation
import Synchronization

/// The answers to commands that only show what is stored (`CommandEffect.showsStored`: `store`, `fleet`, `help`),
/// kept briefly so that the same question from the same person in the same place, asked again while nothing was stored
/// in between, is answered without reading and rendering again: a channel of admins all asking about one store in an
/// incident, or a dashboard that polls. An answer is given again only while `StoredChanges` has not moved since it
/// was built, and for `lifetime` at most, since answers tell times to the second ("12 s ago"). Where changes cannot be
/// counted (several replicas on one database), nothing is kept.
final class ReusedAnswers: Sendable {
    struct Question: Hashable, Sendable {
        var user: SlackUserID
        var channel: String?
        var text: String
    }

    private struct Kept {
        var changes: UInt64
        var at: Date
        var answer: StoredResponse
    }

    static let lifetime: TimeInterval = 1
    /// Questions kept at most (a few kilobytes of answer each); past that, all are forgotten at once: they last a
    /// second anyway, and more distinct questions than this in a second are not asked by people.
    static let capacity = 512
    private let kept = Mutex<[Question: Kept]>([:])

    /// The answer given to `question` within the last `lifetime`, when the store has not changed since.
    func answer(_ question: Question, changes: UInt64, now: Date) -> StoredResponse? {
        kept.withLock { kept in
            guard let entry = kept[question] else { return nil }
            guard entry.changes == changes, now >= entry.at, now.timeIntervalSince(entry.at) < Self.lifetime else {
                kept[question] = nil
                return nil
            }
            return entry.answer
        }
    }

    /// Keeps `answer`, built from the store as it was when its count of changes was `changes`. Only a plain success
    /// is kept: a refusal or an error is worth computing again.
    func keep(_ answer: StoredResponse, for question: Question, changes: UInt64, at: Date) {
        guard answer.status == 200 else { return }
        kept.withLock { kept in
            if kept.count >= Self.capacity { kept.removeAll(keepingCapacity: true) }
            kept[question] = Kept(changes: changes, at: at, answer: answer)
        }
    }
}
