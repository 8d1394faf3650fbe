import BotCore
import BotStore
import Foundation
import HummingbirdOTP
import PerfbotApp
import Testing

@Suite struct TOTPFactorTests {
    /// RFC 6238 appendix B: the SHA-1 seed "12345678901234567890", 8 digits, 30 s steps.
    @Test(arguments: [(59, "94287082"), (1_111_111_109, "07081804"), (1_111_111_111, "14050471"), (1_234_567_890, "89005924"),
                      (2_000_000_000, "69279037"), (20_000_000_000, "65353130")])
    func theRFCTestVectorsHold(seconds: Int, code: String) {
        let totp = TOTP(secret: "12345678901234567890", length: 8, timeStep: 30, hashFunction: .sha1)
        #expect(TOTPFactor.format(totp.compute(date: Date(timeIntervalSince1970: TimeInterval(seconds))), digits: 8) == code)
    }

    /// The SHA-256 and SHA-512 vectors of the same appendix, at T = 59 s.
    @Test func theRFCVectorsOfTheOtherHashesHold() {
        let at = Date(timeIntervalSince1970: 59)
        #expect(TOTP(secret: "12345678901234567890123456789012", length: 8, hashFunction: .sha256).compute(date: at) == 46_119_246)
        #expect(TOTP(secret: "1234567890123456789012345678901234567890123456789012345678901234", length: 8, hashFunction: .sha512)
            .compute(date: at) == 90_693_936)
    }

    func enrolled() async throws -> (TOTPFactor, TOTP, SlackUserID, SQLiteStore) {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("perfbot-\(UUID().uuidString).sqlite").path
        let store = try SQLiteStore(path: path)
        let user = SlackUserID("U0ADMIN01")!
        let secret = TOTPFactor.newSecret()
        try await store.enrollFactor(user, secret: secret, at: .now)
        return (TOTPFactor(store: store, grace: 300), TOTP(secret: secret, length: 6, timeStep: 30), user, store)
    }

    func code(_ totp: TOTP, _ at: Date) -> String { TOTPFactor.format(totp.compute(date: at), digits: 6) }

    @Test func aGoodCodeHoldsOnceAndForAFewMinutes() async throws {
        let (factor, totp, user, _) = try await enrolled()
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        #expect(try await !factor.isFresh(user, at: now))
        #expect(try await factor.verify(user, code: code(totp, now), at: now) == .verified(until: now.addingTimeInterval(300)))
        #expect(try await factor.isFresh(user, at: now.addingTimeInterval(299)))
        #expect(try await !factor.isFresh(user, at: now.addingTimeInterval(300)))
        // The same code again, even within its 30 s: refused as reused.
        #expect(try await factor.verify(user, code: code(totp, now), at: now.addingTimeInterval(5)) == .reused)
        // The previous step's code (a phone a little behind) is older than the one used: refused too.
        #expect(try await factor.verify(user, code: code(totp, now.addingTimeInterval(-30)), at: now.addingTimeInterval(5)) == .reused)
        // The next step's code holds.
        let later = now.addingTimeInterval(30)
        #expect(try await factor.verify(user, code: code(totp, later), at: later) == .verified(until: later.addingTimeInterval(300)))
    }

    @Test func wrongExpiredAndMalformedCodesAreRefused() async throws {
        let (factor, totp, user, _) = try await enrolled()
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        // From two minutes ago: expired (only one step either side is accepted).
        let old = code(totp, now.addingTimeInterval(-120))
        let valid = Set([-30.0, 0, 30].map { code(totp, now.addingTimeInterval($0)) })
        if !valid.contains(old) { #expect(try await factor.verify(user, code: old, at: now) == .wrong) }
        let wrong = (0..<1000).lazy.map { String(format: "%06d", ($0 * 7919) % 1_000_000) }.first { !valid.contains($0) }!
        #expect(try await factor.verify(user, code: wrong, at: now) == .wrong)
        for malformed in ["", "12345", "1234567", "12a456", "１２３４５６", "123 45"] {
            #expect(try await factor.verify(user, code: malformed, at: now) == .wrong, "\(malformed)")
        }
        #expect(try await factor.verify(SlackUserID("U0NOBODY1")!, code: code(totp, now), at: now) == .notEnrolled)
        // None of the refusals used the factor up: the right code still holds.
        #expect(try await factor.verify(user, code: code(totp, now), at: now) == .verified(until: now.addingTimeInterval(300)))
    }
}
