import BotCore
import Foundation

/// The signed, expiring link to a store's status page, carried by every customer e-mail:
/// `<public URL>/status/<store>?link=<id>&expires=<unix>&sig=<hex HMAC-SHA256(secret, "status:<store>:<id>:<expires>")>`.
/// Each link has an id recorded when it is issued (to whom, until when), so it can be revoked; a link only shows.
/// Acting takes a page loaded in the last `actLifetime`: its forms carry a token bound to the store, the link and a
/// near deadline, so a link found in an old mail or a log cannot change anything on its own.
public struct StatusLink: Sendable {
    let secret: String
    let publicURL: String
    /// How long a link stays valid.
    public let lifetime: TimeInterval
    /// How long a loaded page's forms may act.
    public let actLifetime: TimeInterval

    public init(secret: String, publicURL: String, days: Int, actMinutes: Int = 30) {
        self.secret = secret
        self.publicURL = publicURL.hasSuffix("/") ? String(publicURL.dropLast()) : publicURL
        lifetime = TimeInterval(days) * 86400
        actLifetime = TimeInterval(actMinutes) * 60
    }

    /// A new link id: 20 base32 characters (100 random bits).
    public static func newID() -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz234567")
        var generator = SystemRandomNumberGenerator()
        return String((0..<20).map { _ in alphabet[Int(generator.next() % 32)] })
    }

    /// Whether `text` has the shape of a link id.
    public static func isValidID(_ text: String) -> Bool {
        text.count == 20 && text.allSatisfy { ("a"..."z").contains($0) || ("2"..."7").contains($0) }
    }

    /// When a link issued at `now` expires.
    public func expiry(from now: Date) -> Int64 { Int64(now.addingTimeInterval(lifetime).timeIntervalSince1970) }

    /// The full address of link `id` to `store`.
    public func url(for store: StoreID, id: String, expires: Int64) -> String {
        publicURL + path(for: store, id: id, expires: expires)
    }

    /// The path and query of the page (for the page's own forms and links).
    public func path(for store: StoreID, id: String, expires: Int64) -> String {
        "/status/\(store)?link=\(id)&expires=\(expires)&sig=\(signature(store, id, expires))"
    }

    public enum Verdict: Sendable, Equatable { case valid, expired, invalid }

    /// Checks the link's signature (in constant time) and its expiry; whether it was revoked is the store's to say.
    public func verify(_ store: StoreID, id: String?, expires: String?, signature: String?, now: Date) -> Verdict {
        guard let id, Self.isValidID(id), let expires, let seconds = Int64(expires), let signature,
              let mac = Hex.decode(signature), mac.count == 32,
              HMACCheck.isValid(mac: mac, message: Array("status:\(store):\(id):\(seconds)".utf8), secret: secret) else {
            return .invalid
        }
        return TimeInterval(seconds) < now.timeIntervalSince1970 ? .expired : .valid
    }

    /// The token of a page's forms: bound to the store, the link and the moment its forms stop acting.
    public func actToken(_ store: StoreID, id: String, until: Int64) -> String {
        HMACCheck.hex(message: Array("act:\(store):\(id):\(until)".utf8), secret: secret)
    }

    /// Whether `token` was issued for this store and link and its deadline has not passed (constant time).
    public func verifyAct(_ token: String?, store: StoreID, id: String, until: String?, now: Date) -> Bool {
        guard let token, let mac = Hex.decode(token), mac.count == 32, let until, let seconds = Int64(until),
              HMACCheck.isValid(mac: mac, message: Array("act:\(store):\(id):\(seconds)".utf8), secret: secret) else { return false }
        let remaining = TimeInterval(seconds) - now.timeIntervalSince1970
        return remaining >= 0 && remaining <= actLifetime
    }

    /// The link's signature for `store`, `id` and `expires`.
    public func signature(_ store: StoreID, _ id: String, _ expires: Int64) -> String {
        HMACCheck.hex(message: Array("status:\(store):\(id):\(expires)".utf8), secret: secret)
    }
}
