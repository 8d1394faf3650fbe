import Foundation

/// One status page link as issued: to whom, for which store, until when, and whether it was revoked.
public struct IssuedLink: Sendable, Equatable {
    public var id: String
    public var store: StoreID
    public var contact: String
    public var issuedAt: Date
    public var expiresAt: Date
    public var revokedAt: Date?

    public init(id: String, store: StoreID, contact: String, issuedAt: Date, expiresAt: Date, revokedAt: Date?) {
        self.id = id
        self.store = store
        self.contact = contact
        self.issuedAt = issuedAt
        self.expiresAt = expiresAt
        self.revokedAt = revokedAt
    }
}

/// Status page links: recorded before they are sent, so each can be checked and revoked.
public protocol StatusLinkStore: Sendable {
    /// Records a link before it is sent.
    func issueStatusLink(id: String, store: StoreID, contact: String, at: Date, expiresAt: Date) async throws
    /// The link `id` of `store`, if it was issued (revoked or not).
    func statusLink(id: String, store: StoreID) async throws -> IssuedLink?
}

/// A store's history as its contact sees it: the insights feed and the health scores.
public protocol FeedReader: Sendable {
    /// The newest entries of the store's insights feed, newest first.
    func feed(of store: StoreID, limit: Int) async throws -> [FeedEntry]
    /// Health scores of the store's snapshots since `since`, oldest first.
    func scores(of store: StoreID, since: Date) async throws -> [(at: Date, score: Int)]
}

/// What the status page reads (and decides, through `Approvals`).
public protocol StatusPageStore: ApprovalStore, ConsoleReader, MetricReader, FeedReader, StatusLinkStore, FleetAnalyticsReader,
    TrafficStore {}
