import BotCore
import Crypto
import Foundation

/// A reply e-mail as perfbot reads it, whichever provider delivered it.
public struct InboundMail: Sendable, Equatable {
    /// The envelope or To recipient: `approve+<token>@domain`.
    public var recipient: String
    /// The From header.
    public var from: String
    public var subject: String
    /// The plain-text body.
    public var text: String
    /// Headers as (name, value) pairs, names as sent.
    public var headers: [(String, String)]

    public init(recipient: String, from: String, subject: String, text: String, headers: [(String, String)]) {
        self.recipient = recipient
        self.from = from
        self.subject = subject
        self.text = text
        self.headers = headers
    }

    /// Reads a raw RFC 5322 message (the recipient from `Delivered-To`, `X-Original-To` or `To`).
    public init(raw: [UInt8]) {
        let message = MIMEMessage(raw: raw)
        let recipient = message.header("Delivered-To") ?? message.header("X-Original-To") ?? message.header("To") ?? ""
        self.init(recipient: recipient, from: message.header("From") ?? "", subject: message.header("Subject") ?? "",
                  text: message.plainText, headers: message.headers)
    }

    /// The message's own id, when it has one.
    public var messageID: String? { header("Message-ID").first }

    public static func == (lhs: InboundMail, rhs: InboundMail) -> Bool {
        lhs.recipient == rhs.recipient && lhs.from == rhs.from && lhs.text == rhs.text
    }

    func header(_ name: String) -> [String] {
        headers.filter { $0.0.lowercased() == name.lowercased() }.map(\.1)
    }

    /// The approval token in the recipient's plus-address, lowercased; nil when there is none.
    public var token: String? {
        let address = MailAddress.address(in: recipient) ?? recipient
        guard let plus = address.firstIndex(of: "+"), let at = address.firstIndex(of: "@"), plus < at else { return nil }
        let token = address[address.index(after: plus)..<at].lowercased()
        guard token.count == 32, token.unicodeScalars.allSatisfy({ ("a"..."z").contains($0) || ("2"..."7").contains($0) })
        else { return nil }
        return token
    }

    /// Whether a robot sent it (an out-of-office, a list): such mail is ignored without an answer.
    public var isAutomatic: Bool {
        if let auto = header("Auto-Submitted").first?.lowercased().trimmingCharacters(in: .whitespaces), auto != "no" { return true }
        if header("Precedence").contains(where: { ["bulk", "auto_reply", "list", "junk"].contains($0.lowercased().trimmingCharacters(in: .whitespaces)) }) {
            return true
        }
        if !header("X-Autoreply").isEmpty || !header("X-Autorespond").isEmpty { return true }
        return header("Return-Path").contains { $0.trimmingCharacters(in: .whitespaces) == "<>" }
    }

    /// Whether the provider reported a failed SPF, DKIM or DMARC check.
    public var failedAuthentication: Bool {
        let results = header("Authentication-Results").joined(separator: ";").lowercased()
        if ["spf=fail", "dkim=fail", "dmarc=fail"].contains(where: results.contains) { return true }
        let verdicts = header("X-Mailgun-Spf") + header("X-Mailgun-Dkim-Check-Result") + header("Received-SPF")
        return verdicts.contains { $0.lowercased().trimmingCharacters(in: .whitespaces).hasPrefix("fail") }
    }
}

/// E-mail addresses in `Name <a@b>` and bare forms.
public enum MailAddress {
    /// The address part, lowercased in its domain; nil when there is none.
    public static func address(in text: String) -> String? {
        var candidate = text.trimmingCharacters(in: .whitespaces)
        if let open = candidate.lastIndex(of: "<"), let close = candidate.lastIndex(of: ">"), open < close {
            candidate = String(candidate[candidate.index(after: open)..<close])
        }
        let parts = candidate.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[1].contains("."), !candidate.contains(" ") else { return nil }
        return "\(parts[0])@\(parts[1].lowercased())"
    }

    /// The same mailbox: local parts exactly, domains case-insensitively.
    public static func same(_ a: String, _ b: String) -> Bool {
        guard let x = address(in: a), let y = address(in: b) else { return false }
        return x == y
    }
}

/// Verifies Mailgun's webhook signature: hex HMAC-SHA256(signing key, timestamp + token), within a window.
public struct MailgunVerifier: Sendable {
    let key: String
    let clock: any BotClock
    let window: TimeInterval

    public init(signingKey: String, clock: any BotClock, window: TimeInterval = 900) {
        key = signingKey
        self.clock = clock
        self.window = window
    }

    public func verify(timestamp: String?, token: String?, signature: String?) throws(VerificationFailure) {
        guard let timestamp, let token, let signature else { throw .missingHeaders }
        guard let seconds = Int64(timestamp) else { throw .malformedTimestamp }
        guard abs(clock.now.timeIntervalSince1970 - TimeInterval(seconds)) <= window else { throw .stale }
        guard let mac = Hex.decode(signature), mac.count == 32,
              HMACCheck.isValid(mac: mac, message: Array((timestamp + token).utf8), secret: key) else { throw .badSignature }
    }

    /// The signature Mailgun would send (tests and the replay tool).
    public static func sign(timestamp: String, token: String, key: String) -> String {
        HMACCheck.hex(message: Array((timestamp + token).utf8), secret: key)
    }
}
