import Foundation

/// An e-mail to a store's contact, as the domain means it: who it goes to and which kind it is, with its facts.
/// `BotChannels` renders it (`MailTemplates`) when the outbox sends it.
public struct CustomerMail: Sendable, Equatable, Codable {
    public var to: String
    /// The store it is about: its status link is added to the e-mail.
    public var store: StoreID?
    /// Where replies go: the approval address of a proposal. The outbox drops it once the e-mail is sent.
    public var replyTo: String?
    public var kind: Kind

    public init(to: String, store: StoreID?, replyTo: String? = nil, kind: Kind) {
        self.to = to
        self.store = store
        self.replyTo = replyTo
        self.kind = kind
    }

    /// A mail about `customer`'s store, to its contact.
    public init(_ customer: Customer, _ kind: Kind, replyTo: String? = nil) {
        self.init(to: customer.contactEmail, store: customer.id, replyTo: replyTo, kind: kind)
    }

    public enum Kind: Sendable, Equatable, Codable {
        /// A fix perfbot proposes (or one the contact asked for, `requested`), applied only on a YES.
        case proposal(issue: String, explanation: String, playbook: String, steps: [String], expiresAt: Date, requested: Bool)
        /// A resource limit ahead.
        case predictionNotice(resource: String, eta: String, basis: String, recommendation: String)
        /// The fix the contact approved ran.
        case fixApplied(playbook: String, steps: [String])
        /// A playbook ran on its own, as the automation level allows.
        case automaticFix(AutomaticFixMail, issue: String, explanation: String, playbook: String, steps: [String])
        /// A YES arrived: the fix is queued.
        case approvalAcknowledged(playbook: String)
        /// A NO arrived: nothing runs.
        case rejectionAcknowledged(playbook: String)
        /// A reply that is neither a clear yes nor a clear no.
        case replyNotUnderstood(read: String, why: String)
        /// The weekly report's lines.
        case weeklyReport(lines: [String], commandAddress: String)
        /// The answer to an e-mail command.
        case commandReply(subject: String, lines: [String])
        /// Nobody answered the proposal in time.
        case proposalExpired(playbook: String, proposedAt: Date)
        /// The proposal is closed (answered, withdrawn, superseded, or its job finished): `reason` says how.
        case proposalClosed(reason: String)
    }
}

/// The e-mails a playbook may name under `notifications: email:`, sent to the store's contact after an
/// automatic run, each with the words of its subject line.
public enum AutomaticFixMail: String, Sendable, Equatable, Codable, CaseIterable {
    case automaticFixApplied = "automatic_fix_applied"
    case memoryOptimizationApplied = "memory_optimization_applied"
    case diskCleanupApplied = "disk_cleanup_applied"
    case optimizeApplied = "optimize_applied"
    case queryExplosionContained = "query_explosion_contained"

    public var subject: String {
        switch self {
        case .automaticFixApplied: "We fixed a problem automatically"
        case .memoryOptimizationApplied: "We freed memory on your store"
        case .diskCleanupApplied: "We recovered disk space on your store"
        case .optimizeApplied: "We optimized your store"
        case .queryExplosionContained: "We stopped runaway database queries"
        }
    }
}
