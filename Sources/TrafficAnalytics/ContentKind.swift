/// What a request fetched, from its path: the bandwidth breakdown of ORIGINAL-DESIGN §1.6.
public enum ContentKind: Int, CaseIterable, Codable, Sendable, Comparable {
    case html, image, script, style, font, api, other

    public var name: String {
        switch self {
        case .html: "html"
        case .image: "images"
        case .script: "scripts"
        case .style: "styles"
        case .font: "fonts"
        case .api: "api"
        case .other: "other"
        }
    }

    /// Pages' assets: a client that never fetches one is not a browser.
    public var isAsset: Bool {
        switch self {
        case .image, .script, .style, .font: true
        default: false
        }
    }

    public static func < (lhs: ContentKind, rhs: ContentKind) -> Bool { lhs.rawValue < rhs.rawValue }

    /// The kind of `path` (without its query), with `query` for WooCommerce's `?wc-ajax=`.
    @inlinable
    public static func of(_ line: UnsafeBufferPointer<UInt8>, path: AccessLogLine.Field, query: AccessLogLine.Field) -> ContentKind {
        let start = path.start, end = path.end
        @inline(__always) func lower(_ index: Int) -> UInt8 { line[index] | 0x20 }
        @inline(__always) func hasPrefix(_ text: StaticString) -> Bool {
            let count = text.utf8CodeUnitCount
            guard end - start >= count else { return false }
            let bytes = text.utf8Start
            for offset in 0..<count where line[start + offset] != bytes[offset] { return false }
            return true
        }
        if hasPrefix("/wp-json/") || hasPrefix("/rest/") || hasPrefix("/api/") || hasPrefix("/graphql") {
            return .api
        }
        if query.end - query.start >= 8 {
            // `wc-ajax=` anywhere in the query.
            var index = query.start
            while index + 8 <= query.end {
                if line[index] == 0x77, line[index + 1] == 0x63, line[index + 2] == 0x2D, line[index + 3] == 0x61,
                   line[index + 4] == 0x6A, line[index + 5] == 0x61, line[index + 6] == 0x78, line[index + 7] == 0x3D {
                    return .api
                }
                index += 1
            }
        }
        // The extension: after the last `.` of the last segment.
        var dot = -1
        var index = end - 1
        while index >= start {
            let byte = line[index]
            if byte == 0x2F { break }
            if byte == 0x2E {
                dot = index
                break
            }
            index -= 1
        }
        guard dot >= 0 else { return .html }
        let length = end - dot - 1
        @inline(__always) func ext(_ text: StaticString) -> Bool {
            guard length == text.utf8CodeUnitCount else { return false }
            let bytes = text.utf8Start
            for offset in 0..<length where lower(dot + 1 + offset) != bytes[offset] { return false }
            return true
        }
        switch length {
        case 2:
            if ext("js") { return .script }
        case 3:
            if ext("png") || ext("jpg") || ext("gif") || ext("svg") || ext("ico") || ext("bmp") { return .image }
            if ext("css") { return .style }
            if ext("php") {
                // WordPress's admin-ajax.php answers the storefront's ajax calls.
                return end - start >= 15 && dot - start >= 10 && lower(dot - 10) == 0x61 && lower(dot - 5) == 0x2D ? .api : .html
            }
            if ext("htm") { return .html }
            if ext("ttf") || ext("otf") || ext("eot") { return .font }
            if ext("mjs") { return .script }
        case 4:
            if ext("jpeg") || ext("webp") || ext("avif") { return .image }
            if ext("html") { return .html }
            if ext("woff") { return .font }
            if ext("json") { return .api }
        case 5:
            if ext("woff2") { return .font }
        default:
            break
        }
        return .other
    }
}
