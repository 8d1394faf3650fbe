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
        // The From as sent, never decoded: who wrote is read exactly as the MTA that checked it read it.
        let from = message.headers.first { $0.0.lowercased() == "from" }?.1 ?? ""
        self.init(recipient: recipient, from: from, subject: message.header("Subject") ?? "",
                  text: message.plainText, headers: message.headers)
    }

    /// The message's own id, when it has one.
    public var messageID: String? { header("Message-ID").first }

    public static func == (lhs: InboundMail, rhs: InboundMail) -> Bool {
        lhs.recipient == rhs.recipient && lhs.from == rhs.from && lhs.text == rhs.text
    }

    public func header(_ name: String) -> [String] {
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

    /// Whether any verdict on the message is a failure: SPF, DKIM or DMARC `fail`, `softfail` or `permerror`
    /// (in `Authentication-Results`, Mailgun's `X-Mailgun-Spf` / `X-Mailgun-Dkim-Check-Result`, or
    /// `Received-SPF`). Trusting a failure from any header only makes perfbot more careful, so none is ignored.
    public var failedAuthentication: Bool {
        let failures = ["fail", "softfail", "permerror"]
        let results = header("Authentication-Results").joined(separator: ";").lowercased()
        for method in ["spf", "dkim", "dmarc"] where failures.contains(where: { results.contains("\(method)=\($0)") }) {
            return true
        }
        let verdicts = header("X-Mailgun-Spf") + header("X-Mailgun-Dkim-Check-Result") + header("Received-SPF")
        return verdicts.contains { verdict in
            let word = verdict.lowercased().trimmingCharacters(in: .whitespaces).prefix { $0.isLetter }
            return failures.contains(String(word))
        }
    }

    /// The one plain mailbox of the From header as sent; nil (nobody) for anything else: two addresses, a
    /// comment, an encoded word beside the address.
    public var fromAddress: String? { MailAddress.singleMailbox(from) }
}

/// E-mail addresses in `Name <a@b>` and bare forms.
public enum MailAddress {
    /// The one mailbox of a From header as sent, or nil: `a@b`, or a display name then `<a@b>` and nothing after.
    /// Refused: comments, a second address, groups, an encoded word or anything else after the address or
    /// beside a bare one, and `<`, `>` or `@` in the name. The display name is never decoded, so an encoded word
    /// in it can hide nothing.
    public static func singleMailbox(_ header: String) -> String? {
        let text = header.trimmingCharacters(in: .whitespaces)
        guard !text.isEmpty, text.utf8.count <= 998, !text.contains("("), !text.contains(")"), !text.contains(","),
              !text.contains(";") else { return nil }
        let spec: Substring
        if let open = text.firstIndex(of: "<") {
            guard text.last == ">", text.lastIndex(of: "<") == open, text.firstIndex(of: ">") == text.index(before: text.endIndex) else {
                return nil
            }
            let name = text[..<open]
            // A quoted display name may hold anything but what could end the quote or make a second address.
            guard !name.contains("@"), !name.contains(":"), !name.contains("\\"), name.filter({ $0 == "\"" }).count % 2 == 0 else {
                return nil
            }
            spec = text[text.index(after: open)..<text.index(before: text.endIndex)]
        } else {
            guard !text.contains(">"), !text.contains("=?"), !text.contains(where: \.isWhitespace) else { return nil }
            spec = Substring(text)
        }
        let parts = spec.split(separator: "@", omittingEmptySubsequences: false)
        let local = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.!#$%&'*+/=?^_`{|}~-")
        let host = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-")
        guard parts.count == 2, !parts[0].isEmpty, parts[0].count <= 64, parts[1].contains("."), parts[1].count <= 253,
              !parts[0].contains("=?"), parts[0].unicodeScalars.allSatisfy(local.contains),
              parts[1].unicodeScalars.allSatisfy(host.contains), !parts[1].hasPrefix("."), !parts[1].hasSuffix(".") else {
            return nil
        }
        return "\(parts[0])@\(parts[1].lowercased())"
    }

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

    /// The same mailbox, compared case-insensitively as mail providers do (`Dana.Owner@Acme.example` is
    /// `dana.owner@acme.example`). A header with more than one address is nobody's.
    public static func same(_ a: String, _ b: String) -> Bool {
        let left = addresses(in: a), right = addresses(in: b)
        guard left.count == 1, right.count == 1 else { return false }
        return left[0].lowercased() == right[0].lowercased()
    }

    /// Every address in a header such as `Dana <dana@acme.example>, ops@acme.example` (commas inside
    /// quoted display names are not separators).
    public static func addresses(in text: String) -> [String] {
        var parts: [String] = []
        var current = ""
        var quoted = false, angled = false
        for character in text {
            switch character {
            case "\"": quoted.toggle()
            case "<" where !quoted: angled = true
            case ">" where !quoted: angled = false
            case ",", ";":
                if !quoted && !angled {
                    parts.append(current)
                    current = ""
                    continue
                }
            default: break
            }
            current.append(character)
        }
        parts.append(current)
        return parts.compactMap { address(in: $0) }
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
