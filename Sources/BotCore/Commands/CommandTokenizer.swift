import Foundation

/// Splits command text into words, honouring straight and curly double quotes.
public enum CommandTokenizer {
    /// Words of `text`; Slack's `<@U…>` mentions and `<url|label>` links become their label.
    public static func words(_ text: String) -> [String] {
        var words: [String] = []
        var current = ""
        var inQuotes = false
        var hasWord = false
        for character in unescapeSlack(text) {
            if character == "\"" || character == "“" || character == "”" {
                inQuotes.toggle()
                hasWord = true
            } else if character.isWhitespace && !inQuotes {
                if hasWord { words.append(current) }
                current = ""
                hasWord = false
            } else {
                current.append(character)
                hasWord = true
            }
        }
        if hasWord { words.append(current) }
        return words
    }

    /// Slack escapes `&`, `<`, `>` and wraps links as `<http://x|x>`; undo both.
    static func unescapeSlack(_ text: String) -> String {
        var output = ""
        var rest = Substring(text)
        while let open = rest.firstIndex(of: "<") {
            output += rest[..<open]
            guard let close = rest[open...].firstIndex(of: ">") else {
                rest = rest[open...]
                break
            }
            let inner = rest[rest.index(after: open)..<close]
            if let bar = inner.firstIndex(of: "|") {
                output += inner[inner.index(after: bar)...]
            } else if inner.hasPrefix("http") || inner.hasPrefix("mailto:") {
                output += inner
            } else {
                output += "<\(inner)>"
            }
            rest = rest[rest.index(after: close)...]
        }
        output += rest
        return output
            .replacingOccurrences(of: "&lt;", with: "<")
            .replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&amp;", with: "&")
    }
}
