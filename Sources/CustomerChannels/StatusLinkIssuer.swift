import BotChannels
import BotCore
import Foundation

/// Issues status page links: each with its own id, recorded (store, contact, expiry) before it is sent.
public struct StatusLinkIssuer: Sendable {
    public let link: StatusLink
    let store: any StatusLinkStore

    public init(link: StatusLink, store: any StatusLinkStore) {
        self.link = link
        self.store = store
    }

    /// A fresh link to `id`'s page for `contact`.
    public func issue(for id: StoreID, contact: String, now: Date) async throws -> String {
        let linkID = StatusLink.newID()
        let expires = link.expiry(from: now)
        try await store.issueStatusLink(id: linkID, store: id, contact: contact, at: now,
                                        expiresAt: Date(timeIntervalSince1970: TimeInterval(expires)))
        return link.url(for: id, id: linkID, expires: expires)
    }
}
