import Foundation

/// Where a fix is waiting for a yes.
public enum ApprovalStatus: String, Sendable, Equatable {
    case pending, approved, rejected, expired, cancelled
}

/// Through what a decision arrived.
public enum ApprovalChannel: String, Sendable, Equatable {
    case email, slack
    /// The store's status page, opened by a link mailed to the contact.
    case statusPage = "status_page"
}

/// A proposed fix for one issue, waiting for the customer's or an operator's decision.
public struct Approval: Sendable, Equatable {
    /// Short, shown in Slack and used by `/perf approve <id>` (`fix_` and 10 base32 characters).
    public var id: String
    public var store: StoreID
    public var issueID: Int64?
    public var playbook: String
    /// What its job does, as a value.
    public var kind: JobKind
    /// The proposed steps, in words.
    public var steps: [String]
    public var createdAt: Date
    public var expiresAt: Date
    public var status: ApprovalStatus
    public var decidedAt: Date?
    public var decidedBy: String?
    public var channel: ApprovalChannel?
    /// The held job that carries the plan this approval showed.
    public var jobID: Int64?

    public init(id: String, store: StoreID, issueID: Int64?, playbook: String, steps: [String], createdAt: Date,
                expiresAt: Date, status: ApprovalStatus = .pending, decidedAt: Date? = nil, decidedBy: String? = nil,
                channel: ApprovalChannel? = nil, jobID: Int64? = nil, kind: JobKind? = nil) {
        self.kind = kind ?? .playbook(playbook)
        self.jobID = jobID
        self.id = id
        self.store = store
        self.issueID = issueID
        self.playbook = playbook
        self.steps = steps
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.status = status
        self.decidedAt = decidedAt
        self.decidedBy = decidedBy
        self.channel = channel
    }

    /// Whether an approval id is well formed (it is placed into commands and button values).
    public static func isValidID(_ text: String) -> Bool {
        text.hasPrefix("fix_") && text.count == 14 && text.dropFirst(4).unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("2"..."7").contains($0)
        }
    }

    /// A new id: `fix_` and 50 random bits in lowercase base32.
    public static func newID() -> String {
        var generator = SystemRandomNumberGenerator()
        return "fix_" + Base32.encode((0..<7).map { _ in UInt8.random(in: 0...255, using: &generator) }).prefix(10)
    }
}

/// What deciding an approval did.
public enum ApprovalResult: Sendable, Equatable {
    /// Decided now.
    case decided(Approval)
    /// Decided before; nothing changed.
    case alreadyDecided(Approval)
    /// Past its expiry; nothing runs.
    case expired(Approval)
    /// Its issue was resolved meanwhile; nothing runs.
    case issueResolved(Approval)
    /// No such approval.
    case unknown
}

/// RFC 4648 base32 in lowercase, without padding (case-insensitive in transit, fine for e-mail addresses).
public enum Base32 {
    static let alphabet = Array("abcdefghijklmnopqrstuvwxyz234567")

    public static func encode(_ bytes: [UInt8]) -> String {
        var output = ""
        var buffer = 0, bits = 0
        for byte in bytes {
            buffer = (buffer << 8) | Int(byte)
            bits += 8
            while bits >= 5 {
                output.append(alphabet[(buffer >> (bits - 5)) & 31])
                bits -= 5
            }
        }
        if bits > 0 { output.append(alphabet[(buffer << (5 - bits)) & 31]) }
        return output
    }
}
