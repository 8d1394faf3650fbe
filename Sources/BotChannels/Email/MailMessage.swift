import BotCore
import Foundation

/// An outgoing e-mail, rendered as RFC 5322 / MIME: multipart/alternative (plain text and HTML),
/// UTF-8 quoted-printable bodies, RFC 2047 subjects, and the headers an automated sender owes.
public struct MailMessage: Sendable, Equatable {
    public var from: String
    public var to: String
    public var replyTo: String?
    public var subject: String
    public var text: String
    public var html: String
    /// `<id@domain>`.
    public var messageID: String
    public var date: Date

    public init(from: String, to: String, replyTo: String? = nil, subject: String, text: String, html: String,
                messageID: String, date: Date) {
        self.from = from
        self.to = to
        self.replyTo = replyTo
        self.subject = subject
        self.text = text
        self.html = html
        self.messageID = messageID
        self.date = date
    }

    /// The message as it goes over SMTP (CRLF line ends).
    public func rendered(boundary: String = "perfbot-" + UUID().uuidString.lowercased()) -> String {
        var headers = [
            "From: \(from)", "To: \(to)", "Subject: \(Self.encodedWord(subject))", "Date: \(Self.rfc5322(date))",
            "Message-ID: \(messageID)", "MIME-Version: 1.0", "Auto-Submitted: auto-generated",
            "X-Auto-Response-Suppress: All",
            "Content-Type: multipart/alternative; boundary=\"\(boundary)\"",
        ]
        if let replyTo { headers.insert("Reply-To: \(replyTo)", at: 2) }
        let parts = [("text/plain", text), ("text/html", html)].map { type, body in
            "--\(boundary)\r\nContent-Type: \(type); charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
                + Self.quotedPrintable(body)
        }
        return headers.joined(separator: "\r\n") + "\r\n\r\n" + parts.joined(separator: "\r\n") + "\r\n--\(boundary)--\r\n"
    }

    /// `=?UTF-8?B?…?=` when the text is not plain ASCII.
    static func encodedWord(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { !$0.isASCII || $0.value < 32 }) else { return text }
        return "=?UTF-8?B?" + Data(text.utf8).base64EncodedString() + "?="
    }

    /// Quoted-printable (RFC 2045), lines at most 76 characters, CRLF line ends.
    static func quotedPrintable(_ text: String) -> String {
        var output = ""
        for line in text.replacingOccurrences(of: "\r\n", with: "\n").split(separator: "\n", omittingEmptySubsequences: false) {
            var current = ""
            let bytes = Array(line.utf8)
            for (index, byte) in bytes.enumerated() {
                let isLast = index == bytes.count - 1
                let literal = (byte >= 33 && byte <= 126 && byte != 61) || (byte == 32 && !isLast)
                let piece = literal ? String(UnicodeScalar(byte)) : String(format: "=%02X", byte)
                if current.count + piece.count > 75 {
                    output += current + "=\r\n"
                    current = ""
                }
                current += piece
            }
            output += current + "\r\n"
        }
        return output
    }

    static func rfc5322(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss '+0000'"
        return formatter.string(from: date)
    }
}
