import Foundation

/// HTML as plain text in one pass over the bytes, linear in the input whatever it holds (unclosed tags,
/// thousands of `<style>` blocks, deep nesting): no regular expression, no backtracking. Mail's HTML is
/// read before any token is checked, so anyone who can mail perfbot controls this input.
///
/// Line breaks for `<br>` and the ends of blocks (`p`, `div`, `li`, `tr`, `h1`–`h6`); `<style>` and
/// `<script>` dropped with their content; a `<blockquote>` or Gmail's `gmail_quote` ends the reply
/// (the rest is the quoted original, shown as `> (quoted)`); other tags dropped; entities decoded.
public enum HTMLText {
    /// Text made safe inside HTML elements and quoted attributes.
    public static func escaped(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    static func text(_ html: String) -> String {
        let bytes = Array(html.utf8)
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var index = 0
        // Once a search for `>` has failed, no later `<` can close either: no search is repeated.
        var noMoreClose = false
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "<"), !noMoreClose {
                guard let close = firstIndex(of: UInt8(ascii: ">"), in: bytes, from: index + 1) else {
                    noMoreClose = true
                    output.append(byte)
                    index += 1
                    continue
                }
                let tag = Tag(bytes[(index + 1)..<close])
                index = close + 1
                switch tag.name {
                case "br":
                    output.append(UInt8(ascii: "\n"))
                case "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6":
                    if tag.closing { output.append(UInt8(ascii: "\n")) }
                    if tag.name == "div", !tag.closing, tag.isGmailQuote {
                        output.append(contentsOf: Array("\n> (quoted)".utf8))
                        index = bytes.count
                    }
                case "blockquote" where !tag.closing:
                    output.append(contentsOf: Array("\n> (quoted)".utf8))
                    index = bytes.count
                case "style", "script" where !tag.closing:
                    // Everything up to the matching end tag goes; without one, the rest of the document.
                    index = endOfElement(tag.name, in: bytes, from: index) ?? bytes.count
                default:
                    break
                }
                continue
            }
            if byte == UInt8(ascii: "&"), let (decoded, length) = entity(in: bytes, at: index) {
                output.append(contentsOf: decoded)
                index += length
                continue
            }
            output.append(byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") ? UInt8(ascii: " ") : byte)
            index += 1
        }
        return String(decoding: trimmedLines(output), as: UTF8.self)
    }

    /// Each line without the spaces and tabs around it, and no blank lines at either end, on the bytes (a
    /// String's lines would be walked character by character, grapheme breaking included).
    static func trimmedLines(_ bytes: [UInt8]) -> [UInt8] {
        var result: [UInt8] = []
        result.reserveCapacity(bytes.count)
        func blank(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0xA0 }
        var start = 0
        while start <= bytes.count {
            var end = start
            while end < bytes.count, bytes[end] != 0x0A { end += 1 }
            var low = start, high = end
            while low < high, blank(bytes[low]) { low += 1 }
            while high > low, blank(bytes[high - 1]) { high -= 1 }
            if start > 0 { result.append(0x0A) }
            result.append(contentsOf: bytes[low..<high])
            start = end + 1
        }
        while let first = result.first, first == 0x0A || blank(first) { result.removeFirst() }
        while let last = result.last, last == 0x0A || blank(last) { result.removeLast() }
        return result
    }

    /// A tag's name (lowercased) and whether it closes, read from the bytes between `<` and `>`; only the
    /// names this reader acts on are told apart, the rest read as "".
    struct Tag {
        var name = ""
        var closing = false
        let body: ArraySlice<UInt8>
        static let known = ["br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "style", "script"]
        static let packed: [UInt64: String] = Dictionary(uniqueKeysWithValues: known.map { name in
            (name.utf8.reduce(UInt64(0)) { $0 << 8 | UInt64($1) }, name)
        })

        init(_ body: ArraySlice<UInt8>) {
            self.body = body
            var position = body.startIndex
            if position < body.endIndex, body[position] == UInt8(ascii: "/") {
                closing = true
                position += 1
            }
            // Up to eight bytes of name packed into one integer: no allocation per tag.
            var key: UInt64 = 0, length = 0
            while position < body.endIndex {
                let byte = body[position]
                guard (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39) else { break }
                length += 1
                if length > 10 { return }
                key = key << 8 | UInt64(byte | 0x20)
                position += 1
            }
            name = length <= 8 ? Self.packed[key] ?? "" : Self.longName(body[(body.startIndex + (closing ? 1 : 0))..<position])
        }

        /// `blockquote` is the one name longer than eight bytes.
        static func longName(_ bytes: ArraySlice<UInt8>) -> String {
            bytes.count == 10 && bytes.map { $0 | 0x20 }.elementsEqual("blockquote".utf8) ? "blockquote" : ""
        }

        /// `<div class="gmail_quote …">`.
        var isGmailQuote: Bool {
            let marker = Array("gmail_quote".utf8)
            guard body.count >= marker.count else { return false }
            return firstRange(of: marker, in: body) != nil
        }
    }

