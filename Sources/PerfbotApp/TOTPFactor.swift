import BotCore
import Foundation
import HummingbirdOTP

/// Admins' second factor: RFC 6238 codes (HummingbirdOTP's TOTP: SHA-1, 6 digits, 30 s), one time step either side
/// for clock drift, each code good once; a good code lets its admin act without another for `grace`.
public struct TOTPFactor: SecondFactor {
    let store: any FactorStore
    let grace: TimeInterval
    public static let timeStep = 30
    public static let digits = 6

    public init(store: any FactorStore, grace: TimeInterval) {
        self.store = store
        self.grace = grace
    }

    public func isFresh(_ user: SlackUserID, at: Date) async throws -> Bool {
        guard let until = try await store.factor(of: user)?.verifiedUntil else { return false }
        return until > at
    }

    public func isEnrolled(_ user: SlackUserID) async throws -> Bool {
        try await store.factor(of: user) != nil
    }

    public func verify(_ user: SlackUserID, code: String, at: Date) async throws -> FactorVerdict {
        guard let factor = try await store.factor(of: user) else { return .notEnrolled }
        let typed = code.filter { !$0.isWhitespace }
        guard typed.count == Self.digits, typed.allSatisfy(\.isASCII), typed.allSatisfy(\.isNumber) else { return .wrong }
        let totp = TOTP(secret: factor.secret, length: Self.digits, timeStep: Self.timeStep)
        let now = Int64(at.timeIntervalSince1970) / Int64(Self.timeStep)
        // The step whose code this is: now, or one either side (a phone's clock a little off).
        guard let step = [now, now - 1, now + 1].first(where: { step in
            Self.format(totp.compute(date: Date(timeIntervalSince1970: TimeInterval(step * Int64(Self.timeStep)))), digits: Self.digits) == typed
        }) else { return .wrong }
        guard step > factor.lastStep else { return .reused }
        let until = at.addingTimeInterval(grace)
        // Used up in one statement: a second submission of the same code (another replica, a double click) loses.
        return try await store.useFactorStep(user, step: step, verifiedUntil: until) ? .verified(until: until) : .reused
    }

    /// A code with its leading zeros.
    public static func format(_ code: Int, digits: Int) -> String {
        let text = String(code)
        return String(repeating: "0", count: max(0, digits - text.count)) + text
    }

    /// A new secret: 32 characters of the base-32 alphabet from the system's random source (160 bits).
    public static func newSecret() -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
        var generator = SystemRandomNumberGenerator()
        return String((0..<32).map { _ in alphabet[Int(generator.next(upperBound: UInt32(alphabet.count)))] })
    }

    /// The `otpauth://` URI an authenticator app reads (as text or a QR code).
    public static func enrolmentURI(secret: String, user: SlackUserID) -> String {
        TOTP(secret: secret, length: digits, timeStep: timeStep).createAuthenticatorURL(label: "perfbot:\(user.rawValue)", issuer: "perfbot")
    }
}
