import BotCore
import Crypto
import Foundation

/// Why an inbound request was refused before its body was read as data.
public enum VerificationFailure: Error, Equatable, Sendable {
    /// A signature or timestamp header is absent.
    case missingHeaders
    /// The timestamp is not a number.
    case malformedTimestamp
    /// The timestamp is more than the window away from now (replay or clock skew).
    case stale
    /// The signature does not match the body.
    case badSignature
    /// No or the wrong bearer token.
    case badToken

    /// A label for metrics (`reason="stale"`).
    public var reason: String {
        switch self {
        case .missingHeaders: "missing_headers"
        case .malformedTimestamp: "malformed_timestamp"
        case .stale: "stale"
        case .badSignature: "bad_signature"
        case .badToken: "bad_token"
        }
    }

    /// What the caller is told; it never echoes what was sent.
    public var message: String {
        switch self {
        case .missingHeaders: "X-Slack-Request-Timestamp and X-Slack-Signature are required."
        case .malformedTimestamp: "X-Slack-Request-Timestamp must be Unix seconds."
        case .stale: "The request timestamp is outside the 5-minute window; check the sender's clock."
        case .badSignature: "The signature does not match; check the signing secret."
        case .badToken: "A valid 'Authorization: Bearer <token>' header is required."
        }
    }
}

/// Verifies Slack's v0 request signatures: HMAC-SHA256 over `v0:<ts>:<raw body>`.
public struct SlackSignatureVerifier: Sendable {
    private let key: SymmetricKey
    private let clock: any BotClock
    private let window: TimeInterval

    /// - Parameters:
    ///   - signingSecret: the app's signing secret.
    ///   - clock: the time the timestamp is checked against.
    ///   - window: the allowed distance between the request's timestamp and now (300 s).
    public init(signingSecret: String, clock: any BotClock, window: TimeInterval = 300) {
        key = SymmetricKey(data: Data(signingSecret.utf8))
        self.clock = clock
        self.window = window
    }

    /// Checks headers and body; throws the first reason to refuse.
    public func verify(timestamp: String?, signature: String?, body: [UInt8]) throws(VerificationFailure) {
        guard let timestamp, let signature else { throw .missingHeaders }
        guard timestamp.count <= 12, let seconds = Int64(timestamp) else { throw .malformedTimestamp }
        guard abs(clock.now.timeIntervalSince1970 - TimeInterval(seconds)) <= window else { throw .stale }
        guard signature.hasPrefix("v0="), let mac = Hex.decode(signature.dropFirst(3)), mac.count == 32 else {
            throw .badSignature
        }
        var message = Data("v0:\(timestamp):".utf8)
        message.append(contentsOf: body)
        guard HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: message, using: key) else {
            throw .badSignature
        }
    }

    /// The signature Slack would send for `body` at `timestamp` (for the replay tool and tests).
    public static func sign(body: [UInt8], timestamp: String, secret: String) -> String {
        var message = Data("v0:\(timestamp):".utf8)
        message.append(contentsOf: body)
        let mac = HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: Data(secret.utf8)))
        return "v0=" + Hex.encode(Array(mac))
    }
}

/// Verifies `Authorization: Bearer <token>` in constant time.
public struct BearerTokenVerifier: Sendable {
    private let expectedDigest: [UInt8]

    public init(token: String) {
        expectedDigest = Array(SHA256.hash(data: Data(token.utf8)))
    }

    /// Checks the `Authorization` header value.
    public func verify(authorization: String?) throws(VerificationFailure) {
        guard let authorization, authorization.count <= 4096 else { throw .badToken }
        let parts = authorization.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { throw .badToken }
        // Comparing fixed-length digests keeps the time independent of where the tokens differ.
        let digest = Array(SHA256.hash(data: Data(parts[1].utf8)))
        var difference: UInt8 = 0
        for (a, b) in zip(digest, expectedDigest) { difference |= a ^ b }
        guard difference == 0 else { throw .badToken }
    }
}

/// Webhook tokens perfbot makes: random, and known afterwards only by their digest.
public enum WebhookToken {
    /// A new token: `pbt_` and 48 hex digits (192 random bits).
    public static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        return "pbt_" + Hex.encode((0..<24).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }

    /// The lowercase hex SHA-256 a token is stored and looked up by.
    public static func digest(_ token: some StringProtocol) -> String {
        Hex.encode(Array(SHA256.hash(data: Data(token.utf8))))
    }

    /// The token of an `Authorization: Bearer <token>` value (or of `Basic`, its password), nil otherwise.
    public static func presented(in authorization: String?) -> Substring? {
        guard let authorization, authorization.count <= 4096 else { return nil }
        let parts = authorization.split(separator: " ", maxSplits: 1)
        guard parts.count == 2 else { return nil }
        switch parts[0].lowercased() {
        case "bearer": return parts[1]
        case "basic":
            guard let decoded = Data(base64Encoded: String(parts[1])), let text = String(data: decoded, encoding: .utf8),
                  let colon = text.firstIndex(of: ":") else { return nil }
            return Substring(text[text.index(after: colon)...])
        default: return nil
        }
    }
}

/// Lowercase hexadecimal encoding.
public enum Hex {
    public static func encode(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    public static func decode(_ text: some StringProtocol) -> Data? {
        let chars = Array(text.utf8)
        guard chars.count % 2 == 0 else { return nil }
        var bytes = [UInt8]()
        bytes.reserveCapacity(chars.count / 2)
        var index = 0
        while index < chars.count {
            guard let high = nibble(chars[index]), let low = nibble(chars[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return Data(bytes)
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case 48...57: c - 48
        case 97...102: c - 87
        case 65...70: c - 55
        default: nil
        }
    }
}

/// Digests of request bodies, for idempotency keys.
public enum BodyDigest {
    /// Lowercase hex SHA-256 of `bytes`.
    public static func sha256Hex(_ bytes: [UInt8]) -> String {
        Hex.encode(Array(SHA256.hash(data: bytes)))
    }
}

/// HMAC-SHA256 helpers shared by the verifiers.
enum HMACCheck {
    static func isValid(mac: Data, message: [UInt8], secret: String) -> Bool {
        HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: message, using: SymmetricKey(data: Data(secret.utf8)))
    }

    static func hex(message: [UInt8], secret: String) -> String {
        Hex.encode(Array(HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: Data(secret.utf8)))))
    }
}