    static func firstIndex(of byte: UInt8, in bytes: [UInt8], from start: Int) -> Int? {
        var index = start
        while index < bytes.count {
            if bytes[index] == byte { return index }
            index += 1
        }
        return nil
    }

    static func firstRange(of needle: [UInt8], in haystack: ArraySlice<UInt8>) -> Int? {
        guard let first = needle.first, haystack.count >= needle.count else { return nil }
        var index = haystack.startIndex
        while index + needle.count <= haystack.endIndex {
            if haystack[index] == first, haystack[index..<(index + needle.count)].elementsEqual(needle) { return index }
            index += 1
        }
        return nil
    }

    /// The index after `</name …>` from `start`, case-insensitively; nil when there is none.
    static func endOfElement(_ name: String, in bytes: [UInt8], from start: Int) -> Int? {
        let needle = Array("</\(name)".utf8)
        var index = start
        while index + needle.count <= bytes.count {
            if bytes[index] == UInt8(ascii: "<"), bytes[index + 1] == UInt8(ascii: "/") {
                var matches = true
                for offset in 2..<needle.count where (bytes[index + offset] | 0x20) != needle[offset] {
                    matches = false
                    break
                }
                if matches {
                    return firstIndex(of: UInt8(ascii: ">"), in: bytes, from: index + needle.count).map { $0 + 1 }
                }
            }
            index += 1
        }
        return nil
    }

    static let named: [String: String] = ["nbsp": " ", "lt": "<", "gt": ">", "quot": "\"", "apos": "'", "amp": "&",
                                          "ndash": "–", "mdash": "—", "hellip": "…", "rsquo": "’", "lsquo": "‘",
                                          "rdquo": "”", "ldquo": "“", "eacute": "é", "egrave": "è", "agrave": "à",
                                          "uuml": "ü", "ouml": "ö", "auml": "ä", "szlig": "ß", "ccedil": "ç"]

    /// The entity at `index` (`&amp;`, `&#39;`, `&#x27;`), decoded, and its length; nil when it is none.
    static func entity(in bytes: [UInt8], at index: Int) -> ([UInt8], Int)? {
        var end = index + 1
        while end < bytes.count, end - index <= 10, bytes[end] != UInt8(ascii: ";") {
            let byte = bytes[end]
            // Entities are letters, digits and `#`: anything else ends the search before a String is made.
            guard (byte >= 0x30 && byte <= 0x39) || (byte | 0x20 >= 0x61 && byte | 0x20 <= 0x7A) || byte == 0x23 else { return nil }
            end += 1
        }
        guard end < bytes.count, bytes[end] == UInt8(ascii: ";"), end > index + 1 else { return nil }
        let name = String(decoding: bytes[(index + 1)..<end], as: UTF8.self)
        if name.hasPrefix("#") {
            let digits = name.dropFirst()
            let value = digits.first == "x" || digits.first == "X" ? UInt32(digits.dropFirst(), radix: 16) : UInt32(digits)
            guard let value, let scalar = Unicode.Scalar(value) else { return nil }
            return (Array(String(Character(scalar)).utf8), end - index + 1)
        }
        guard let decoded = named[name.lowercased()] else { return nil }
        return (Array(decoded.utf8), end - index + 1)
    }
}

/// Hostile HTML for the benchmark and the tests: the shapes that made the old regular expressions
/// backtrack, each about `size` bytes.
public enum HostileHTML {
    public static func cases(size: Int = 1 << 20) -> [(name: String, html: String)] {
        func repeated(_ unit: String) -> String { String(repeating: unit, count: max(1, size / unit.utf8.count)) }
        return [
            ("unclosed tags", repeated("<a href=\"x\" ")),
            ("100k <style> blocks", repeated("<style>p{}")),
            ("deep nesting", repeated("<div><blockquote") + repeated("</div>")),
            ("unclosed entities", repeated("&amp&#x41")),
            ("ordinary reply", repeated("<p>Approve, <b>thanks</b>!</p><br>&nbsp;")),
        ]
    }
}
