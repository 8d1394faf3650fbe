import Foundation

/// A MIME message read from raw RFC 5322 bytes: unfolded headers, nested multiparts, and bodies
/// decoded from quoted-printable or base64 and from their charset (UTF-8, ISO-8859-1, Windows-1252, ASCII).
public struct MIMEMessage: Sendable {
    public var headers: [(String, String)]
    /// The body, decoded, for a single part.
    public var body: String
    public var contentType: String
    public var parts: [MIMEMessage]

    /// How deep multiparts may nest; real mail stays within three or four levels.
    static let maximumDepth = 12

    /// Parses `raw`; never throws: what cannot be read becomes empty text.
    public init(raw: [UInt8]) {
        self.init(raw: raw, depth: 0)
    }

    init(raw: [UInt8], depth: Int) {
        let text = Self.latin1OrUTF8(raw).replacingOccurrences(of: "\r\n", with: "\n")
        let (headerText, bodyText) = Self.split(text)
        headers = Self.headers(headerText)
        let type = headers.first { $0.0.lowercased() == "content-type" }?.1 ?? "text/plain"
        contentType = type.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? "text/plain"
        if contentType.hasPrefix("multipart/"), let boundary = Self.parameter("boundary", in: type) {
            // Parts nested deeper than any mail client writes are dropped rather than followed down.
            parts = depth >= Self.maximumDepth ? []
                : Self.parts(bodyText, boundary: boundary).map { MIMEMessage(raw: Array($0.utf8), depth: depth + 1) }
            body = ""
        } else {
            parts = []
            let encoding = headers.first { $0.0.lowercased() == "content-transfer-encoding" }?.1.lowercased()
                .trimmingCharacters(in: .whitespaces) ?? "7bit"
            let charset = Self.parameter("charset", in: type)?.lowercased() ?? "utf-8"
            body = Self.decode(bodyText, encoding: encoding, charset: charset)
        }
    }

    /// The first header named `name`, RFC 2047 words decoded.
    public func header(_ name: String) -> String? {
        headers.first { $0.0.lowercased() == name.lowercased() }.map { Self.decodeWords($0.1) }
    }

    /// The plain text of the message: its text/plain part, else its HTML turned into text (quotes kept as `>`).
    public var plainText: String {
        if contentType == "text/plain" { return body }
        if contentType == "text/html" { return Self.text(fromHTML: body) }
        if let plain = allParts.first(where: { $0.contentType == "text/plain" }) { return plain.body }
        if let html = allParts.first(where: { $0.contentType == "text/html" }) { return Self.text(fromHTML: html.body) }
        return ""
    }

    /// The `boundary` parameter of a multipart Content-Type value.
    public static func boundary(in contentType: String) -> String? { parameter("boundary", in: contentType) }

    var allParts: [MIMEMessage] { parts.flatMap { [$0] + $0.allParts } }

    // MARK: Reading

    static func latin1OrUTF8(_ bytes: [UInt8]) -> String {
        String(validating: bytes, as: UTF8.self) ?? String(bytes.map { Character(Unicode.Scalar($0)) })
    }

    static func split(_ text: String) -> (String, String) {
        guard let range = text.range(of: "\n\n") else { return (text, "") }
        return (String(text[..<range.lowerBound]), String(text[range.upperBound...]))
    }

