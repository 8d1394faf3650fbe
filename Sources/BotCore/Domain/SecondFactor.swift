import Foundation

/// What became of a second-factor code.
public enum FactorVerdict: Sendable, Equatable {
    /// The code holds; the admin counts as verified until then.
    case verified(until: Date)
    /// The admin has no enrolled factor (`perfbot admins enroll`).
    case notEnrolled
    /// Not a code of this admin's factor now (wrong, or from too long ago).
    case wrong
    /// A code already used once (each is good for one use).
    case reused
}

/// An admin's second factor: TOTP codes, each good once, and a short verified spell after a good one.
public protocol SecondFactor: Sendable {
    /// Whether `user` entered a good code recently enough to act without another.
    func isFresh(_ user: SlackUserID, at: Date) async throws -> Bool
    /// Whether `user` has enrolled a factor.
    func isEnrolled(_ user: SlackUserID) async throws -> Bool
    /// Checks `code` for `user` at `at`, and uses it up when it holds.
    func verify(_ user: SlackUserID, code: String, at: Date) async throws -> FactorVerdict
}

/// An admin's enrolled factor as stored.
public struct FactorRecord: Sendable, Equatable {
    public var user: SlackUserID
    public var secret: String
    /// The last time step whose code was used (none is accepted again).
    public var lastStep: Int64
    /// Until when a good code lets the admin act without another.
    public var verifiedUntil: Date?

    public init(user: SlackUserID, secret: String, lastStep: Int64, verifiedUntil: Date?) {
        self.user = user
        self.secret = secret
        self.lastStep = lastStep
        self.verifiedUntil = verifiedUntil
    }
}

/// The admins' enrolled factors.
public protocol FactorStore: Sendable {
    /// `user`'s factor, if enrolled.
    func factor(of user: SlackUserID) async throws -> FactorRecord?
    /// Enrols (or re-enrols, forgetting the old secret) `user`.
    func enrollFactor(_ user: SlackUserID, secret: String, at: Date) async throws
    /// Records the use of the code of time step `step`, only when no later or equal step was used before (one
    /// statement, so two replicas cannot both accept one code). - Returns: whether it was recorded.
    func useFactorStep(_ user: SlackUserID, step: Int64, verifiedUntil: Date) async throws -> Bool
}

/// A Slack modal a command asks to open with its `trigger_id` (rendered for Slack by the Slack channel only):
/// what it shows, the one text input it asks for, and what comes back with the submission.
public struct ModalRequest: Sendable, Equatable, Codable {
    /// Which plugin handles the submission.
    public var callbackID: String
    /// Carried through Slack and back, unchanged (a job's id, where to answer).
    public var metadata: String
    /// At most 24 characters.
    public var title: String
    public var blocks: [ReplyBlock]
    public var inputLabel: String
    public var inputHint: String?
    public var submitLabel: String

    public init(callbackID: String, metadata: String, title: String, blocks: [ReplyBlock], inputLabel: String,
                inputHint: String? = nil, submitLabel: String) {
        self.callbackID = callbackID
        self.metadata = metadata
        self.title = String(title.prefix(24))
        self.blocks = blocks
        self.inputLabel = inputLabel
        self.inputHint = inputHint
        self.submitLabel = String(submitLabel.prefix(24))
    }
}

/// A submitted modal: its callback, its metadata and the text typed in its input.
public struct ModalSubmission: Sendable, Equatable {
    public var callbackID: String
    public var metadata: String
    public var input: String

    public init(callbackID: String, metadata: String, input: String) {
        self.callbackID = callbackID
        self.metadata = metadata
        self.input = input
    }
}

/// What a plugin makes of a submitted modal.
public enum ModalOutcome: Sendable, Equatable {
    /// Close the modal; post `reply` where the command was asked (when there is one).
    case close(BotReply?)
    /// Keep the modal open with this message under its input.
    case inputError(String)
}
