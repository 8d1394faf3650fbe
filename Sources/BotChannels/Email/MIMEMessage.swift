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
        // Line ends and the blank line are found in the bytes: one pass each, before any text is made.
        let (headerText, bodyText) = Self.split(Self.withoutCarriageReturns(raw))
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

    /// The headers and the body, apart at the first blank line, each as text.
    static func split(_ bytes: [UInt8]) -> (String, String) {
        var index = 0
        while index + 1 < bytes.count {
            if bytes[index] == 10, bytes[index + 1] == 10 {
                return (latin1OrUTF8(Array(bytes[..<index])), latin1OrUTF8(Array(bytes[(index + 2)...])))
            }
            index += 1
        }
        return (latin1OrUTF8(bytes), "")
    }

    /// `bytes` with every CR of a CRLF dropped.
    static func withoutCarriageReturns(_ bytes: [UInt8]) -> [UInt8] {
        guard bytes.contains(13) else { return bytes }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        for (index, byte) in bytes.enumerated() where !(byte == 13 && index + 1 < bytes.count && bytes[index + 1] == 10) {
            out.append(byte)
        }
        return out
    }

    /// Header lines, folded continuations joined; read as bytes (a header may be a megabyte long).
    static func headers(_ text: String) -> [(String, String)] {
        var headers: [(String, String)] = []
        let bytes = Array(text.utf8)
        func trimmed(_ slice: ArraySlice<UInt8>) -> String {
            var low = slice.startIndex, high = slice.endIndex
            while low < high, slice[low] == 32 || slice[low] == 9 { low += 1 }
            while high > low, slice[high - 1] == 32 || slice[high - 1] == 9 { high -= 1 }
            return String(decoding: slice[low..<high], as: UTF8.self)
        }
        var start = 0
        while start < bytes.count {
            let end = bytes[start...].firstIndex(of: 10) ?? bytes.count
            let line = bytes[start..<end]
            if let first = line.first, first == 32 || first == 9, !headers.isEmpty {
                headers[headers.count - 1].1 += " " + trimmed(line)
            } else if let colon = line.firstIndex(of: UInt8(ascii: ":")) {
                headers.append((trimmed(line[..<colon]), trimmed(line[(colon + 1)...])))
            }
            start = end + 1
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
        quotedPrintable(Array(text.utf8)[...], underscoreIsSpace: false)
    }

    /// Quoted-printable bytes decoded (`=XX`, soft line breaks; `_` as a space in an encoded word).
    static func quotedPrintable(_ input: ArraySlice<UInt8>, underscoreIsSpace: Bool) -> [UInt8] {
        func nibble(_ byte: UInt8) -> UInt8? {
            switch byte {
            case 48...57: byte - 48
            case 65...70: byte - 55
            case 97...102: byte - 87
            default: nil
            }
        }
        var output: [UInt8] = []
        output.reserveCapacity(input.count)
        var index = input.startIndex
        while index < input.endIndex {
            let byte = input[index]
            if byte == UInt8(ascii: "="), index + 1 < input.endIndex {
                if input[index + 1] == 10 { index += 2; continue }  // soft line break
                if index + 2 < input.endIndex, let high = nibble(input[index + 1]), let low = nibble(input[index + 2]) {
                    output.append(high << 4 | low)
                    index += 3
                    continue
                }
            }
            output.append(underscoreIsSpace && byte == UInt8(ascii: "_") ? 32 : byte)
            index += 1
        }
        return output
    }

    /// `=?UTF-8?B?…?=` and `=?ISO-8859-1?Q?…?=` words in a header (RFC 2047; the blanks between two words go).
    /// One pass: a word is at most 256 bytes and holds no blank, so no byte is looked at more than that often.
    static func decodeWords(_ value: String) -> String {
        let input = Array(value.utf8)
        let question = UInt8(ascii: "?"), equals = UInt8(ascii: "=")
        guard input.count > 1, input.indices.dropLast().contains(where: { input[$0] == equals && input[$0 + 1] == question })
        else { return value }
        var output: [UInt8] = []
        output.reserveCapacity(input.count)
        var index = 0
        var pendingBlanks: [UInt8] = []
        var afterWord = false
        while index < input.count {
            if input[index] == equals, index + 1 < input.count, input[index + 1] == question,
               let word = encodedWord(input, at: index) {
                if !afterWord { output += pendingBlanks }
                pendingBlanks.removeAll()
                decode(word, from: input, into: &output)
                index = word.end
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
        // One conversion at the end: what is not valid UTF-8 becomes U+FFFD.
        return String(decoding: output, as: UTF8.self)
    }

    /// The encoded word starting at `start` (`=?charset?B|Q?text?=`), decoded to UTF-8, and the index after it.
    /// Where an encoded word `=?charset?e?text?=` starting at `start` keeps its parts (at most 256 bytes long).
    struct EncodedWord {
        var charset: Range<Int>
        var base64: Bool
        var text: Range<Int>
        /// The index after its `?=`.
        var end: Int
    }

    static func encodedWord(_ input: [UInt8], at start: Int) -> EncodedWord? {
        let limit = min(input.count, start + 256)
        var marks: [Int] = []  // the `?` after the charset, after the encoding, and before `=`
        var index = start + 2
        while index < limit {
            let byte = input[index]
            if byte == 32 || byte == 9 || byte == 10 || byte == 13 { return nil }
            if byte == UInt8(ascii: "?") {
                if marks.count == 2 {
                    guard index + 1 < input.count, input[index + 1] == UInt8(ascii: "="), marks[1] - marks[0] == 2 else { return nil }
                    let kind = input[marks[0] + 1] | 0x20
                    guard kind == UInt8(ascii: "b") || kind == UInt8(ascii: "q") else { return nil }
                    return EncodedWord(charset: (start + 2)..<marks[0], base64: kind == UInt8(ascii: "b"),
                                       text: (marks[1] + 1)..<index, end: index + 2)
                }
                marks.append(index)
            }
            index += 1
        }
        return nil
    }

    /// Appends the word's text, as UTF-8, to `output`: byte by byte, no text made per word, so a header of
    /// thousands of words stays one linear pass.
    static func decode(_ word: EncodedWord, from input: [UInt8], into output: inout [UInt8]) {
        let singleByte = isSingleByte(input[word.charset])
        func append(_ byte: UInt8) {
            if byte < 0x80 || !singleByte { output.append(byte) } else { output += [0xC0 | (byte >> 6), 0x80 | (byte & 0x3F)] }
        }
        if word.base64 {
            for byte in Data(base64Encoded: Data(input[word.text])) ?? Data() { append(byte) }
            return
        }
        var index = word.text.lowerBound
        while index < word.text.upperBound {
            let byte = input[index]
            if byte == UInt8(ascii: "="), index + 2 < word.text.upperBound,
               let high = hexValue(input[index + 1]), let low = hexValue(input[index + 2]) {
                append(high << 4 | low)
                index += 3
                continue
            }
            append(byte == UInt8(ascii: "_") ? 32 : byte)
            index += 1
        }
    }

    @inline(__always) static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 48...57: byte - 48
        case 65...70: byte - 55
        case 97...102: byte - 87
        default: nil
        }
    }

    /// Whether a charset name (`ISO-8859-1`, `windows-1252`, `latin1`) is one byte per character.
    static func isSingleByte(_ charset: ArraySlice<UInt8>) -> Bool {
        func contains(_ needle: StaticString) -> Bool {
            let count = needle.utf8CodeUnitCount
            guard charset.count >= count else { return false }
            return needle.withUTF8Buffer { pattern in
                (charset.startIndex...(charset.endIndex - count)).contains { start in
                    (0..<count).allSatisfy { (charset[start + $0] | 0x20) == pattern[$0] | 0x20 }
                }
            }
        }
        return contains("8859") || contains("1252") || contains("latin")
    }

    /// HTML as text: line breaks for blocks, `>` for blockquotes and Gmail's quote, tags dropped, entities
    /// decoded; linear in the input (`HTMLText`).
    public static func text(fromHTML html: String) -> String { HTMLText.text(html) }
}