    /// Header lines, folded continuations joined.
    static func headers(_ text: String) -> [(String, String)] {
        var headers: [(String, String)] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if let first = line.first, first == " " || first == "\t", !headers.isEmpty {
                headers[headers.count - 1].1 += " " + line.trimmingCharacters(in: .whitespaces)
            } else if let colon = line.firstIndex(of: ":") {
                headers.append((String(line[..<colon]).trimmingCharacters(in: .whitespaces),
                                String(line[line.index(after: colon)...]).trimmingCharacters(in: .whitespaces)))
            }
        }
        return headers
    }

    static func parameter(_ name: String, in value: String) -> String? {
        for piece in value.split(separator: ";").dropFirst() {
            let pair = piece.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if pair.count == 2, pair[0].lowercased() == name {
                return pair[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            }
        }
        return nil
    }

    static func parts(_ body: String, boundary: String) -> [String] {
        let delimiter = "--" + boundary
        var parts: [String] = []
        var current: [Substring]?
        for line in body.split(separator: "\n", omittingEmptySubsequences: false) {
            // A delimiter line is the boundary alone (trailing blanks allowed), not a longer boundary it begins.
            let bare = line.hasSuffix(" ") || line.hasSuffix("\t") ? Substring(line.trimmingCharacters(in: .whitespaces)) : line
            if bare == delimiter || bare == delimiter + "--" {
                if let current { parts.append(current.joined(separator: "\n")) }
                if bare == delimiter + "--" { return parts }
                current = []
            } else {
                current?.append(line)
            }
        }
        if let current { parts.append(current.joined(separator: "\n")) }
        return parts
    }

    static func decode(_ text: String, encoding: String, charset: String) -> String {
        var bytes: [UInt8]
        switch encoding {
        case "base64":
            bytes = Array(Data(base64Encoded: text.filter { !$0.isWhitespace }) ?? Data())
        case "quoted-printable":
            bytes = quotedPrintable(text)
        default:
            bytes = Array(text.unicodeScalars.map { UInt8(truncatingIfNeeded: $0.value) })
            if let utf8 = String(validating: Array(text.utf8), as: UTF8.self), charset.contains("utf") { return utf8 }
        }
        return string(bytes, charset: charset)
    }

    static func string(_ bytes: [UInt8], charset: String) -> String {
        if charset.contains("8859") || charset.contains("1252") || charset.contains("latin") {
            return String(bytes.map { Character(Unicode.Scalar($0)) })
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func quotedPrintable(_ text: String) -> [UInt8] {
        var output: [UInt8] = []
        let input = Array(text.utf8)
        var index = 0
        while index < input.count {
            let byte = input[index]
            if byte == UInt8(ascii: "="), index + 1 < input.count {
                if input[index + 1] == 10 { index += 2; continue }  // soft line break
                if index + 2 < input.count,
                   let value = UInt8(String(decoding: input[(index + 1)...(index + 2)], as: UTF8.self), radix: 16) {
                    output.append(value)
                    index += 3
                    continue
                }
            }
            output.append(byte)
            index += 1
        }
        return output
    }

    /// `=?UTF-8?B?…?=` and `=?ISO-8859-1?Q?…?=` words in a header (RFC 2047; the blanks between two words go).
    /// One pass: a word is at most 256 bytes and holds no blank, so no byte is looked at more than that often.
    static func decodeWords(_ value: String) -> String {
        let input = Array(value.utf8)
        guard input.count > 1, value.contains("=?") else { return value }
        var output: [UInt8] = []
        output.reserveCapacity(input.count)
        var index = 0
        var pendingBlanks: [UInt8] = []
        var afterWord = false
        let question = UInt8(ascii: "?"), equals = UInt8(ascii: "=")
        while index < input.count {
            if input[index] == equals, index + 1 < input.count, input[index + 1] == question,
               let (decoded, next) = encodedWord(input, at: index) {
                if !afterWord { output += pendingBlanks }
                pendingBlanks.removeAll()
                output += decoded
                index = next
                afterWord = true
                continue
            }
            let byte = input[index]
            if byte == 32 || byte == 9 {
                pendingBlanks.append(byte)
            } else {
                output += pendingBlanks
                pendingBlanks.removeAll()
                output.append(byte)
                afterWord = false
            }
            index += 1
        }
        output += pendingBlanks
        return String(decoding: output, as: UTF8.self)
    }

    /// The encoded word starting at `start` (`=?charset?B|Q?text?=`), decoded to UTF-8, and the index after it.
    static func encodedWord(_ input: [UInt8], at start: Int) -> ([UInt8], Int)? {
        let limit = min(input.count, start + 256)
        var marks: [Int] = []  // the `?` after the charset, after the encoding, and before `=`
        var index = start + 2
        while index < limit {
            let byte = input[index]
            if byte == 32 || byte == 9 || byte == 10 || byte == 13 { return nil }
            if byte == UInt8(ascii: "?") {
                if marks.count == 2 {
                    guard index + 1 < input.count, input[index + 1] == UInt8(ascii: "=") else { return nil }
                    let charset = String(decoding: input[(start + 2)..<marks[0]], as: UTF8.self).lowercased()
                    let encoding = input[(marks[0] + 1)..<marks[1]]
                    let text = String(decoding: input[(marks[1] + 1)..<index], as: UTF8.self)
                    guard encoding.count == 1 else { return nil }
                    let bytes: [UInt8]
                    switch encoding.first! | 0x20 {
                    case UInt8(ascii: "b"): bytes = Array(Data(base64Encoded: text) ?? Data())
                    case UInt8(ascii: "q"): bytes = quotedPrintable(text.replacingOccurrences(of: "_", with: " "))
                    default: return nil
                    }
                    return (Array(string(bytes, charset: charset).utf8), index + 2)
                }
                marks.append(index)
            }
            index += 1
        }
        return nil
    }

    /// HTML as text: line breaks for blocks, `>` for blockquotes and Gmail's quote, tags dropped, entities
    /// decoded; linear in the input (`HTMLText`).
    public static func text(fromHTML html: String) -> String { HTMLText.text(html) }
}
