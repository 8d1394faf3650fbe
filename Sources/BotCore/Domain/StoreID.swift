import Foundation

/// The name of a customer's store: lowercase letters, digits and `-`, 1–63 characters,
/// starting with a letter or digit. It is safe to place into an argv element or a path.
public struct StoreID: Hashable, Comparable, Sendable, CustomStringConvertible, Codable {
    /// The validated name.
    public let rawValue: String

    /// Validates `rawValue`; returns nil when it is not a store name.
    public init?(_ rawValue: String) {
        guard StoreID.isValid(rawValue) else { return nil }
        self.rawValue = rawValue
    }

    /// Whether `text` follows the store-name pattern `[a-z0-9][a-z0-9-]{0,62}`.
    public static func isValid(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard (1...63).contains(bytes.count) else { return false }
        for (index, byte) in bytes.enumerated() {
            let isLower = byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")
            let isDigit = byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
            let isDash = byte == UInt8(ascii: "-")
            if !(isLower || isDigit || (isDash && index > 0)) { return false }
        }
        return true
    }

    public var description: String { rawValue }
    public static func < (lhs: StoreID, rhs: StoreID) -> Bool { lhs.rawValue < rhs.rawValue }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let value = StoreID(text) else {
            throw DecodingError.dataCorrupted(.init(
                codingPath: decoder.codingPath,
                debugDescription: "'\(text.prefix(64))' is not a store name (lowercase letters, digits and -)"))
        }
        self = value
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

/// A Slack user id such as `U0ADMIN01` (upper-case letters and digits).
public struct SlackUserID: Hashable, Sendable, CustomStringConvertible {
    /// The validated id.
    public let rawValue: String

    /// Validates `rawValue`; returns nil when it is not a Slack user id.
    public init?(_ rawValue: String) {
        let bytes = Array(rawValue.utf8)
        guard (2...32).contains(bytes.count),
              bytes.allSatisfy({ ($0 >= 65 && $0 <= 90) || ($0 >= 48 && $0 <= 57) })
        else { return nil }
        self.rawValue = rawValue
    }

    public var description: String { rawValue }
}
