import Foundation

/// Which Slack thread a message belongs to: every message about one issue (its alert, the decision, the job's
/// result) goes into the thread the issue's first alert started.
public struct ThreadKey: Hashable, Sendable, Codable, CustomStringConvertible {
    /// As stored in the outbox.
    public let rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }

    /// The thread of performance issue `id`.
    public static func issue(_ id: Int64) -> ThreadKey { ThreadKey(rawValue: "issue:\(id)") }

    public var description: String { rawValue }
}
