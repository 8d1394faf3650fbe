import BotCore
import Crypto
import Foundation

/// The one-time secret in a proposal's reply address (`approve+<token>@…`): 160 random bits in
/// lowercase base32; perfbot keeps only its SHA-256.
public enum ApprovalToken {
    /// A new token.
    public static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        return Base32.encode((0..<20).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }

    /// What is stored: the hex SHA-256 of the lowercased token.
    public static func hash(_ token: String) -> String {
        Hex.encode(Array(SHA256.hash(data: Data(token.lowercased().utf8))))
    }
}
