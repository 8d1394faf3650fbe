import BotChannels
import BotCore
import Foundation
import Testing

/// Slack's worked example (PROTOCOLS.md §1).
enum SlackExample {
    static let secret = "8f742231b10e8888abcd99yyyzzz85a5"
    static let timestamp = "1531420618"
    static let body = Array("token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c".utf8)
    static let signature = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
    static let at = Date(timeIntervalSince1970: 1_531_420_618)
}

@Suite struct SlackSignatureTests {
    func verifier(at date: Date, secret: String = SlackExample.secret) -> SlackSignatureVerifier {
        SlackSignatureVerifier(signingSecret: secret, clock: ManualClock(date))
    }

    func failure(_ block: () throws(VerificationFailure) -> Void) -> VerificationFailure? {
        do { try block(); return nil } catch { return error }
    }

    @Test func slacksWorkedExampleVerifiesAtItsTimestamp() throws {
        #expect(SlackExample.body.count == 362)
        try verifier(at: SlackExample.at).verify(timestamp: SlackExample.timestamp, signature: SlackExample.signature,
                                                  body: SlackExample.body)
        #expect(SlackSignatureVerifier.sign(body: SlackExample.body, timestamp: SlackExample.timestamp,
                                            secret: SlackExample.secret) == SlackExample.signature)
    }

    @Test func slacksWorkedExampleIsStaleToday() {
        #expect(failure { () throws(VerificationFailure) in
            try verifier(at: Date()).verify(timestamp: SlackExample.timestamp, signature: SlackExample.signature,
                                            body: SlackExample.body)
        } == .stale)
    }

    @Test func windowEdges() throws {
        for (offset, expected) in [(301.0, VerificationFailure.stale), (-301, .stale)] {
            #expect(failure { () throws(VerificationFailure) in
                try verifier(at: SlackExample.at.addingTimeInterval(offset)).verify(
                    timestamp: SlackExample.timestamp, signature: SlackExample.signature, body: SlackExample.body)
            } == expected)
        }
        try verifier(at: SlackExample.at.addingTimeInterval(300)).verify(
            timestamp: SlackExample.timestamp, signature: SlackExample.signature, body: SlackExample.body)
        try verifier(at: SlackExample.at.addingTimeInterval(-300)).verify(
            timestamp: SlackExample.timestamp, signature: SlackExample.signature, body: SlackExample.body)
    }

    @Test func tamperedBodyWrongSecretAndMissingHeadersAreRefused() {
        var tampered = SlackExample.body
        tampered[tampered.count - 1] ^= 1
        let cases: [(VerificationFailure, () throws(VerificationFailure) -> Void)] = [
            (.badSignature, { () throws(VerificationFailure) in
                try verifier(at: SlackExample.at).verify(timestamp: SlackExample.timestamp,
                                                         signature: SlackExample.signature, body: tampered) }),
            (.badSignature, { () throws(VerificationFailure) in
                try verifier(at: SlackExample.at, secret: "another-secret").verify(
                    timestamp: SlackExample.timestamp, signature: SlackExample.signature, body: SlackExample.body) }),
            (.missingHeaders, { () throws(VerificationFailure) in
                try verifier(at: SlackExample.at).verify(timestamp: nil, signature: SlackExample.signature, body: SlackExample.body) }),
            (.missingHeaders, { () throws(VerificationFailure) in
                try verifier(at: SlackExample.at).verify(timestamp: SlackExample.timestamp, signature: nil, body: SlackExample.body) }),
            (.malformedTimestamp, { () throws(VerificationFailure) in
                try verifier(at: SlackExample.at).verify(timestamp: "soon", signature: SlackExample.signature, body: SlackExample.body) }),
            (.badSignature, { () throws(VerificationFailure) in
                try verifier(at: SlackExample.at).verify(timestamp: SlackExample.timestamp, signature: "v0=zz",
                                                         body: SlackExample.body) }),
            (.badSignature, { () throws(VerificationFailure) in
                try verifier(at: SlackExample.at).verify(timestamp: SlackExample.timestamp,
                                                         signature: String(SlackExample.signature.dropFirst(3)),
                                                         body: SlackExample.body) }),
        ]
        for (expected, attempt) in cases {
            #expect(failure(attempt) == expected)
        }
    }

    @Test func computedJSONVectorVerifies() throws {
        let body = Array(#"{"type":"url_verification","token":"Jhj5dZrVaK7ZwHHjRyZWjbDl","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}"#.utf8)
        try verifier(at: Date(timeIntervalSince1970: 1_767_225_600)).verify(
            timestamp: "1767225600",
            signature: "v0=9d6a6eca8e045d2917a93e48c493cd5cb5f6ef19fbdf7e69af22315bd49553d0", body: body)
    }

    @Test func bearerTokensCompareExactly() throws {
        let verifier = BearerTokenVerifier(token: "webhook-token-0123456789")
        try verifier.verify(authorization: "Bearer webhook-token-0123456789")
        for header in [nil, "Bearer webhook-token-012345678", "Basic webhook-token-0123456789", "Bearer", ""] {
            #expect(failure { () throws(VerificationFailure) in try verifier.verify(authorization: header) } == .badToken)
        }
    }
}

@Suite struct GrafanaSignatureTests {
    let secret = "grafana-hmac-secret-example"
    let body = Array(#"{"receiver":"ops-bot","status":"firing"}"#.utf8)

    @Test func theComputedVectorsVerify() throws {
        let verifier = GrafanaSignatureVerifier(secret: secret, clock: ManualClock(Date(timeIntervalSince1970: 1_767_225_600)))
        try verifier.verify(signature: "522c418a20f23222dac867bc081ee5897960e3db4e3ea8bdabc27c3d37ab0b1c", timestamp: nil,
                            usesTimestamp: false, body: body)
        try verifier.verify(signature: "6d4ba80f40fb9221e50b27f7f53b3d8ebd6f062e473185590127eac705007750",
                            timestamp: "1767225600", usesTimestamp: true, body: body)
        #expect(GrafanaSignatureVerifier.sign(body: body, secret: secret)
            == "522c418a20f23222dac867bc081ee5897960e3db4e3ea8bdabc27c3d37ab0b1c")
    }

    @Test func wrongStaleOrMissingSignaturesAreRefused() {
        let verifier = GrafanaSignatureVerifier(secret: secret, clock: ManualClock(Date(timeIntervalSince1970: 1_767_226_000)))
        func failure(_ signature: String?, _ timestamp: String?, _ usesTimestamp: Bool) -> VerificationFailure? {
            do {
                try verifier.verify(signature: signature, timestamp: timestamp, usesTimestamp: usesTimestamp, body: body)
                return nil
            } catch { return error }
        }
        #expect(failure("522c418a20f23222dac867bc081ee5897960e3db4e3ea8bdabc27c3d37ab0b1d", nil, false) == .badSignature)
        #expect(failure(nil, nil, false) == .badSignature)
        #expect(failure("6d4ba80f40fb9221e50b27f7f53b3d8ebd6f062e473185590127eac705007750", "1767225600", true) == .stale)
        #expect(failure("6d4ba80f40fb9221e50b27f7f53b3d8ebd6f062e473185590127eac705007750", nil, true) == .missingHeaders)
    }
}
