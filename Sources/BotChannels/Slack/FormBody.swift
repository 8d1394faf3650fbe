import Foundation

/// A decoded `application/x-www-form-urlencoded` body.
public struct FormBody: Sendable, Equatable {
    public private(set) var fields: [String: String]

    /// A field that is not valid form encoding.
    public struct Malformed: Error, Equatable {
        public let field: String
        public init(field: String) { self.field = field }
    }

    /// Decodes `bytes`; the first occurrence of a repeated name wins.
    public init(_ bytes: [UInt8]) throws(Malformed) {
        var fields: [String: String] = [:]
        for pair in bytes.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) {
            let parts = pair.split(separator: UInt8(ascii: "="), maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = Self.unescape(parts[0]) else { throw Malformed(field: "(name)") }
            guard let value = Self.unescape(parts.count > 1 ? parts[1] : []) else { throw Malformed(field: name) }
            if fields[name] == nil { fields[name] = value }
        }
        self.fields = fields
    }

    init(fields: [String: String]) { self.fields = fields }

    public subscript(_ name: String) -> String? { fields[name] }

    static func unescape(_ bytes: some Collection<UInt8>) -> String? {
        var out = [UInt8]()
        out.reserveCapacity(bytes.count)
        var iterator = bytes.makeIterator()
        while let byte = iterator.next() {
            switch byte {
            case UInt8(ascii: "+"): out.append(UInt8(ascii: " "))
            case UInt8(ascii: "%"):
                guard let high = iterator.next(), let low = iterator.next(),
                      let value = Hex.decode(String(decoding: [high, low], as: UTF8.self))?.first else { return nil }
                out.append(value)
            default: out.append(byte)
            }
        }
        return String(validating: out, as: UTF8.self)
    }

    /// Encodes fields as a form body (for tests and the replay tool).
    public static func encode(_ fields: [(String, String)]) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return fields.map { name, value in
            let n = name.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
            let v = value.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
            return "\(n)=\(v)"
        }.joined(separator: "&")
    }
}
