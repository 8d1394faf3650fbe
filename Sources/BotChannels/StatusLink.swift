import BotCore
import Foundation

/// The signed, expiring link to a store's status page, carried by every customer e-mail:
/// `<public URL>/status/<store>?expires=<unix>&sig=<hex HMAC-SHA256(secret, "status:<store>:<expires>")>`.
/// The page's forms carry a CSRF token bound to the same store and expiry.
public struct StatusLink: Sendable {
    let secret: String
    let publicURL: String
    /// How long a link stays valid.
    public let lifetime: TimeInterval

    public init(secret: String, publicURL: String, days: Int) {
        self.secret = secret
        self.publicURL = publicURL.hasSuffix("/") ? String(publicURL.dropLast()) : publicURL
        lifetime = TimeInterval(days) * 86400
    }

    /// A fresh link to `store`'s page, valid from `now` for the lifetime.
    public func url(for store: StoreID, now: Date) -> String {
        let expires = Int64(now.addingTimeInterval(lifetime).timeIntervalSince1970)
        return "\(publicURL)/status/\(store)?expires=\(expires)&sig=\(signature(store, expires))"
    }

    /// The path and query of the page (for the page's own forms and links).
    public func path(for store: StoreID, expires: Int64) -> String {
        "/status/\(store)?expires=\(expires)&sig=\(signature(store, expires))"
    }

    public enum Verdict: Sendable, Equatable { case valid, expired, invalid }

    /// Checks the link's signature (in constant time) and its expiry.
    public func verify(_ store: StoreID, expires: String?, signature: String?, now: Date) -> Verdict {
        guard let expires, let seconds = Int64(expires), let signature, let mac = Hex.decode(signature), mac.count == 32,
              HMACCheck.isValid(mac: mac, message: Array("status:\(store):\(seconds)".utf8), secret: secret) else {
            return .invalid
        }
        return TimeInterval(seconds) < now.timeIntervalSince1970 ? .expired : .valid
    }

    /// The CSRF token of the page's forms: bound to the store and the link's expiry.
    public func csrf(_ store: StoreID, expires: Int64) -> String {
        HMACCheck.hex(message: Array("csrf:\(store):\(expires)".utf8), secret: secret)
    }

    /// Whether `token` is the page's CSRF token (constant time).
    public func verifyCSRF(_ token: String?, store: StoreID, expires: Int64) -> Bool {
        guard let token, let mac = Hex.decode(token), mac.count == 32 else { return false }
        return HMACCheck.isValid(mac: mac, message: Array("csrf:\(store):\(expires)".utf8), secret: secret)
    }

    /// The link's signature for `store` and `expires`.
    public func signature(_ store: StoreID, _ expires: Int64) -> String {
        HMACCheck.hex(message: Array("status:\(store):\(expires)".utf8), secret: secret)
    }
}
