import BotChannels
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

extension HTTPField.Name {
    // Header names made of token characters: the failable initializer cannot fail for these literals.
    static let slackTimestamp = HTTPField.Name("X-Slack-Request-Timestamp")!
    static let slackSignature = HTTPField.Name("X-Slack-Signature")!
    static let slackRetryNum = HTTPField.Name("X-Slack-Retry-Num")!
    static let idempotencyKey = HTTPField.Name("Idempotency-Key")!
}

extension Request {
    /// The body, refused with 413 past `limit` bytes (by Content-Length at once, else while reading).
    func boundedBody(limit: Int) async throws -> [UInt8] {
        if let declared = headers[.contentLength].flatMap(Int.init), declared > limit { throw APIError.tooLarge }
        do {
            var buffer = try await body.collect(upTo: limit)
            return buffer.readBytes(length: buffer.readableBytes) ?? []
        } catch is NIOTooManyBytesError {
            throw APIError.tooLarge
        }
    }

    /// Throws 415 unless the media type is `expected` (parameters such as charset are ignored).
    func requireMediaType(_ expected: String) throws {
        guard let value = headers[.contentType], Self.mediaType(value) == expected else {
            throw APIError.unsupportedMediaType(expected: expected)
        }
    }

    /// `Application/JSON; charset=utf-8` → `application/json`: before any parameter, without spaces or tabs around,
    /// lowercased (ASCII only, as media types are).
    static func mediaType(_ value: String) -> String {
        let bytes = value.utf8.prefix { $0 != UInt8(ascii: ";") }
        let isBlank = { (byte: UInt8) in byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
        let trimmed = bytes.drop(while: isBlank).reversed().drop(while: isBlank).reversed()
        return String(decoding: trimmed.map { (0x41...0x5a).contains($0) ? $0 + 0x20 : $0 }, as: UTF8.self)
    }
}
