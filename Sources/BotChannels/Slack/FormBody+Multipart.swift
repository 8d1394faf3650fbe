import Foundation

extension FormBody {
    /// Decodes a `multipart/form-data` body (RFC 7578), as Mailgun posts when a message has attachments.
    /// Text fields are kept; file parts (those with a `filename`) are skipped. The first occurrence of a name wins.
    public init(multipart bytes: [UInt8], boundary: String) throws(Malformed) {
        guard !boundary.isEmpty, boundary.utf8.count <= 70 else { throw Malformed(field: "(boundary)") }
        let delimiter = Array(("--" + boundary).utf8)
        var fields: [String: String] = [:]
        var sawClose = false
        for part in Self.split(bytes, on: delimiter) {
            var body = part[...]
            if body.starts(with: [UInt8(ascii: "-"), UInt8(ascii: "-")]) { sawClose = true; break }
            // The delimiter line ends with CRLF (or LF); the part ends with the CRLF that precedes the next delimiter.
            guard let lineEnd = body.firstIndex(of: 10) else { throw Malformed(field: "(part)") }
            body = body[(lineEnd + 1)...]
            if body.last == 10 { body = body.dropLast() }
            if body.last == 13 { body = body.dropLast() }
            guard let (headerBytes, value) = Self.headerSplit(body) else { throw Malformed(field: "(part headers)") }
            let headers = MIMEMessage.headers(String(decoding: headerBytes, as: UTF8.self)
                .replacingOccurrences(of: "\r\n", with: "\n").trimmingCharacters(in: .newlines))
            guard let disposition = headers.first(where: { $0.0.lowercased() == "content-disposition" })?.1,
                  disposition.lowercased().hasPrefix("form-data"),
                  let name = MIMEMessage.parameter("name", in: disposition) else { throw Malformed(field: "(content-disposition)") }
            if MIMEMessage.parameter("filename", in: disposition) != nil { continue }
            guard let text = String(validating: Array(value), as: UTF8.self) else { throw Malformed(field: name) }
            if fields[name] == nil { fields[name] = text }
        }
        guard sawClose else { throw Malformed(field: "(closing boundary)") }
        self.init(fields: fields)
    }

    /// The bytes between occurrences of `delimiter`, the preamble dropped.
    static func split(_ bytes: [UInt8], on delimiter: [UInt8]) -> [ArraySlice<UInt8>] {
        var pieces: [ArraySlice<UInt8>] = []
        var start: Int?
        var index = 0
        let first = delimiter[0]
        while index + delimiter.count <= bytes.count {
            if bytes[index] == first, bytes[index..<(index + delimiter.count)].elementsEqual(delimiter),
               index == 0 || bytes[index - 1] == 10, Self.endsDelimiter(bytes[(index + delimiter.count)...]) {
                if let start { pieces.append(bytes[start..<index]) }
                start = index + delimiter.count
                index += delimiter.count
            } else {
                index += 1
            }
        }
        if let start { pieces.append(bytes[start...]) }
        return pieces
    }

    /// Whether what follows a boundary makes it a delimiter line: `--`, or blanks up to the line's end,
    /// not more characters of a longer boundary.
    static func endsDelimiter(_ rest: ArraySlice<UInt8>) -> Bool {
        if rest.starts(with: [UInt8(ascii: "-"), UInt8(ascii: "-")]) { return true }
        for byte in rest {
            if byte == 13 || byte == 10 { return true }
            if byte != 32 && byte != 9 { return false }
        }
        return true
    }

    /// A part's header block and its body, split at the first empty line.
    static func headerSplit(_ part: ArraySlice<UInt8>) -> (ArraySlice<UInt8>, ArraySlice<UInt8>)? {
        var index = part.startIndex
        while index < part.endIndex {
            if part[index] == 10 {
                let next = part.index(after: index)
                if next < part.endIndex, part[next] == 10 { return (part[..<index], part[(next + 1)...]) }
                if next + 1 < part.endIndex, part[next] == 13, part[next + 1] == 10 { return (part[..<index], part[(next + 2)...]) }
            }
            index += 1
        }
        return nil
    }

    /// Encodes text fields as a multipart/form-data body (for tests and the replay tool).
    public static func encodeMultipart(_ fields: [(String, String)], boundary: String) -> String {
        fields.map { name, value in
            "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n"
        }.joined() + "--\(boundary)--\r\n"
    }
}
