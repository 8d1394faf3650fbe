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

    /// `=?UTF-8?B?…?=` and `=?ISO-8859-1?Q?…?=` words in a header.
    static func decodeWords(_ value: String) -> String {
        var result = value
        while let start = result.range(of: "=?"), let end = result.range(of: "?=", range: start.upperBound..<result.endIndex) {
            let inner = result[start.upperBound..<end.lowerBound].split(separator: "?", maxSplits: 2).map(String.init)
            guard inner.count == 3 else { break }
            let bytes: [UInt8] = inner[1].uppercased() == "B"
                ? Array(Data(base64Encoded: inner[2]) ?? Data())
                : quotedPrintable(inner[2].replacingOccurrences(of: "_", with: " "))
            result.replaceSubrange(start.lowerBound..<end.upperBound, with: string(bytes, charset: inner[0].lowercased()))
        }
        return result
    }

    /// HTML as text: line breaks for blocks, `>` for blockquotes and Gmail's quote, tags dropped, entities
    /// decoded; linear in the input (`HTMLText`).
    public static func text(fromHTML html: String) -> String { HTMLText.text(html) }
}
